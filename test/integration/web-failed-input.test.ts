/**
 * A job that failed on its own input (a CSV file refused for its content, a description
 * that does not exist) is never retried: no Retry on its page, bulk retry and "retry all
 * failed" leave it with a count in words, the API answers 409 and the command line exits
 * 1. Its page says what to do instead, and a failed import offers "Import a corrected
 * file": the upload form with the same options, whose new job records the one it corrects.
 * A failure a retry may get past (a lost worker, a crash) keeps Retry.
 */
import { expect } from 'chai';
import { getJob } from '../../app/store/jobs.js';
import { createToken } from '../../app/store/tokens.js';
import type { Job } from '../../app/types.js';
import { Worker } from '../../workers/worker.js';
import { backends, exportEnv, requireService, jobEnded } from '../helpers.js';
import { Client, ECHO_TASK, failed, loggedIn, startWeb, type Web } from './web-fixture.js';

const seen = new Set<string>();
const targets = backends().filter((b) => b.transport === 'db' && !seen.has(b.db) && seen.add(b.db));

/** A header this import does not know, refused with "strict". */
const BAD_HEADER = 'legacyId,parentId,identifier,title,levelOfDescription,colour\n1,,F1,Refused fonds,Fonds,blue\n';
const GOOD = 'legacyId,parentId,identifier,title,levelOfDescription\n1,,F1,Corrected fonds,Fonds\n';

