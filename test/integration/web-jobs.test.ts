/**
 * The jobs pages for every role: archivist A (alice), archivist B (bob), the
 * administrator and anonymous visitors. Who sees, exports, cancels, retries, downloads
 * and clears what; the tabs, filters and keyset pages; escaping.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { insertJob } from '../../app/store/jobs.js';
import { registerWorker, stopWorker } from '../../app/store/workers.js';
import type { Job } from '../../app/types.js';
import { QUEUE_STATE_TTL_MS } from '../../app/web/jobs-query.js';
import { backends, requireService } from '../helpers.js';
import {
  Client,
  ECHO_TASK,
  cancelled,
  completed,
  failed,
  loggedIn,
  queued,
  rowIds,
  running,
  startWeb,
  type Web,
} from './web-fixture.js';

const XSS_TASK = '<img src=x onerror=alert(1)>';
const XSS_ERROR = '<script>alert("error")</script> went wrong';

for (const backend of backends()) {
  describe(`web: the jobs pages on ${backend.name}`, function () {
    this.timeout(60_000);
    let web: Web;
    let alice: Client;
    let bob: Client;
    let admin: Client;
    const a: Record<string, Job> = {};
    const b: Record<string, Job> = {};
    const cli: Record<string, Job> = {};
    let xssJobId: number;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      if (backend.transport === 'amqp') await requireService(this, 'amqp');
      web = await startWeb(backend);
      const { ctx, users } = web;
      a.queued = await queued(ctx, users.alice);
      a.running = await running(ctx, users.alice);
      a.completed = await completed(ctx, users.alice, {
        summary: '34 rows exported',
        file: { stored: 'alice-result.csv', downloadName: 'Fonds "A" export.csv', content: 'identifier,title\nF1,Fonds A\n' },
      });
      a.failed = await failed(ctx, users.alice, XSS_ERROR, ECHO_TASK);
      a.cancelled = await cancelled(ctx, users.alice);
      b.queued = await queued(ctx, users.bob);
      b.failed = await failed(ctx, users.bob, 'bob broke it');
      b.completed = await completed(ctx, users.bob, {
        file: { stored: 'bob-result.csv', downloadName: 'bob.csv', content: 'secret of bob\n' },
      });
      cli.completed = await completed(ctx, null, { summary: 'from the shell' });
      cli.queued = await queued(ctx, null);
      xssJobId = await insertJob(
        ctx.db,
        {
          task: XSS_TASK,
          params: {},
          priority: 2,
          userId: users.admin.id,
          username: 'admin',
          origin: 'cli',
          uniqueKey: null,
          maxAttempts: 1,
          objectRef: null,
          now: Date.now(),
        },
        'admin',
      );
      await ctx.service.appendOutputParts(a.running, [{ stream: 'stdout', text: 'line one\n<script>alert("output")</script>\n', bytes: 40 }]);
      alice = await loggedIn(web.base, 'alice');
      bob = await loggedIn(web.base, 'bob');
      admin = await loggedIn(web.base, 'admin');
    });

    after(async () => {
      await web?.close();
    });

    // ---- who sees what ------------------------------------------------------------

    it('shows an archivist her own jobs only, with the summary and the All/Active/Failed tabs', async () => {
      const all = await alice.get('/jobs');
      expect(all.status).to.equal(200);
      expect(rowIds(all.text)).to.deep.equal([a.cancelled, a.failed, a.completed, a.running, a.queued].map((j) => j.id));
      expect(all.text).to.include('5 jobs: 2 active, 1 failed');
      expect(all.text).to.match(/<a href="\/jobs\?tab=all" aria-current="page">All <span class="count" data-count-for="all">\(5\)<\/span>/);
      expect(all.text).not.to.include('Command line');

      const active = await alice.get('/jobs?tab=active');
      expect(rowIds(active.text)).to.deep.equal([a.running.id, a.queued.id]);
      const failedTab = await alice.get('/jobs?tab=failed');
      expect(rowIds(failedTab.text)).to.deep.equal([a.failed.id]);
      expect(failedTab.text).to.include('<span class="status status-failed">Error</span>');

      const bobs = await bob.get('/jobs');
      expect(rowIds(bobs.text)).to.deep.equal([b.completed, b.failed, b.queued].map((j) => j.id));
    });

    it('shows the administrator everyone’s jobs, command-line jobs as "Command line", and filters by user, name and status', async () => {
      const all = await admin.get('/jobs');
      const ids = rowIds(all.text);
      for (const j of [...Object.values(a), ...Object.values(b), ...Object.values(cli)]) expect(ids).to.include(j.id);
      expect(ids).to.include(xssJobId);
      expect(all.text).to.include('data-label="User">Command line</td>');
      expect(all.text).to.include('11 jobs: 5 active, 2 failed');
      expect(all.text, 'no filter, no "of" count').not.to.include('match the filters');

      const byBob = await admin.get('/jobs?user=bob');
      expect(rowIds(byBob.text)).to.deep.equal([b.completed, b.failed, b.queued].map((j) => j.id));
      // The summary follows the filters.
      expect(byBob.text).to.include('3 of 11 jobs match the filters.');
      expect((await admin.get('/jobs?tab=failed&user=bob')).text).to.include('1 of 2 jobs match the filters.');
      expect(rowIds((await admin.get('/jobs?user=Command+line')).text)).to.deep.equal([cli.queued.id, cli.completed.id]);
      expect(rowIds((await admin.get('/jobs?user=nobody')).text)).to.deep.equal([]);
      expect((await admin.get('/jobs?user=nobody')).text).to.include('No jobs match these filters.');
      expect(rowIds((await admin.get(`/jobs?task=${encodeURIComponent(XSS_TASK)}`)).text)).to.deep.equal([xssJobId]);
      expect(rowIds((await admin.get('/jobs?tab=active&status=running')).text)).to.deep.equal([a.running.id]);
      const asc = rowIds((await admin.get('/jobs?order=asc')).text);
      expect(asc[0]).to.equal(a.queued.id);
      expect(asc).to.deep.equal([...ids].sort((x, y) => x - y));

      // An archivist cannot filter her way into other users' jobs.
      expect(rowIds((await alice.get('/jobs?user=bob')).text)).to.deep.equal(rowIds((await alice.get('/jobs')).text));
    });

    it('answers 404 to an archivist for another user’s job on every route, and 200 to the owner and the administrator', async () => {
      const id = b.completed.id;
      for (const path of [`/jobs/${id}`, `/jobs/${id}/output`, `/jobs/${id}/download`, `/jobs/${id}?partial=1`]) {
        const r = await alice.get(path);
        expect(r.status, path).to.equal(404);
        expect(r.text, path).not.to.include('bob');
      }
      for (const action of ['cancel', 'retry']) {
        const r = await alice.post(`/jobs/${b.queued.id}/${action}`);
        expect(r.status, action).to.equal(404);
      }
      expect((await web.ctx.service.get(b.queued.id)).status).to.equal('queued');
      expect((await bob.get(`/jobs/${id}`)).status).to.equal(200);
      expect((await admin.get(`/jobs/${id}`)).status).to.equal(200);
      // A job that does not exist reads the same as a job of someone else.
      expect((await alice.get('/jobs/999999')).status).to.equal(404);
      expect((await alice.get('/jobs/abc')).status).to.equal(404);
    });

    it('shows a job’s details: facts, history, output, and only the buttons the user may use', async () => {
      const r = await alice.get(`/jobs/${a.running.id}`);
      expect(r.status).to.equal(200);
      expect(r.text).to.include('<span class="status status-running" id="job-status">Running</span>');
      expect(r.text).to.include('<code>web-test-worker</code>');
      expect(r.text).to.include('1 of 3');
      expect(r.text).to.include('>Cancel job</button>');
      expect(r.text).not.to.include('>Retry job</button>');
      expect(r.text).to.match(/<td>queued<\/td>[\s\S]*<td>started<\/td>/);
      expect(r.text).to.include('line one');
      const failedPage = await alice.get(`/jobs/${a.failed.id}`);
      expect(failedPage.text).to.include('>Retry job</button>');
      expect(failedPage.text).not.to.include('>Cancel job</button>');
      const done = await alice.get(`/jobs/${a.completed.id}`);
      expect(done.text).to.include('34 rows exported');
      expect(done.text).to.include(`<a href="/jobs/${a.completed.id}/download">Download Fonds &#34;A&#34; export.csv</a>`);
    });

    it('escapes job names, errors and output lines: <script> shows as text', async () => {
      const list = await admin.get('/jobs');
      expect(list.text).not.to.include(XSS_TASK);
      expect(list.text).to.include('&lt;img src=x onerror=alert(1)&gt;');
      expect(list.text).not.to.include('<script>alert("error")</script>');
      expect(list.text).to.include('&lt;script&gt;alert(&#34;error&#34;)&lt;/script&gt; went wrong');
      const details = await alice.get(`/jobs/${a.running.id}`);
      expect(details.text).not.to.include('<script>alert("output")</script>');
      expect(details.text).to.include('&lt;script&gt;alert(&#34;output&#34;)&lt;/script&gt;');
      // The only script elements on the page are Docket's own files.
      const scripts = details.text.match(/<script[^>]*>/g) ?? [];
      expect(scripts.length).to.be.greaterThan(0);
      expect(scripts.filter((t) => !/^<script src="\/js\/[a-z-]+\.js" defer>$/.test(t))).to.deep.equal([]);
    });

    it('pages with a keyset cursor, 50 jobs a page, without overlap', async () => {
      const extra: number[] = [];
      for (let i = 0; i < 60; i++) extra.push((await queued(web.ctx, web.users.bob, ECHO_TASK, { text: `n${i}` })).id);
      try {
        const first = await bob.get(`/jobs?task=${ECHO_TASK}`);
        const p1 = rowIds(first.text);
        expect(p1).to.have.length(50);
        expect(p1[0]).to.equal(extra[59]);
        const next = /<a href="([^"]+)" rel="next">/.exec(first.text);
        expect(next, 'a next-page link').to.not.equal(null);
        const href = next![1].replace(/&amp;/g, '&');
        expect(href).to.include(`after=${p1[49]}`);
        const second = await bob.get(href);
        const p2 = rowIds(second.text);
        expect(p2).to.deep.equal(extra.slice(0, 10).reverse());
        expect(second.text).not.to.include('rel="next"');
        expect(first.text).not.to.include('rel="prev"');
        // Back from the second page: the first page again, with no page before it.
        const prev = /<a href="([^"]+)" rel="prev">/.exec(second.text);
        expect(prev, 'a previous-page link').to.not.equal(null);
        const prevHref = prev![1].replace(/&amp;/g, '&');
        expect(prevHref).to.include(`before=${p2[0]}`).and.not.include('after=');
        const back = await bob.get(prevHref);
        expect(rowIds(back.text)).to.deep.equal(p1);
        expect(back.text).not.to.include('rel="prev"');
        expect(back.text).to.include(`after=${p1[49]}`);
        // A page in the middle, reached backwards, links both ways.
        const middle = await bob.get(`/jobs?task=${ECHO_TASK}&before=${extra[5]}`);
        expect(rowIds(middle.text)).to.deep.equal(extra.slice(6, 56).reverse());
        expect(middle.text).to.include(`before=${extra[55]}`).and.include(`after=${extra[6]}`);
        expect((await bob.get(`/jobs?after=${extra[9]}&before=${extra[5]}`)).status).to.equal(400);
      } finally {
        await web.ctx.db('jobs').whereIn('id', extra).delete();
      }
    });

    it('refuses a bad tab or cursor with 400, and renders a fragment for the auto refresh', async () => {
      const bad = await alice.get('/jobs?tab=everything');
      expect(bad.status).to.equal(400);
      expect(bad.text).to.include('tab must be one of all, active, failed');
      expect((await alice.get('/jobs?after=xyz')).status).to.equal(400);
      const frag = await alice.get('/jobs?tab=active&partial=1');
      expect(frag.status).to.equal(200);
      expect(frag.text).not.to.include('<html');
      expect(frag.text).to.include('5 jobs: 2 active, 1 failed');
      expect(rowIds(frag.text)).to.deep.equal([a.running.id, a.queued.id]);
      expect(frag.headers.get('cache-control')).to.equal('no-store');
      // No ETag hashed over a page that is never cached; the static files keep theirs.
      expect(frag.headers.get('etag')).to.equal(null);
      const css = await alice.get('/css/docket.css');
      expect(css.status).to.equal(200);
      expect(css.headers.get('etag')).to.be.a('string');
      expect((await alice.get('/js/docket.js')).status).to.equal(200);
    });

    // ---- export ---------------------------------------------------------------------

    it('exports the tab as CSV with AtoM’s columns first, only the jobs the user may see', async () => {
      const r = await alice.get('/jobs/export.csv?tab=all');
      expect(r.status).to.equal(200);
      expect(r.headers.get('content-type')).to.match(/^text\/csv/);
      const today = new Date().toISOString().slice(0, 10);
      expect(r.headers.get('content-disposition')).to.match(new RegExp(`^attachment; filename="?docket-job-history-${today}\\.csv"?$`));
      const lines = r.text.trimEnd().split('\n');
      expect(lines[0].startsWith('startDate,endDate,jobName,jobStatus,jobInfo,jobUser')).to.equal(true);
      const idCol = lines[0].split(',').indexOf('jobId');
      const ids = lines.slice(1).map((l) => Number(l.split(',')[idCol]));
      expect(ids.sort()).to.deep.equal(Object.values(a).map((j) => j.id).sort());
      expect(r.text).not.to.include('bob');

      const failedCsv = (await alice.get('/jobs/export.csv?tab=failed')).text.trimEnd().split('\n');
      expect(failedCsv).to.have.length(2);
      expect(failedCsv[1]).to.include(',Error,');

      const adminCsv = await admin.get('/jobs/export.csv?tab=all');
      const users = adminCsv.text.trimEnd().split('\n').slice(1).map((l) => l.split(',')[5]);
      expect(users).to.include('Command line');
      expect(users).to.include('bob');
      expect(users).to.include('alice');
      expect((await new Client(web.base).get('/jobs/export.csv')).status).to.equal(303);
    });

    // ---- downloads ---------------------------------------------------------------------

    it('serves a result file under its own name to those who may see the job, 404 to others', async () => {
      const r = await alice.get(`/jobs/${a.completed.id}/download`);
      expect(r.status).to.equal(200);
      expect(r.text).to.equal('identifier,title\nF1,Fonds A\n');
      expect(r.headers.get('content-disposition')).to.match(/^attachment; filename="Fonds \\?"A\\?" export\.csv"/);
      expect((await admin.get(`/jobs/${a.completed.id}/download`)).status).to.equal(200);
      expect((await bob.get(`/jobs/${a.completed.id}/download`)).status).to.equal(404);
      expect((await alice.get(`/jobs/${a.failed.id}/download`)).status).to.equal(404);
      const anon = await new Client(web.base).get(`/jobs/${a.completed.id}/download`);
      expect(anon.status).to.equal(303);
    });

    // ---- workers and the queue switch --------------------------------------------------

    it('shows administrators the workers in words (active, lost, stopped); archivists get 403', async () => {
      const now = Date.now();
      await registerWorker(web.ctx.db, { id: 'w-active', host: 'host-a', pid: 11, abilities: ['sleep'], concurrency: 2, now });
      await registerWorker(web.ctx.db, { id: 'w-lost', host: 'host-b', pid: 12, abilities: ['print'], concurrency: 1, now: now - 600_000 });
      await registerWorker(web.ctx.db, { id: 'w-stopped', host: 'host-c', pid: 13, abilities: ['noop'], concurrency: 1, now });
      await stopWorker(web.ctx.db, 'w-stopped', now);
      const r = await admin.get('/workers');
      expect(r.status).to.equal(200);
      expect(r.text).to.match(/data-worker-id="w-active" data-state="active">[\s\S]*?Active</);
      expect(r.text).to.match(/data-worker-id="w-lost" data-state="lost">[\s\S]*?Lost since [0-9: -]+ UTC \(no heartbeat\)/);
      expect(r.text).to.match(/data-worker-id="w-stopped" data-state="stopped">[\s\S]*?Stopped/);
      expect((await alice.get('/workers')).status).to.equal(403);
      // Workers started elsewhere show on the jobs page within QUEUE_STATE_TTL_MS (the
      // page reuses the queue's state for that long).
      await sleep(QUEUE_STATE_TTL_MS);
      // A queued job of a task no active worker takes says why it waits; one that a worker takes does not.
      const echo = await queued(web.ctx, web.users.bob, ECHO_TASK);
      const list = await admin.get('/jobs?tab=active');
      expect(list.text).to.match(new RegExp(`data-job-id="${echo.id}"[\\s\\S]*?Waiting: no running worker takes &#34;web-test-echo&#34; jobs.`));
      expect(list.text).not.to.include('Waiting: no running worker takes &#34;sleep&#34; jobs.');
      await web.ctx.service.cancel(echo.id, 'test');
    });

    it('lets administrators pause and resume processing, and says so on the jobs page', async () => {
      expect((await alice.post('/queue/pause')).status).to.equal(403);
      expect(await web.ctx.service.isPaused()).to.equal(false);
      const forged = await admin.request('POST', '/queue/pause', { form: { _csrf: 'wrong' } });
      expect(forged.status).to.equal(403);
      expect(await web.ctx.service.isPaused()).to.equal(false);
      const p = await admin.post('/queue/pause', { back: '/jobs?tab=active' });
      expect(p.status).to.equal(303);
      expect(p.location).to.equal('/jobs?tab=active');
      expect(await web.ctx.service.isPaused()).to.equal(true);
      const page = await alice.get('/jobs');
      expect(page.text).to.include('<strong>Processing is paused</strong> (paused by admin)');
      expect(page.text).not.to.include('Resume processing'); // archivists cannot resume
      expect((await admin.get('/jobs')).text).to.include('Resume processing');
      // Resuming asks first, naming how many queued jobs would start.
      const ask = await admin.post('/queue/resume');
      expect(ask.status).to.equal(200);
      expect(ask.text).to.match(/Resume processing\?[\s\S]*\d+ queued jobs? starts? in turn/);
      expect(await web.ctx.service.isPaused()).to.equal(true);
      expect((await admin.post('/queue/resume', { confirm: 'yes' })).status).to.equal(303);
      expect(await web.ctx.service.isPaused()).to.equal(false);
      expect((await alice.get('/jobs')).text).not.to.include('Processing is paused');
    });

    // ---- new job form --------------------------------------------------------------------

    it('starts a job from the "New job" form with the task’s parameters; diagnostic tasks are for administrators', async () => {
      const form = await alice.get('/jobs/new');
      expect(form.text).to.include(`value="${ECHO_TASK}"`);
      expect(form.text).not.to.include('value="sleep"');
      const echo = await alice.get(`/jobs/new?task=${ECHO_TASK}`);
      expect(echo.text).to.include('name="param.text"');
      const r = await alice.post('/jobs', { task: ECHO_TASK, 'param.text': 'hello <b>', priority: 'high' });
      expect(r.status).to.equal(303);
      const id = Number(/^\/jobs\/(\d+)$/.exec(r.location ?? '')?.[1]);
      const job = await web.ctx.service.get(id);
      expect(job.userId).to.equal(web.users.alice.id);
      expect(job.origin).to.equal('web');
      expect(job.params).to.deep.equal({ text: 'hello <b>' });
      expect(job.priority).to.equal(3);
      expect((await alice.get(`/jobs/${id}`)).text).to.include(`Job ${id} is queued.`);

      const refused = await alice.post('/jobs', { task: 'sleep', 'param.seconds': '1' });
      expect(refused.status).to.equal(400);
      expect(refused.text).to.include('Choose a task from the list.');

      const sleepForm = await admin.get('/jobs/new?task=sleep');
      expect(sleepForm.text).to.include('name="param.seconds"');
      const bad = await admin.post('/jobs', { task: 'sleep', 'param.seconds': '-5' });
      expect(bad.status).to.equal(400);
      expect(bad.text).to.include('parameter &#34;seconds&#34; must be at least 0');
      expect(bad.text).to.include('value="-5"');
      const ok = await admin.post('/jobs', { task: 'sleep', 'param.seconds': '2', 'param.fail': ['false', 'true'] });
      expect(ok.status).to.equal(303);
      const sleepJob = await web.ctx.service.get(Number(ok.location!.split('/').pop()));
      expect(sleepJob.params).to.deep.equal({ seconds: 2, fail: true });
      const noCsrf = await admin.request('POST', '/jobs', { form: { task: 'noop' } });
      expect(noCsrf.status).to.equal(403);
    });

    // ---- cancel and retry --------------------------------------------------------------------

    it('cancels and retries only what the policy allows', async () => {
      const q = await queued(web.ctx, web.users.alice, ECHO_TASK);
      const c = await alice.post(`/jobs/${q.id}/cancel`, { back: '/jobs?tab=all' });
      expect(c.status).to.equal(303);
      expect(c.location).to.equal('/jobs?tab=all');
      expect((await web.ctx.service.get(q.id)).status).to.equal('cancelled');
      expect((await alice.get('/jobs')).text).to.include(`Job ${q.id} is cancelled.`);
      // Cancelling a finished job is a conflict, not a success.
      const again = await alice.post(`/jobs/${a.completed.id}/cancel`);
      expect(again.status).to.equal(409);
      expect(again.text).to.include('only queued or running jobs can be cancelled');
      // A running job is asked to stop; its worker does the rest.
      const r = await alice.post(`/jobs/${a.running.id}/cancel`);
      expect(r.status).to.equal(303);
      expect((await web.ctx.service.get(a.running.id)).cancelRequestedBy).to.equal('alice');
      // Retry a failed job: queued again, a new attempt to come.
      const f = await failed(web.ctx, web.users.alice, 'first try failed', ECHO_TASK);
      const rt = await alice.post(`/jobs/${f.id}/retry`);
      expect(rt.status).to.equal(303);
      expect((await web.ctx.service.get(f.id)).status).to.equal('queued');
      expect((await alice.post(`/jobs/${a.completed.id}/retry`)).status).to.equal(409);
      // The administrator may cancel anyone's job.
      const bq = await queued(web.ctx, web.users.bob, ECHO_TASK);
      expect((await admin.post(`/jobs/${bq.id}/cancel`)).status).to.equal(303);
      expect((await web.ctx.service.get(bq.id)).status).to.equal('cancelled');
      // Without the CSRF token nothing happens.
      const bq2 = await queued(web.ctx, web.users.bob, ECHO_TASK);
      expect((await bob.request('POST', `/jobs/${bq2.id}/cancel`, { form: {} })).status).to.equal(403);
      expect((await web.ctx.service.get(bq2.id)).status).to.equal('queued');
    });

    // ---- clear inactive (last: it removes fixtures) ----------------------------------------

    it('clears inactive jobs after a confirmation: the user’s own, never queued or running ones', async () => {
      const before = rowIds((await alice.get('/jobs')).text);
      const ask = await alice.post('/jobs/clear-inactive', { back: '/jobs?tab=all' });
      expect(ask.status).to.equal(200);
      expect(ask.text).to.include('Clear inactive jobs?');
      expect(rowIds((await alice.get('/jobs')).text)).to.deep.equal(before);

      const forged = await alice.request('POST', '/jobs/clear-inactive', { form: { confirm: 'yes' } });
      expect(forged.status).to.equal(403);
      expect(rowIds((await alice.get('/jobs')).text)).to.deep.equal(before);

      const resultFile = join(web.ctx.config.resultsDir, 'alice-result.csv');
      expect(existsSync(resultFile)).to.equal(true);
      const done = await alice.post('/jobs/clear-inactive', { confirm: 'yes', back: '/jobs?tab=all' });
      expect(done.status).to.equal(303);
      expect(done.location).to.equal('/jobs?tab=all');
      const after = await alice.get('/jobs');
      const left = await web.ctx.db('jobs').where({ user_id: web.users.alice.id }).select('id', 'status');
      expect(left.every((j: { status: string }) => j.status === 'queued' || j.status === 'running')).to.equal(true);
      expect(left.map((j: { id: number }) => Number(j.id))).to.include.members([a.queued.id, a.running.id]);
      expect(after.text).to.match(/Cleared \d+ inactive jobs\./);
      expect(existsSync(resultFile)).to.equal(false);
      expect(await web.ctx.db('job_events').where({ job_id: a.completed.id }).first()).to.equal(undefined);
      // Bob's and the command line's jobs are untouched by alice.
      expect((await web.ctx.service.get(b.failed.id)).status).to.equal('failed');
      expect((await web.ctx.service.get(cli.completed.id)).status).to.equal('completed');

      // The administrator clears their own and the command line's, not bob's.
      const adminDone = await admin.post('/jobs/clear-inactive', { confirm: 'yes' });
      expect(adminDone.status).to.equal(303);
      expect(await web.ctx.db('jobs').where({ id: cli.completed.id }).first()).to.equal(undefined);
      expect((await web.ctx.service.get(cli.queued.id)).status).to.equal('queued');
      expect((await web.ctx.service.get(b.failed.id)).status).to.equal('failed');
      expect((await web.ctx.service.get(b.completed.id)).status).to.equal('completed');
    });
  });
}
