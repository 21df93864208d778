import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../app/errors.js';
import { getTask, listTasks } from '../../app/tasks/index.js';
import { importTaskModule } from '../../app/tasks/extra.js';
import { FAULT_TASKS_MODULE } from '../faults/tasks.js';

describe('task catalogue', () => {
  it('holds the production tasks, and not the fault suite\'s', () => {
    const names = listTasks().map((t) => t.name);
    for (const n of ['noop', 'sleep', 'print', 'finding-aid', 'csv-import', 'csv-export', 'publication-status', 'move']) {
      expect(names).to.include(n);
    }
    for (const n of ['fault-probe', 'flaky', 'time-limited', 'exclusive']) expect(names).to.not.include(n);
    // Specs only: a handler is a worker's business.
    expect(listTasks().filter((t) => 'run' in t).map((t) => t.name)).to.deep.equal([]);
  });

  it('lets csv-import own its upload, and only an upload', () => {
    const results = '/srv/docket/results';
    const files = getTask('csv-import')!.files!;
    expect(files({ file: '/srv/docket/results/uploads/ab12.csv' }, results)).to.deep.equal(['/srv/docket/results/uploads/ab12.csv']);
    // A command-line import names the administrator's own file, which is never removed.
    expect(files({ file: '/home/admin/fonds.csv' }, results)).to.deep.equal([]);
    expect(files({ file: '/srv/docket/results/uploads' }, results)).to.deep.equal([]);
    expect(files({ file: '/srv/docket/results/uploads/../secret.csv' }, results)).to.deep.equal([]);
    expect(files({}, results)).to.deep.equal([]);
    expect(getTask('csv-export')!.files).to.equal(undefined);
  });

  describe('extra task modules (DOCKET_EXTRA_TASKS)', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), 'docket-extra-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('loads the fault suite\'s tasks, each with its handler', async () => {
      const tasks = await importTaskModule(FAULT_TASKS_MODULE);
      expect(tasks.map((t) => t.name)).to.deep.equal(['fault-probe', 'flaky', 'time-limited', 'exclusive']);
      expect(tasks.every((t) => typeof (t as { run?: unknown }).run === 'function')).to.equal(true);
    });

    it('names the module and what is wrong with it', async () => {
      const missing = join(dir, 'missing.mjs');
      const err1 = await importTaskModule(missing).catch((e: Error) => e);
      expect(err1).to.be.instanceOf(ConfigError);
      expect((err1 as Error).message).to.match(/^DOCKET_EXTRA_TASKS: cannot load .*missing\.mjs/);
      const bad = join(dir, 'bad.mjs');
      writeFileSync(bad, 'export const tasks = [{ title: "no name" }];\n');
      const err2 = await importTaskModule(bad).catch((e: Error) => e);
      expect((err2 as Error).message).to.equal(`DOCKET_EXTRA_TASKS: ${bad} must export "tasks", an array of task definitions`);
    });
  });
});