for (const backend of targets) {
  describe(`failed on its input, not retried, corrected instead, on ${backend.name}`, function () {
    this.timeout(60_000);
    let web: Web;
    let worker: Worker;
    let alice: Client;
    let admin: Client;
    let refused: Job;
    let restoreEnv: (() => void) | undefined;

    async function finished(id: number): Promise<Job> {
      return jobEnded(web.ctx.db, id, 30_000);
    }

    /** Uploads a CSV through the import form as `c`, with these fields; the reply unread. */
    async function upload(c: Client, csv: string, name: string, fields: Record<string, string>): Promise<Response> {
      const form = new FormData();
      form.append('file', new Blob([csv], { type: 'text/csv' }), name);
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      await c.get('/descriptions/import');
      const cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      return fetch(`${web.base}/descriptions/import?_csrf=${encodeURIComponent(c.csrf)}`, {
        method: 'POST',
        body: form,
        headers: { cookie },
        redirect: 'manual',
      });
    }

    async function importJob(r: Response): Promise<Job> {
      expect(r.status, (await r.text()).slice(0, 300)).to.equal(303);
      return finished(Number(/^\/jobs\/(\d+)$/.exec(r.headers.get('location') ?? '')![1]));
    }

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      web = await startWeb(backend);
      restoreEnv = exportEnv(web.env.env, ['DATABASE_URL', 'DOCKET_RESULTS_DIR', 'DOCKET_JOB_LOG_DIR']);
      // The imports and exports only: the other failed jobs here are made by hand.
      worker = new Worker(web.ctx.service, web.ctx.transport, { concurrency: 1, abilities: ['csv-import', 'csv-export'] });
      await worker.start();
      alice = await loggedIn(web.base, 'alice');
      admin = await loggedIn(web.base, 'admin');
    });

    after(async () => {
      await worker?.stop(5000);
      await web?.close();
      restoreEnv?.();
    });

    it('marks an import refused for its content as failed on its input, after one attempt', async () => {
      refused = await importJob(
        await upload(alice, BAD_HEADER, 'fonds.csv', { update: 'match-and-update', skipUnmatched: 'true', onError: 'fail', strict: 'true', limit: '' }),
      );
      expect(refused.status).to.equal('failed');
      expect(refused.error).to.match(/The file was not imported/);
      expect(refused.error).to.include('colour');
      expect(refused.failureKind).to.equal('input');
      expect(refused.attempt).to.equal(1);
    });

    it('offers no Retry on its page, and says what to do in words with "Import a corrected file"', async () => {
      const page = await alice.get(`/jobs/${refused.id}`);
      expect(page.status).to.equal(200);
      expect(page.text).to.not.include(`action="/jobs/${refused.id}/retry"`);
      expect(page.text).to.include('id="what-to-do"');
      expect(page.text).to.include('importing it again would fail the same way');
      expect(page.text).to.include('correct what the error above names');
      expect(page.text).to.not.match(/README/i);
      expect(page.text).to.include(`href="/descriptions/import?corrects=${refused.id}"`);
      expect(page.text).to.include('Import a corrected file');
      // Nor in the list.
      const list = await alice.get('/jobs?tab=failed');
      expect(list.text).to.not.include(`action="/jobs/${refused.id}/retry"`);
      expect(list.text).to.include(`href="/descriptions/import?corrects=${refused.id}" aria-label="Correct job ${refused.id}: import a corrected file">Correct</a>`);
    });

    it('refuses its retry on the web (409), in the API (409 with the reason) and in the service', async () => {
      await alice.get(`/jobs/${refused.id}`);
      const web409 = await alice.post(`/jobs/${refused.id}/retry`);
      expect(web409.status).to.equal(409);
      expect(web409.text).to.include('the same input would fail again');
      const token = await createToken(web.ctx.db, web.users.alice.id, 'retry test');
      const api = new Client(web.base, token);
      const r = await api.request('POST', `/api/jobs/${refused.id}/retry`);
      expect(r.status).to.equal(409);
      expect(r.json<{ error: { message: string } }>().error.message).to.match(/cannot be retried: its input was refused: the same input would fail again/);
      const shown = await api.get(`/api/jobs/${refused.id}`);
      expect(shown.json<{ job: { failureKind: string } }>().job.failureKind).to.equal('input');
      expect((await getJob(web.ctx.db, refused.id))!.status).to.equal('failed');
    });

    it('leaves it out of a bulk retry and of "retry all failed", with the count in words', async () => {
      const lost = await failed(web.ctx, web.users.alice, 'its worker was lost', ECHO_TASK);
      await alice.get('/jobs');
      const bulk = await alice.post('/jobs/bulk', { action: 'retry', id: [String(refused.id), String(lost.id)], back: '/jobs' });
      expect(bulk.status).to.equal(303);
      const flashed = (await alice.get('/jobs')).text;
      expect(flashed).to.include('1 job retried; 1 could not be (it failed on its input, which would only fail again).');
      expect((await getJob(web.ctx.db, lost.id))!.status).to.be.oneOf(['queued', 'running', 'completed', 'failed']);
      expect((await getJob(web.ctx.db, lost.id))!.attempt).to.be.at.least(1);

      const confirm = await admin.get('/jobs/failed-all?action=retry');
      expect(confirm.text).to.include('id="failed-on-input"');
      expect(confirm.text).to.match(/1 other failed job stays: it failed on its input/);
      const done = await admin.post('/jobs/failed-all', { action: 'retry', confirm: 'yes', back: '/jobs?tab=failed' });
      expect(done.status).to.equal(303);
      const after = (await admin.get('/jobs?tab=failed')).text;
      expect(after).to.match(/\d+ jobs? retried; 1 could not be \(it failed on its input, which would only fail again\)\./);
      const token = await createToken(web.ctx.db, web.users.admin.id, 'bulk test');
      const api = await new Client(web.base, token).request('POST', '/api/jobs/bulk', { json: { action: 'retry', all: 'failed' } });
      expect(api.status).to.equal(200);
      expect(api.json<{ skipped: unknown[] }>().skipped).to.deep.include({ id: refused.id, reason: 'failed on its input, which would only fail again' });
      expect((await getJob(web.ctx.db, refused.id))!.status).to.equal('failed');
    });

    it('keeps Retry for a failure a retry may get past', async () => {
      const crashed = await failed(web.ctx, web.users.alice, "the job's process was killed by SIGKILL", ECHO_TASK);
      expect(crashed.failureKind).to.equal(null);
      const page = await alice.get(`/jobs/${crashed.id}`);
      expect(page.text).to.include(`action="/jobs/${crashed.id}/retry"`);
      expect(page.text).to.not.include('id="what-to-do"');
    });

    it('opens the upload form with the failed job’s options, and its new job records what it corrects', async () => {
      const form = await alice.get(`/descriptions/import?corrects=${refused.id}`);
      expect(form.status).to.equal(200);
      expect(form.text).to.include(`Import a corrected file for job ${refused.id}`);
      expect(form.text).to.include('id="correcting"');
      expect(form.text).to.include('fonds.csv');
      expect(form.text).to.include(`<input type="hidden" name="corrects" value="${refused.id}">`);
      expect(form.text).to.match(/id="update-match-and-update" value="match-and-update" checked/);
      expect(form.text).to.match(/id="skipUnmatched" value="true" checked/);
      expect(form.text).to.match(/id="onError-fail" value="fail" checked/);
      expect(form.text).to.match(/id="strict" value="true" checked/);
      expect(form.text).to.not.match(/README/i);

      const fixed = await importJob(
        await upload(alice, GOOD, 'fonds.csv', {
          update: 'match-and-update',
          skipUnmatched: '',
          onError: 'fail',
          strict: 'true',
          corrects: String(refused.id),
        }),
      );
      expect(fixed.status, fixed.error ?? '').to.equal('completed');
      expect(fixed.params.corrects).to.equal(refused.id);
      expect(fixed.params.strict).to.equal(true);
      const token = await createToken(web.ctx.db, web.users.alice.id, 'corrects test');
      const shown = await new Client(web.base, token).get(`/api/jobs/${fixed.id}`);
      expect(shown.json<{ job: { corrects: unknown } }>().job.corrects).to.deep.equal({ id: refused.id, link: `/api/jobs/${refused.id}` });
      const page = await alice.get(`/jobs/${fixed.id}`);
      expect(page.text).to.match(new RegExp(`id="job-corrects"><a href="/jobs/${refused.id}">Job ${refused.id}</a>`));
    });

    it('refuses to correct a job that is not an import, or one of another user', async () => {
      const other = await failed(web.ctx, web.users.bob, 'bob’s', ECHO_TASK);
      expect((await alice.get(`/descriptions/import?corrects=${other.id}`)).status).to.equal(404);
      const mine = await failed(web.ctx, web.users.alice, 'not an import', ECHO_TASK);
      const r = await alice.get(`/descriptions/import?corrects=${mine.id}`);
      expect(r.status).to.equal(400);
      expect(r.text).to.include('is not a CSV import');
    });

    it('refuses the retry of a job whose description does not exist, and fills the new job form with its parameters', async () => {
      const { job } = await web.ctx.service.enqueue({
        task: 'csv-export',
        params: { description: 'no-such-description' },
        user: web.users.alice,
        origin: 'api',
      });
      const gone = await finished(job.id);
      expect(gone.status).to.equal('failed');
      expect(gone.failureKind).to.equal('input');
      let refusedRetry = '';
      await web.ctx.service.retry(gone.id, 'alice').catch((err: Error) => (refusedRetry = err.message));
      expect(refusedRetry).to.include(`job ${gone.id} cannot be retried`);
      const page = await alice.get(`/jobs/${gone.id}`);
      expect(page.text).to.include('Its input was refused');
      expect(page.text).to.include(`href="/jobs/new?task=csv-export&amp;from=${gone.id}"`);
      const form = await alice.get(`/jobs/new?task=csv-export&from=${gone.id}`);
      expect(form.text).to.include('value="no-such-description"');
    });
  });
}
