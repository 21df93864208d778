/**
 * Fixes a review of the web app found: each test here failed before its fix.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { addEvent, appendOutput } from '../../app/store/jobs.js';
import { heartbeatWorker, registerWorker } from '../../app/store/workers.js';
import { STREAM_LIMITS } from '../../app/web/output.js';
import { backends, requireService } from '../helpers.js';
import { closeServer, completed, ECHO_TASK, failed, running, loggedIn, serve, startWeb, type Web } from './web-fixture.js';

for (const backend of backends()) {
  describe(`web: review fixes on ${backend.name}`, function () {
    this.timeout(60_000);
    let web: Web;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      if (backend.transport === 'amqp') await requireService(this, 'amqp');
      // A session's touch is due after 50 ms instead of a minute.
      web = await startWeb(backend, { sessionTouchMs: 50 });
    });
    after(async () => web?.close());

    it('exports the whole history when the session touch is due', async () => {
      const { ctx, users } = web;
      for (let i = 0; i < 3; i++) await completed(ctx, users.alice, { summary: `export row ${i}` });
      const alice = await loggedIn(web.base, 'alice');
      for (let round = 0; round < 3; round++) {
        await sleep(80);
        const r = await alice.get('/jobs/export.csv');
        expect(r.status).to.equal(200);
        const lines = r.text.trim().split('\n');
        expect(lines, `round ${round}`).to.have.length(4);
        expect(lines.slice(1).map((l) => l.split(',')[4]).sort()).to.deep.equal(['export row 0', 'export row 1', 'export row 2']);
      }
    });

    it('refuses a retry of an administrators-only job to an archivist, as it refuses to start one', async () => {
      const { ctx, users } = web;
      // `docket run sleep --user alice`: alice's job of a diagnostic task.
      const job = await failed(ctx, users.alice, 'it broke', 'sleep');
      const alice = await loggedIn(web.base, 'alice');
      const api = await alice.request('POST', `/api/jobs/${job.id}/retry`, { headers: { 'x-csrf-token': alice.csrf } });
      expect(api.status).to.equal(403);
      expect(api.json<{ error: { message: string } }>().error.message).to.include('for administrators only');
      const page = await alice.post(`/jobs/${job.id}/retry`);
      expect(page.status).to.equal(403);
      expect((await ctx.service.get(job.id)).status).to.equal('failed');
      // Nor is the button shown.
      expect((await alice.get(`/jobs/${job.id}`)).text).not.to.include(`action="/jobs/${job.id}/retry"`);
      const admin = await loggedIn(web.base, 'admin');
      expect((await admin.request('POST', `/api/jobs/${job.id}/retry`, { headers: { 'x-csrf-token': admin.csrf } })).status).to.equal(202);
      // Her own task's job she retries as before.
      const own = await failed(ctx, users.alice, 'it broke', ECHO_TASK);
      expect((await alice.request('POST', `/api/jobs/${own.id}/retry`, { headers: { 'x-csrf-token': alice.csrf } })).status).to.equal(202);
    });

    it('answers a priority named like an inherited property with 400, not 500', async () => {
      const alice = await loggedIn(web.base, 'alice');
      for (const priority of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
        const r = await alice.post('/jobs', { task: ECHO_TASK, 'param.text': 'x', priority });
        expect(r.status, priority).to.equal(400);
        expect(r.text).to.include('Choose a priority');
        const api = await alice.request('POST', '/api/jobs', {
          json: { task: ECHO_TASK, params: { text: 'x', toString: 1 } },
          headers: { 'x-csrf-token': alice.csrf },
        });
        expect(api.status).to.equal(400);
        expect(api.json<{ error: { message: string } }>().error.message).to.include('unknown parameter "toString"');
      }
    });

    it('reads output from the start with ?after=0, as the README shows, and refuses a bad cursor clearly', async () => {
      const { ctx, users } = web;
      const job = await completed(ctx, users.alice);
      await appendOutput(ctx.db, job.id, job.attempt, 'stdout', 'hello\n', 6, Date.now(), { allowFinal: true });
      const alice = await loggedIn(web.base, 'alice');
      const r = await alice.get(`/api/jobs/${job.id}/output?after=0`);
      expect(r.status).to.equal(200);
      expect(r.json<{ chunks: Array<{ text: string }> }>().chunks.map((c) => c.text)).to.deep.equal(['hello\n']);
      const bad = await alice.get(`/api/jobs/${job.id}/output?after=-1`);
      expect(bad.status).to.equal(400);
      expect(bad.json<{ error: { message: string } }>().error.message).to.include('output chunk id');
    });

    it('filters by the status label the page shows ("error" is failed), and names the statuses without a blank one', async () => {
      const { ctx, users } = web;
      const f = await failed(ctx, users.bob, 'bob failed');
      const bob = await loggedIn(web.base, 'bob');
      for (const status of ['error', 'Error', 'failed']) {
        const r = await bob.get(`/api/jobs?status=${status}`);
        expect(r.status, status).to.equal(200);
        expect(r.json<{ jobs: Array<{ id: number }> }>().jobs.map((j) => j.id)).to.deep.equal([f.id]);
      }
      const bad = await bob.get('/api/jobs?status=broken');
      expect(bad.status).to.equal(400);
      expect(bad.json<{ error: { message: string } }>().error.message).to.match(/^status must be one of queued, running, completed, failed \(Error\), cancelled, not "broken"$/);
    });

    it('keeps "Keep them" on this site whatever control characters or backslashes ?back holds', async () => {
      const alice = await loggedIn(web.base, 'alice');
      for (const back of ['/%09/evil.example/x', '/%0A/evil.example', '/%5Cevil.example', '/%00/evil.example', '/x%5C%5Cy']) {
        const r = await alice.get(`/jobs/clear-inactive?back=${back}`);
        expect(r.status).to.equal(200);
        expect(r.text, back).to.include('<a class="button" href="/jobs">Keep them</a>');
      }
    });

    it('removes the cleared jobs’ output logs under logs/jobs', async () => {
      const { ctx, users } = web;
      const job = await completed(ctx, users.bob);
      mkdirSync(ctx.config.jobLogDir, { recursive: true });
      const log = join(ctx.config.jobLogDir, `${job.id}.log`);
      writeFileSync(log, 'output\n');
      const bob = await loggedIn(web.base, 'bob');
      await bob.get('/jobs/clear-inactive');
      const r = await bob.post('/jobs/clear-inactive', { confirm: 'yes' });
      expect(r.status).to.equal(303);
      expect(existsSync(log)).to.equal(false);
    });

    it('shows a lost worker running nothing, and its uptime ending at its last heartbeat', async () => {
      const now = Date.now();
      const db = web.ctx.db;
      await registerWorker(db, { id: 'w-died', host: 'host-d', pid: 14, abilities: ['sleep'], concurrency: 2, now: now - 600_000 });
      // Its last heartbeat, five minutes ago, said it ran two jobs.
      await heartbeatWorker(db, 'w-died', 2, now - 300_000);
      const admin = await loggedIn(web.base, 'admin');
      const row = /<tr data-worker-id="w-died"[\s\S]*?<\/tr>/.exec((await admin.get('/workers')).text)?.[0] ?? '';
      const cells = [...row.matchAll(/<td>([\s\S]*?)<\/td>/g)].map((m) => m[1].replace(/<[^>]+>/g, '').trim());
      // Worker, state, host, process, running, last heartbeat, up for, tasks.
      expect(cells[1]).to.match(/^Lost since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \(no heartbeat\)$/);
      expect(cells[4]).to.equal('0 of 2');
      expect(cells[6]).to.equal('5 min 0 s');
    });

    it('pages a job’s history in the API and on the details page', async () => {
      const { ctx, users } = web;
      const job = await failed(ctx, users.alice, 'many events', ECHO_TASK);
      const base = (await ctx.db('job_events').where({ job_id: job.id }).count({ n: '*' }))[0] as { n: number | string };
      for (let i = 0; i < 250; i++) {
        await addEvent(ctx.db, { jobId: job.id, type: 'progress', attempt: 1, actor: 'test', message: `step ${i}`, at: Date.now() });
      }
      const total = Number(base.n) + 250;
      const alice = await loggedIn(web.base, 'alice');
      type Page = { events: Array<{ message: string | null }>; next: number | null; links: { next: string | null } };
      const seen: string[] = [];
      let path: string | null = `/api/jobs/${job.id}/events?limit=100`;
      let pages = 0;
      while (path) {
        const r = await alice.get(path);
        expect(r.status).to.equal(200);
        const p = r.json<Page>();
        expect(p.events.length).to.be.at.most(100);
        seen.push(...p.events.map((e) => e.message ?? ''));
        path = p.links.next;
        pages++;
      }
      expect(pages).to.equal(Math.ceil(total / 100));
      expect(seen).to.have.length(total);
      expect(seen.filter((m) => m.startsWith('step ')).length).to.equal(250);
      expect((await alice.get(`/api/jobs/${job.id}/events`)).json<Page>().events).to.have.length(100);
      expect((await alice.get(`/api/jobs/${job.id}/events?limit=5000`)).status).to.equal(400);
      const page = await alice.get(`/jobs/${job.id}`);
      expect([...page.text.matchAll(/<td>step \d+<\/td>/g)].length).to.be.at.most(200);
      const later = /href="(\/jobs\/\d+\?events_after=\d+)#history-title">Later events/.exec(page.text);
      expect(later).to.not.equal(null);
      const rest = await alice.get(later![1]);
      expect(rest.text).to.include('<td>step 249</td>');
    });

    it('limits the jobs one user creates per minute with a clear 429; another user is not held up', async () => {
      const limited = await serve(web.ctx, { jobsPerMinute: 3 });
      try {
        const alice = await loggedIn(limited.base, 'alice');
        const bob = await loggedIn(limited.base, 'bob');
        const post = (c: typeof alice) =>
          c.request('POST', '/api/jobs', { json: { task: ECHO_TASK, params: { text: 'x' } }, headers: { 'x-csrf-token': c.csrf } });
        const statuses: number[] = [];
        for (let i = 0; i < 4; i++) statuses.push((await post(alice)).status);
        expect(statuses).to.deep.equal([202, 202, 202, 429]);
        const refused = await alice.post('/jobs', { task: ECHO_TASK, 'param.text': 'x' });
        expect(refused.status).to.equal(429);
        expect(refused.text).to.include('You have started 3 jobs in the last minute');
        expect((await post(bob)).status).to.equal(202);
      } finally {
        await closeServer(limited.server);
      }
    });

    it('ends a live output stream once its user has logged out, and caps streams per user', async () => {
      const saved = { ...STREAM_LIMITS };
      Object.assign(STREAM_LIMITS, { perUser: 2, sessionCheckMs: 200 });
      const job = await running(web.ctx, web.users.alice, ECHO_TASK);
      const alice = await loggedIn(web.base, 'alice');
      const admin = await loggedIn(web.base, 'admin');
      const aborts: AbortController[] = [];
      const open = async (c: typeof alice) => {
        const a = new AbortController();
        aborts.push(a);
        const cookie = [...c.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
        return fetch(`${web.base}/jobs/${job.id}/output`, { headers: { cookie, accept: 'text/event-stream' }, signal: a.signal });
      };
      try {
        const first = await open(alice);
        expect(first.status).to.equal(200);
        expect((await open(alice)).status).to.equal(200);
        // A third of hers is refused; another user's is not.
        expect((await open(alice)).status).to.equal(503);
        expect((await open(admin)).status).to.equal(200);
        expect((await alice.post('/logout')).status).to.equal(303);
        const started = Date.now();
        const text = await first.text(); // ends when the server ends the stream
        expect(Date.now() - started).to.be.below(5000);
        expect(text).to.include('"loggedOut":true');
      } finally {
        Object.assign(STREAM_LIMITS, saved);
        for (const a of aborts) a.abort();
      }
    });
  });
}
