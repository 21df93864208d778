/**
 * The rows an import did not import, downloaded from the web: a CSV with the file's own
 * header after `importRow` and `importReason`, every such row in full. A completed import
 * with skipped rows offers it; so does a failed one, the file refused by its check
 * (every row, the refused ones with their reason) or failing after a committed batch
 * (the rows skipped before, then every row from the failed batch on), with "Download the
 * N rows that were not imported" beside "Import a corrected file" on its page. Corrected,
 * that CSV imports as it is, its parentIds finding the rows the failed import committed.
 * Who may download it is who may see the job.
 */
import { expect } from 'chai';
import { parse } from 'csv-parse/sync';
import { createToken } from '../../app/store/tokens.js';
import type { Job } from '../../app/types.js';
import { Worker } from '../../workers/worker.js';
import { backends, exportEnv, requireService, jobEnded } from '../helpers.js';
import { Client, loggedIn, startWeb, type Web } from './web-fixture.js';

const seen = new Set<string>();
const targets = backends().filter((b) => b.transport === 'db' && !seen.has(b.db) && seen.add(b.db));

const HEADER = 'legacyId,parentId,qubitParentSlug,title,scopeAndContent';

for (const backend of targets) {
  describe(`the rows not imported, downloaded from the web, on ${backend.name}`, function () {
    this.timeout(120_000);
    let web: Web;
    let worker: Worker;
    let alice: Client;
    let bob: Client;
    let restoreEnv: (() => void) | undefined;

    async function finished(id: number): Promise<Job> {
      return jobEnded(web.ctx.db, id, 90_000);
    }

    /** Imports `csv` through the upload form as alice, under the name `name`; the finished job. */
    async function upload(csv: string, name: string, fields: Record<string, string>): Promise<Job> {
      const form = new FormData();
      form.append('file', new Blob([csv], { type: 'text/csv' }), name);
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      await alice.get('/descriptions/import');
      const cookie = [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const r = await fetch(`${web.base}/descriptions/import?_csrf=${encodeURIComponent(alice.csrf)}`, {
        method: 'POST',
        body: form,
        headers: { cookie },
        redirect: 'manual',
      });
      expect(r.status, (await r.text()).slice(0, 300)).to.equal(303);
      return finished(Number(/^\/jobs\/(\d+)$/.exec(r.headers.get('location') ?? '')![1]));
    }

    /** The job's CSV as alice downloads it from its page's link. */
    async function download(job: Job): Promise<string[][]> {
      const r = await alice.get(`/jobs/${job.id}/download`);
      expect(r.status, r.text.slice(0, 300)).to.equal(200);
      expect(r.headers.get('content-type')).to.match(/^text\/csv/);
      expect(r.headers.get('content-disposition')).to.include(job.resultName!);
      return parse(r.text) as string[][];
    }

    const csvOf = (lines: string[]) => `${[HEADER, ...lines].join('\n')}\n`;
    const row = (i: number, extra: Partial<Record<'legacyId' | 'parentId' | 'slug' | 'title', string>> = {}) =>
      `${extra.legacyId ?? `R${i}`},${extra.parentId ?? ''},${extra.slug ?? ''},${extra.title ?? `Row ${i}`},"Scope of ${i}, in full"`;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      web = await startWeb(backend);
      restoreEnv = exportEnv(web.env.env, ['DATABASE_URL', 'DOCKET_RESULTS_DIR', 'DOCKET_JOB_LOG_DIR']);
      worker = new Worker(web.ctx.service, web.ctx.transport, { concurrency: 1, abilities: ['csv-import'] });
      await worker.start();
      alice = await loggedIn(web.base, 'alice');
      bob = await loggedIn(web.base, 'bob');
    });

    after(async () => {
      await worker?.stop(5000);
      await web?.close();
      restoreEnv?.();
    });

    let first: Job;

    it('offers a completed import\'s skipped rows, in full with their reason', async () => {
      const lines: string[] = [];
      for (let i = 1; i <= 600; i++) lines.push(i === 300 ? row(i, { slug: 'no-such-slug' }) : row(i));
      first = await upload(csvOf(lines), 'tree.csv', { update: 'none', onError: 'skip' });
      expect(first.status, first.error ?? '').to.equal('completed');
      expect(first.resultSummary).to.equal('600 rows: 599 created, 0 updated, 1 skipped (1 with errors)');
      expect(await download(first)).to.deep.equal([
        ['importRow', 'importReason', ...HEADER.split(',')],
        ['300', 'qubitParentSlug "no-such-slug" matches no description', 'R300', '', 'no-such-slug', 'Row 300', 'Scope of 300, in full'],
      ]);
      const page = await alice.get(`/jobs/${first.id}`);
      expect(page.text).to.include(`<a href="/jobs/${first.id}/download">Download tree-not-imported.csv</a>`);
    });

    it('offers a failed import\'s rows, refused by the check: every row, the refused ones with their reason', async () => {
      const csv = csvOf([
        row(1, { legacyId: 'A' }),
        row(2, { legacyId: 'B', parentId: 'A' }),
        row(3, { legacyId: 'C', parentId: 'ghost' }),
        row(4, { legacyId: 'D', parentId: 'ghost' }),
        row(5, { legacyId: 'E', slug: 'no-such-slug' }),
      ]);
      const job = await upload(csv, 'refused.csv', { update: 'none', onError: 'fail' });
      expect(job.status).to.equal('failed');
      expect(job.failureKind).to.equal('input');
      expect(job.error).to.include('The file was not imported (nothing was written)');
      expect(job.resultSummary).to.equal('5 rows not imported (5 from row 1 on)');
      const ghost = 'parentId "ghost" matches no earlier row of this file (legacyId) and no description imported from "refused.csv"';
      const refused = 'not imported: the file was refused for the rows whose parent is missing';
      expect(await download(job)).to.deep.equal([
        ['importRow', 'importReason', ...HEADER.split(',')],
        ['1', refused, 'A', '', '', 'Row 1', 'Scope of 1, in full'],
        ['2', refused, 'B', 'A', '', 'Row 2', 'Scope of 2, in full'],
        ['3', ghost, 'C', 'ghost', '', 'Row 3', 'Scope of 3, in full'],
        ['4', ghost, 'D', 'ghost', '', 'Row 4', 'Scope of 4, in full'],
        ['5', 'qubitParentSlug "no-such-slug" matches no description', 'E', '', 'no-such-slug', 'Row 5', 'Scope of 5, in full'],
      ]);
      const page = await alice.get(`/jobs/${job.id}`);
      expect(page.text).to.include('Import a corrected file');
      expect(page.text).to.include(`id="not-imported" href="/jobs/${job.id}/download" download>Download the 5 rows that were not imported</a>`);

      // The API offers it under the same permissions: alice's token downloads it, bob's gets a 404.
      const api = new Client(web.base, await createToken(web.ctx.db, web.users.alice.id, 'rejects test'));
      const shown = (await api.get(`/api/jobs/${job.id}`)).json<{ job: { download: string | null; resultName: string } }>().job;
      expect(shown.download).to.equal(`/api/jobs/${job.id}/download`);
      expect(shown.resultName).to.equal('refused-not-imported.csv');
      const got = await api.get(shown.download!);
      expect(got.status).to.equal(200);
      expect((parse(got.text) as string[][]).length).to.equal(6);
      expect((await bob.get(`/jobs/${job.id}/download`)).status).to.equal(404);
      const bobApi = new Client(web.base, await createToken(web.ctx.db, web.users.bob.id, 'rejects test'));
      expect((await bobApi.get(`/api/jobs/${job.id}/download`)).status).to.equal(404);
    });

    it('offers a failed import\'s rows after a committed batch: those skipped before, then every row from the failed batch on', async () => {
      // An update of tree.csv: row 401 matches nothing (skipped), row 650 names its own
      // matched description as its parent (fails, after the first batch of 500 committed).
      const lines: string[] = [];
      for (let i = 1; i <= 800; i++) {
        if (i === 401) lines.push(row(i, { legacyId: 'N401' }));
        else if (i === 650) lines.push(row(i, { legacyId: 'R5', parentId: 'R5' }));
        else if (i === 700) lines.push(row(i, { parentId: 'R1' }));
        else lines.push(row(i, { title: `Row ${i} updated` }));
      }
      const job = await upload(csvOf(lines), 'tree.csv', { update: 'match-and-update', skipUnmatched: 'true', onError: 'fail' });
      expect(job.status).to.equal('failed');
      expect(job.error).to.match(/^Row 650: its parent is the matched description \d+ itself or one of its descendants\. The import stopped there, and rows 501–800 were rolled back\. The 500 rows before were committed/);
      const got = await download(job);
      expect(got[0]).to.deep.equal(['importRow', 'importReason', ...HEADER.split(',')]);
      const rows = got.slice(1);
      // The skipped rows (R300 was never imported, so it matches nothing either), then 501–800.
      expect(rows.map((r) => Number(r[0]))).to.deep.equal([300, 401, ...Array.from({ length: 300 }, (_, k) => 501 + k)]);
      expect(rows[0][1]).to.equal('matches no description, skipped (--skip-unmatched)');
      expect(rows[1].slice(2)).to.deep.equal(['N401', '', '', 'Row 401', 'Scope of 401, in full']);
      expect(rows[2][1]).to.equal('rolled back: row 650 failed, and the rows of its batch before it were undone');
      const failedRow = rows.find((r) => r[0] === '650')!;
      expect(failedRow[1]).to.match(/^its parent is the matched description \d+ itself or one of its descendants$/);
      expect(failedRow.slice(2)).to.deep.equal(['R5', 'R5', '', 'Row 650', 'Scope of 650, in full']);
      expect(rows.find((r) => r[0] === '651')![1]).to.equal('not imported: the import stopped at row 650');
      expect(job.resultSummary).to.equal('302 rows not imported (2 skipped, 300 from row 501 on)');
      const page = await alice.get(`/jobs/${job.id}`);
      expect(page.text).to.include(`>Download the 302 rows that were not imported</a>`);
      expect(page.text).to.include(`href="/descriptions/import?corrects=${job.id}"`);

      // Corrected (row 650 without its parent, row 300 without its slug) and imported as it is, as the correction of
      // that job: its rows join the same source, row 700 under R1, which the first import made.
      const fixed = got.map((r) => (r[0] === '650' ? [...r.slice(0, 3), '', ...r.slice(4)] : r[0] === '300' ? [...r.slice(0, 4), '', ...r.slice(5)] : r));
      const text = fixed.map((r) => r.map((c) => `"${c.replace(/"/g, '""')}"`).join(',')).join('\n');
      const again = await upload(text, 'tree-not-imported.csv', { update: 'match-and-update', onError: 'fail', corrects: String(job.id) });
      expect(again.status, again.error ?? '').to.equal('completed');
      expect(again.params.sourceName).to.equal('tree.csv');
      const r700 = (await web.ctx.db('descriptions').where({ title: 'Row 700' }).first()) as { parent_id: number };
      const r1 = (await web.ctx.db('descriptions').where({ title: 'Row 1 updated' }).first()) as { id: number };
      expect(Number(r700.parent_id)).to.equal(Number(r1.id));
    });
  });
}
