import { expect } from 'chai';
import { stringify } from 'csv-stringify/sync';
import { csvField, csvLine, formatDate, jobInfo, jobUser, safeCell } from '../../app/export.js';
import type { ExportJob } from '../../app/store/job-list.js';
import { STATUS_LABELS } from '../../app/types.js';

describe('CSV history export', () => {
  it('quotes exactly as csv-stringify does with its defaults, also for awkward text', () => {
    const alphabet = ['a', 'Z', ' ', ',', '"', "'", '\n', '\r', '\t', '=', '+', '-', '@', ';', 'é', '→', '\uFF1D', '😀'];
    let seed = 42;
    const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const text = (): string => Array.from({ length: rnd(8) }, () => alphabet[rnd(alphabet.length)]).join('');
    for (let i = 0; i < 3000; i++) {
      const v = text();
      expect(csvField(v), JSON.stringify(v)).to.equal(stringify([[v]]).slice(0, -1));
      const status = (['failed', 'completed', 'running', 'cancelled', 'queued'] as const)[rnd(5)];
      const j: ExportJob = {
        id: 1 + rnd(1e6),
        task: text() || 'noop',
        status,
        username: rnd(2) ? text() || null : null,
        queuedAt: Date.UTC(2026, 0, 1) + rnd(1e9),
        startedAt: rnd(2) ? Date.UTC(2026, 0, 2) + rnd(1e9) : null,
        finishedAt: rnd(2) ? Date.UTC(2026, 0, 3) + rnd(1e9) : null,
        progressText: rnd(2) ? text() : null,
        resultSummary: rnd(2) ? text() : null,
        error: rnd(2) ? text() : null,
        group: rnd(2) ? { id: 1 + rnd(1000), name: text() } : null,
      };
      const record = [
        formatDate(j.startedAt),
        formatDate(j.finishedAt),
        safeCell(j.task),
        STATUS_LABELS[j.status],
        safeCell(jobInfo(j)),
        safeCell(jobUser(j)),
        String(j.id),
        formatDate(j.queuedAt),
        j.group ? String(j.group.id) : '',
        j.group ? safeCell(j.group.name) : '',
      ];
      expect(csvLine(j)).to.equal(stringify([record]));
    }
  });

  it('leaves ordinary text alone', () => {
    expect(safeCell('printed 5 lines')).to.equal('printed 5 lines');
    expect(safeCell('-1 rows')).to.equal("'-1 rows");
    expect(safeCell('@sum')).to.equal("'@sum");
  });
});
