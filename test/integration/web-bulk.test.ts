/**
 * Bulk actions on the jobs page and in the API, and the queue's switches for
 * administrators: each job is checked as its single action is (another user's job, a
 * job in the wrong state, an administrators-only task are skipped and counted), every
 * act is in the audit trail, and the forms need their CSRF token.
 */
import { expect } from 'chai';
import type { Context } from '../../app/context.js';
import { createToken } from '../../app/store/tokens.js';
import { bulkText } from '../../app/web/bulk.js';
import { backends, requireService } from '../helpers.js';
import { Client, ECHO_TASK, cancelled, completed, failed, loggedIn, queued, running, shown, startWeb, type Web } from './web-fixture.js';

async function audit(ctx: Context, action: string): Promise<Array<{ actor: string; target: string; detail: string | null }>> {
  return (await ctx.db('audit').where('action', action).orderBy('id', 'asc')) as Array<{ actor: string; target: string; detail: string | null }>;
}

async function statusOf(web: Web, id: number): Promise<string | null> {
  const r = (await web.ctx.db('jobs').where('id', id).first()) as { status: string } | undefined;
  return r?.status ?? null;
}

/** The flash shown on the page a post redirected to. */
async function flashAfter(c: Client, reply: { status: number; location: string | null }): Promise<string> {
  expect(reply.status).to.equal(303);
  const page = await c.get(reply.location ?? '/jobs');
  const m = /<div class="flash flash-\w+" role="\w+">([^<]*)<\/div>/.exec(page.text);
  return (m?.[1] ?? '').replace(/&#39;/g, "'");
}

describe('bulk: the flash text', () => {
  it('counts what was done and says why the rest could not be', () => {
    expect(bulkText({ action: 'retry', done: [1, 2, 3], skipped: [{ id: 4, reason: 'is running' }] })).to.equal(
      '3 jobs retried; 1 could not be (it is running).',
    );
    expect(bulkText({ action: 'cancel', done: [1], skipped: [] })).to.equal('1 job cancelled.');
    expect(
      bulkText({
        action: 'clear',
        done: [],
        skipped: [
          { id: 1, reason: 'is running' },
          { id: 2, reason: 'is running' },
          { id: 3, reason: "is another user's job" },
        ],
      }),
    ).to.equal("0 jobs cleared; 3 could not be (2 are running; 1 is another user's job).");
  });
});

for (const backend of backends().filter((b) => b.transport === 'db')) {
  describe(`web: bulk actions and the queue's switches on ${backend.name}`, function () {
    this.timeout(60_000);
    let web: Web;
    let alice: Client;
    let bob: Client;
    let admin: Client;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      web = await startWeb(backend);
      alice = await loggedIn(web.base, 'alice');
      bob = await loggedIn(web.base, 'bob');
      admin = await loggedIn(web.base, 'admin');
    });

    after(async () => {
      await web?.close();
    });

    it('shows a labelled box for each job and "select all on this page" in one form', async () => {
      const j = await queued(web.ctx, web.users.alice, ECHO_TASK);
      const page = await alice.get('/jobs');
      expect(page.text).to.include('<form method="post" action="/jobs/bulk" id="bulk-form"');
      expect(page.text).to.match(new RegExp(`<input type="checkbox" name="id" value="${j.id}" form="bulk-form" id="select-${j.id}" class="bulk-select" aria-label="Select Echo \\(web tests\\), job ${j.id}">`));
      expect(page.text).to.include(`<input type="hidden" name="page_id" value="${j.id}">`);
      expect(page.text).to.match(/<input type="checkbox" name="all" value="page" id="bulk-all">\s*<label for="bulk-all">Select all<span class="wide-only"> \d+ on this page<\/span><\/label>/);
      expect(page.text).not.to.include('Retry all failed'); // administrators only
      await web.ctx.service.cancel(j.id, 'test');
    });

    it('cancels the selected jobs a user may cancel and counts the others, with an audit entry each', async () => {
      const q = await queued(web.ctx, web.users.alice, ECHO_TASK);
      const r = await running(web.ctx, web.users.alice, ECHO_TASK);
      const done = await completed(web.ctx, web.users.alice);
      const bobs = await queued(web.ctx, web.users.bob, ECHO_TASK);
      await alice.get('/jobs');
      const reply = await alice.post('/jobs/bulk', { action: 'cancel', id: [String(q.id), String(r.id), String(done.id), String(bobs.id)], back: '/jobs?tab=active' });
      expect(reply.location).to.equal('/jobs?tab=active');
      expect(await flashAfter(alice, reply)).to.equal('2 jobs cancelled; 2 could not be (1 is completed; 1 is not among your jobs).');
      expect(await statusOf(web, q.id)).to.equal('cancelled');
      expect(await statusOf(web, r.id)).to.equal('running'); // stopped by its worker
      expect((await web.ctx.service.get(r.id)).cancelRequestedBy).to.equal('alice');
      expect(await statusOf(web, bobs.id)).to.equal('queued');
      const entries = (await audit(web.ctx, 'job.cancel')).filter((e) => e.actor === 'alice');
      expect(entries.map((e) => [e.target, e.detail])).to.deep.include.members([
        [`job ${q.id}`, 'cancelled, bulk'],
        [`job ${r.id}`, 'cancel-requested, bulk'],
      ]);
      expect(entries.map((e) => e.target)).not.to.include(`job ${bobs.id}`);
      await web.ctx.service.cancel(bobs.id, 'test');
    });

    it('retries every job on the page with "select all", skipping administrators-only tasks', async () => {
      const echo = await failed(web.ctx, web.users.bob, 'broke', ECHO_TASK);
      const sleep = await failed(web.ctx, web.users.bob, 'broke', 'sleep');
      const page = await bob.get('/jobs?tab=failed');
      const pageIds = [...page.text.matchAll(/name="page_id" value="(\d+)"/g)].map((m) => m[1]);
      expect(pageIds).to.include.members([String(echo.id), String(sleep.id)]);
      const reply = await bob.post('/jobs/bulk', { action: 'retry', all: 'page', page_id: pageIds, back: '/jobs?tab=failed' });
      expect(await flashAfter(bob, reply)).to.match(/^\d+ jobs? retried; 1 could not be \(it is a task for administrators only\)\.$/);
      expect(await statusOf(web, echo.id)).to.equal('queued');
      expect(await statusOf(web, sleep.id)).to.equal('failed');
      await web.ctx.service.cancel(echo.id, 'test');
    });

    it('clears the selected finished jobs and keeps active ones', async () => {
      const done = await completed(web.ctx, web.users.alice);
      const gone = await cancelled(web.ctx, web.users.alice);
      const active = await queued(web.ctx, web.users.alice, ECHO_TASK);
      await alice.get('/jobs');
      const reply = await alice.post('/jobs/bulk', { action: 'clear', id: [String(done.id), String(gone.id), String(active.id)] });
      expect(await flashAfter(alice, reply)).to.equal('2 jobs cleared; 1 could not be (it is queued).');
      expect(await statusOf(web, done.id)).to.equal(null);
      expect(await statusOf(web, gone.id)).to.equal(null);
      expect(await statusOf(web, active.id)).to.equal('queued');
      expect((await audit(web.ctx, 'job.discard')).at(-1)).to.include({ actor: 'alice', target: `job ${gone.id}` });
      await web.ctx.service.cancel(active.id, 'test');
    });

    it('asks to select something, refuses a bad action, and needs the CSRF token', async () => {
      const q = await queued(web.ctx, web.users.alice, ECHO_TASK);
      await alice.get('/jobs');
      expect(await flashAfter(alice, await alice.post('/jobs/bulk', { action: 'cancel' }))).to.match(/^Select one or more jobs first/);
      const bad = await alice.post('/jobs/bulk', { action: 'explode', id: String(q.id) });
      expect(bad.status).to.equal(400);
      expect(bad.text).to.include('action must be one of cancel, retry, clear');
      expect((await alice.post('/jobs/bulk', { action: 'cancel', id: 'twelve' })).status).to.equal(400);
      const forged = await alice.request('POST', '/jobs/bulk', { form: { _csrf: 'wrong', action: 'cancel', id: String(q.id) } });
      expect(forged.status).to.equal(403);
      expect(await statusOf(web, q.id)).to.equal('queued');
      await web.ctx.service.cancel(q.id, 'test');
    });

    it('lets administrators retry or clear all failed jobs after a confirmation naming how many', async () => {
      const f1 = await failed(web.ctx, web.users.alice, 'one', ECHO_TASK);
      const f2 = await failed(web.ctx, null, 'two', ECHO_TASK);
      const count = async (q: (b: ReturnType<Context['db']>) => unknown): Promise<number> => {
        const b = web.ctx.db('jobs').where('status', 'failed');
        q(b);
        return Number(((await b.count({ n: '*' }).first()) as { n: number | string }).n);
      };
      // Clearing is the owner's (policy.canDiscard): an administrator clears their own and the command line's.
      const clearable = await count((b) => b.where((w) => w.whereNull('user_id').orWhere('user_id', web.users.admin.id)));
      const others = await count((b) => b.whereNotNull('user_id').whereNot('user_id', web.users.admin.id));
      expect(others).to.be.greaterThan(0);
      expect((await alice.get('/jobs/failed-all?action=retry')).status).to.equal(403);
      expect((await alice.post('/jobs/failed-all', { action: 'clear', confirm: 'yes' })).status).to.equal(403);
      const list = await admin.get('/jobs?tab=failed');
      expect(shown(list.text)).to.include('Retry all failed…');
      const ask = await admin.get('/jobs/failed-all?action=clear');
      expect(ask.status).to.equal(200);
      expect(shown(ask.text)).to.include(`This removes ${clearable} failed ${clearable === 1 ? 'job' : 'jobs'} (yours and the command line’s)`);
      expect(ask.text).to.include(`${others} other failed ${others === 1 ? 'job stays' : 'jobs stay'}: only their owners clear them.`);
      expect(ask.text).to.include(`Clear ${clearable} failed ${clearable === 1 ? 'job' : 'jobs'}</button>`);
      expect((await admin.get('/jobs/failed-all?action=retry')).text).to.include(`This queues ${clearable + others} failed jobs again`);
      expect(await statusOf(web, f1.id)).to.equal('failed'); // asking does nothing
      const reply = await admin.post('/jobs/failed-all', { action: 'retry', confirm: 'yes' });
      expect(await flashAfter(admin, reply)).to.match(/^\d+ jobs retried/);
      expect(await statusOf(web, f1.id)).to.equal('queued');
      expect(await statusOf(web, f2.id)).to.equal('queued');
      expect(await web.ctx.db('jobs').where('status', 'failed').whereIn('task', [ECHO_TASK]).count({ n: '*' }).first()).to.satisfy((r: { n: number | string }) => Number(r.n) === 0);
      await web.ctx.service.clearQueue('test');
    });

    it('does the same through POST /api/jobs/bulk, JSON in and out', async () => {
      const token = await createToken(web.ctx.db, web.users.alice.id, 'bulk');
      const api = new Client(web.base, token);
      const mine = await queued(web.ctx, web.users.alice, ECHO_TASK);
      const bobs = await queued(web.ctx, web.users.bob, ECHO_TASK);
      const r = await api.request('POST', '/api/jobs/bulk', { json: { action: 'cancel', ids: [mine.id, bobs.id] } });
      expect(r.status).to.equal(200);
      expect(r.json()).to.deep.equal({
        action: 'cancel',
        done: [mine.id],
        skipped: [{ id: bobs.id, reason: 'is not among your jobs' }],
        message: '1 job cancelled; 1 could not be (it is not among your jobs).',
      });
      expect(await statusOf(web, bobs.id)).to.equal('queued');
      expect((await audit(web.ctx, 'job.cancel')).at(-1)).to.include({ actor: 'alice', target: `job ${mine.id}`, detail: 'cancelled, bulk' });
      const bad = await api.request('POST', '/api/jobs/bulk', { json: { action: 'cancel', ids: [] } });
      expect(bad.status).to.equal(400);
      expect(bad.json<{ error: { message: string } }>().error.message).to.include('ids must be a list');
      const many = await api.request('POST', '/api/jobs/bulk', { json: { action: 'cancel', ids: Array.from({ length: 501 }, (_, i) => i + 1) } });
      expect(many.status).to.equal(400);
      expect((await api.request('POST', '/api/jobs/bulk', { json: { action: 'retry', all: 'failed' } })).status).to.equal(403);
      const f = await failed(web.ctx, null, 'x', ECHO_TASK);
      const bobsFailed = await failed(web.ctx, web.users.bob, 'x', ECHO_TASK);
      const adminApi = new Client(web.base, await createToken(web.ctx.db, web.users.admin.id, 'bulk'));
      const all = await adminApi.request('POST', '/api/jobs/bulk', { json: { action: 'clear', all: 'failed' } });
      expect(all.status).to.equal(200);
      expect(all.json<{ done: number[] }>().done).to.include(f.id).and.not.include(bobsFailed.id);
      expect(await statusOf(web, f.id)).to.equal(null);
      expect(await statusOf(web, bobsFailed.id)).to.equal('failed');
      await web.ctx.service.cancel(bobs.id, 'test');
    });

    it('gives administrators the queue in the API: status, pause, resume, clear, pause on failure', async () => {
      const api = new Client(web.base, await createToken(web.ctx.db, web.users.admin.id, 'queue'));
      const archivist = new Client(web.base, await createToken(web.ctx.db, web.users.alice.id, 'queue'));
      expect((await archivist.get('/api/queue')).status).to.equal(403);
      expect((await archivist.request('POST', '/api/queue/pause')).status).to.equal(403);
      expect(await web.ctx.service.isPaused()).to.equal(false);
      await web.ctx.service.clearQueue('test'); // counts below start from an empty queue
      const q = await queued(web.ctx, web.users.alice, ECHO_TASK);
      const s = await api.get('/api/queue');
      expect(s.status).to.equal(200);
      expect(s.json<{ queue: Record<string, unknown> }>().queue).to.include({ paused: false, pauseOnFailure: false, queued: 1, transport: 'db' });
      const p = await api.request('POST', '/api/queue/pause');
      expect(p.json<{ queue: { paused: boolean; reason: string } }>().queue).to.include({ paused: true, reason: 'paused by admin' });
      expect(await web.ctx.service.isPaused()).to.equal(true);
      expect((await api.request('POST', '/api/queue/resume')).json<{ queue: { paused: boolean } }>().queue.paused).to.equal(false);
      const pof = await api.request('POST', '/api/queue/pause-on-failure', { json: { on: true } });
      expect(pof.json<{ queue: { pauseOnFailure: boolean } }>().queue.pauseOnFailure).to.equal(true);
      expect(await web.ctx.service.pauseOnFailure()).to.equal(true);
      expect((await api.request('POST', '/api/queue/pause-on-failure', { json: { on: 'yes' } })).status).to.equal(400);
      await api.request('POST', '/api/queue/pause-on-failure', { json: { on: false } });
      const c = await api.request('POST', '/api/queue/clear');
      expect(c.json<{ cancelled: number; queue: { queued: number } }>()).to.deep.include({ cancelled: 1 });
      expect(await statusOf(web, q.id)).to.equal('cancelled');
      expect((await audit(web.ctx, 'queue.clear')).at(-1)).to.include({ actor: 'admin', target: '1 job(s)' });
      expect((await audit(web.ctx, 'queue.pause-on-failure')).map((e) => e.detail).slice(-2)).to.deep.equal(['on', 'off']);
    });

    it('lets administrators clear the queue (after asking) and switch pause on failure on the workers page', async () => {
      await web.ctx.service.clearQueue('test');
      const q = await queued(web.ctx, web.users.bob, ECHO_TASK);
      const page = await admin.get('/workers');
      expect(shown(page.text)).to.include('Clear the queue…');
      expect(page.text).to.include('Off: a failed job does not pause processing.');
      expect((await alice.post('/queue/clear', { confirm: 'yes' })).status).to.equal(403);
      const ask = await admin.post('/queue/clear', { back: '/workers' });
      expect(ask.status).to.equal(200);
      expect(shown(ask.text)).to.include('This cancels 1 queued job, everyone’s');
      expect(await statusOf(web, q.id)).to.equal('queued');
      const reply = await admin.post('/queue/clear', { back: '/workers', confirm: 'yes' });
      expect(await flashAfter(admin, reply)).to.equal('The queue is cleared: 1 queued job cancelled.');
      expect(await statusOf(web, q.id)).to.equal('cancelled');
      await admin.get('/workers');
      expect(await flashAfter(admin, await admin.post('/queue/pause-on-failure', { on: 'yes', back: '/workers' }))).to.equal('A failed job now pauses processing.');
      expect(await web.ctx.service.pauseOnFailure()).to.equal(true);
      expect((await admin.get('/workers')).text).to.include('On: a failed job pauses processing.');
      await admin.post('/queue/pause-on-failure', { on: 'no', back: '/workers' });
      expect(await web.ctx.service.pauseOnFailure()).to.equal(false);
    });

    it('shows per worker the jobs done, failed and running, and per task the queue by title', async () => {
      await web.ctx.service.clearQueue('test');
      const r = await running(web.ctx, web.users.alice, ECHO_TASK);
      const w1 = await queued(web.ctx, web.users.alice, ECHO_TASK);
      const w2 = await queued(web.ctx, web.users.bob, ECHO_TASK);
      await web.ctx.service.presence.register({ id: 'web-test-worker', abilities: [ECHO_TASK], concurrency: 2 });
      const done = Number((await web.ctx.db('jobs').where({ worker_id: 'web-test-worker', status: 'completed' }).count({ n: '*' }).first() as { n: number | string }).n);
      const page = await admin.get('/workers');
      expect(page.status).to.equal(200);
      expect(page.text).to.match(new RegExp(`<td class="done">${done}</td>`));
      expect(page.text).to.include(`<a href="/jobs/${r.id}">Echo (web tests), job ${r.id}</a>`);
      expect(page.text).to.match(new RegExp(`<tr data-task="${ECHO_TASK}">\\s*<th scope="row">Echo \\(web tests\\)</th>\\s*<td class="queued">2</td>\\s*<td><a href="/jobs/${w1.id}">Job ${w1.id}</a>, waiting for`));
      for (const j of [r, w1, w2]) await web.ctx.service.cancel(j.id, 'test');
    });
  });
}
