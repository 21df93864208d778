/**
 * Groups and chains through the API, with a real worker: combined status, chain order,
 * stop on failure, retry resuming the chain, cancel, permissions, and the steps a task
 * reports. On every backend (SQLite + db, MariaDB + db, MariaDB + RabbitMQ).
 */
import { expect } from 'chai';
import { existsSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../../app/context.js';
import { createToken } from '../../app/store/tokens.js';
import { createUser } from '../../app/store/users.js';
import type { User } from '../../app/types.js';
import { GroupService } from '../../app/groups/service.js';
import { Maintenance } from '../../app/maintenance.js';
import { HELD } from '../../app/store/group-chain.js';
import { completeJobs, listEvents } from '../../app/store/jobs.js';
import { Worker } from '../../workers/worker.js';
import { backends, makeTestEnv, requireService, waitUntil, type TestEnv } from '../helpers.js';
import { GROUP_TASKS_MODULE, ORDER_LOG } from './group-tasks.js';
import { Client, closeServer, loggedIn, PASSWORDS, serve } from './web-fixture.js';
import type { Server } from 'node:http';

interface GroupJson {
  id: number;
  status: string;
  statusCode: number;
  complete: boolean;
  counts: Record<string, number>;
  jobs: Array<{ id: number; status: string; step: number; waiting: string | null; error: string | null }>;
}

for (const backend of backends()) {
  describe(`groups and chains on ${backend.name}`, function () {
    this.timeout(60_000);
    let env: TestEnv;
    let ctx: Context;
    let server: Server;
    let base: string;
    let worker: Worker | null = null;
    let alice: Client;
    let users: { admin: User; alice: User; bob: User };

    const order = (): string[] => {
      const p = join(ctx.config.resultsDir, ORDER_LOG);
      return existsSync(p) ? readFileSync(p, 'utf8').trim().split('\n') : [];
    };
    const getGroup = async (c: Client, id: number): Promise<GroupJson> => {
      const r = await c.get(`/api/groups/${id}`);
      expect(r.status, r.text).to.equal(200);
      return r.json<{ group: GroupJson }>().group;
    };
    const waitStatus = (c: Client, id: number, status: string) =>
      waitUntil(async () => {
        const g = await getGroup(c, id);
        return g.status === status ? g : null;
      }, 30_000, `group ${id} to be ${status}`);
    const create = async (c: Client, body: unknown): Promise<GroupJson> => {
      const r = await c.request('POST', '/api/groups', { json: body });
      expect(r.status, r.text).to.equal(202);
      return r.json<{ group: GroupJson }>().group;
    };

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      if (backend.transport === 'amqp') await requireService(this, 'amqp');
      env = await makeTestEnv(backend, { DOCKET_EXTRA_TASKS: GROUP_TASKS_MODULE });
      ctx = await env.context();
      users = {
        admin: await createUser(ctx.db, 'admin', PASSWORDS.admin, 'admin'),
        alice: await createUser(ctx.db, 'alice', PASSWORDS.alice, 'archivist'),
        bob: await createUser(ctx.db, 'bob', PASSWORDS.bob, 'archivist'),
      };
      ({ server, base } = await serve(ctx));
      // The API by token (a session's API posts need a CSRF header); pages by session.
      alice = new Client(base, await createToken(ctx.db, users.alice.id, 'tests'));
    });

    beforeEach(() => {
      rmSync(join(ctx.config.resultsDir, ORDER_LOG), { force: true });
    });

    afterEach(async () => {
      if (worker) await worker.stop(2000);
      worker = null;
    });

    after(async () => {
      if (server) await closeServer(server);
      await env?.cleanup();
    });

    const startWorker = async () => {
      worker = new Worker(ctx.service, ctx.transport, { concurrency: 2, cancelGraceMs: 1000 });
      await worker.start();
    };

    it('runs a chain in order: each step starts only after the one before completed', async () => {
      const g = await create(alice, {
        name: 'three in a row',
        chain: true,
        jobs: ['a', 'b', 'c'].map((name) => ({ task: 'group-step', params: { name, ms: 100 } })),
      });
      expect(g.status).to.equal('Queued');
      expect(g.complete).to.equal(false);
      expect(g.jobs.map((j) => j.waiting)).to.deep.equal([null, `waiting for job ${g.jobs[0].id}`, `waiting for job ${g.jobs[1].id}`]);
      await startWorker();
      const done = await waitStatus(alice, g.id, 'Success');
      expect(done.complete).to.equal(true);
      expect(done.statusCode).to.equal(3);
      expect(order()).to.deep.equal(['a', 'b', 'c']);
      // Each step started after the one before finished.
      const jobs = await Promise.all(done.jobs.map((j) => ctx.service.get(j.id)));
      for (let i = 1; i < jobs.length; i++) expect(jobs[i].startedAt as number).to.be.at.least(jobs[i - 1].finishedAt as number);
    });

    it('stops a chain at a failed step; retrying that step resumes it to Success', async () => {
      mkdirSync(ctx.config.resultsDir, { recursive: true });
      writeFileSync(join(ctx.config.resultsDir, 'flag-b'), 'fail');
      await startWorker();
      const g = await create(alice, {
        name: 'b fails',
        chain: true,
        jobs: [
          { task: 'group-step', params: { name: 'a' } },
          { task: 'group-step', params: { name: 'b', failWhile: 'flag-b' } },
          { task: 'group-step', params: { name: 'c' } },
        ],
      });
      const stopped = await waitStatus(alice, g.id, 'Errors');
      expect(stopped.complete).to.equal(true);
      expect(stopped.jobs.map((j) => j.status)).to.deep.equal(['completed', 'failed', 'cancelled']);
      expect(stopped.jobs[2].error).to.equal('an earlier step failed');
      expect(order()).to.deep.equal(['a']);
      const third = await ctx.service.get(stopped.jobs[2].id);
      expect(third.startedAt, 'the third step never started').to.equal(null);

      rmSync(join(ctx.config.resultsDir, 'flag-b'));
      const r = await alice.request('POST', `/api/groups/${g.id}/retry`);
      expect(r.status, r.text).to.equal(202);
      const again = r.json<{ group: GroupJson }>().group;
      expect(again.complete).to.equal(false);
      expect(['SuccessActive', 'ErrorsActive']).to.include(again.status);
      const done = await waitStatus(alice, g.id, 'Success');
      expect(done.jobs.map((j) => j.status)).to.deep.equal(['completed', 'completed', 'completed']);
      expect(order()).to.deep.equal(['a', 'b', 'c']);
    });

    it('shows ErrorsActive while a group with a failed job still runs, then Errors', async () => {
      mkdirSync(ctx.config.resultsDir, { recursive: true });
      writeFileSync(join(ctx.config.resultsDir, 'flag-x'), 'fail');
      await startWorker();
      const g = await create(alice, {
        name: 'side by side',
        chain: false,
        jobs: [
          { task: 'group-step', params: { name: 'x', failWhile: 'flag-x' } },
          { task: 'group-step', params: { name: 'slow', ms: 2500 } },
        ],
      });
      const active = await waitStatus(alice, g.id, 'ErrorsActive');
      expect(active.complete).to.equal(false);
      expect(active.counts.failed).to.equal(1);
      const ended = await waitStatus(alice, g.id, 'Errors');
      expect(ended.counts).to.include({ failed: 1, completed: 1 });
      rmSync(join(ctx.config.resultsDir, 'flag-x'));
    });

    it('cancels a group: queued and held jobs never start', async () => {
      const g = await create(alice, {
        name: 'to cancel',
        chain: true,
        jobs: [{ task: 'group-step', params: { name: 'p' } }, { task: 'group-step', params: { name: 'q' } }],
      });
      const r = await alice.request('POST', `/api/groups/${g.id}/cancel`);
      expect(r.status, r.text).to.equal(200);
      const c = r.json<{ group: GroupJson }>().group;
      expect(c.status).to.equal('Cancelled');
      expect(c.complete).to.equal(true);
      expect(c.jobs.map((j) => j.status)).to.deep.equal(['cancelled', 'cancelled']);
      await startWorker();
      await new Promise((res) => setTimeout(res, 500));
      expect(order()).to.deep.equal([]);
      expect((await alice.request('POST', `/api/groups/${g.id}/cancel`)).status).to.equal(409);
    });

    it("hides another archivist's group (404) but shows it to an administrator", async () => {
      const g = await create(alice, { name: 'mine', jobs: [{ task: 'group-step', params: { name: 'm' } }] });
      const bob = new Client(base, await createToken(ctx.db, users.bob.id, 'tests'));
      expect((await bob.get(`/api/groups/${g.id}`)).status).to.equal(404);
      expect((await bob.request('POST', `/api/groups/${g.id}/cancel`)).status).to.equal(404);
      expect((await bob.request('POST', `/api/groups/${g.id}/retry`)).status).to.equal(404);
      expect((await (await loggedIn(base, 'bob')).get(`/groups/${g.id}`)).status).to.equal(404);
      const list = (await bob.get('/api/groups')).json<{ groups: Array<{ id: number }> }>().groups;
      expect(list.map((x) => x.id)).to.not.include(g.id);
      const admin = new Client(base, await createToken(ctx.db, users.admin.id, 'tests'));
      expect((await getGroup(admin, g.id)).id).to.equal(g.id);
      const web = await loggedIn(base, 'alice');
      const page = await web.get(`/groups/${g.id}`);
      expect(page.status).to.equal(200);
      expect(page.text).to.include(`data-job="${g.jobs[0].id}"`);
      expect((await web.get('/groups')).text).to.include(`data-group="${g.id}"`);
      await ctx.service.cancel(g.jobs[0].id, 'alice');
      expect(users.bob.username).to.equal('bob');
    });

    it('releases the next step from the sweep when the completing process died before it could', async () => {
      const g = await new GroupService(ctx.service).create(
        { name: 'sweep', chain: true, jobs: [{ task: 'noop' }, { task: 'noop' }] },
        null,
        'cli',
      );
      const [first, second] = g.jobs;
      const [claimed] = await ctx.service.claimMany([first.id], 'gone-worker');
      // Completed by the store alone: as if the process died right after its commit.
      const done = await completeJobs(ctx.db, [{ id: claimed.id, attempt: claimed.attempt, resultSummary: null, resultFile: null, resultName: null, objectRef: null }], Date.now(), 'gone-worker');
      expect([...done]).to.deep.equal([first.id]);
      expect((await ctx.service.get(second.id)).runAfter).to.equal(HELD);
      // Two processes sweeping at once release the step once.
      await Promise.all([new Maintenance(ctx.service).sweep(), new Maintenance(ctx.service).sweep()]);
      const released = await ctx.service.get(second.id);
      expect(released.status).to.equal('queued');
      expect(released.runAfter).to.equal(null);
      const events = (await listEvents(ctx.db, second.id)).filter((e) => e.message?.includes('may start'));
      expect(events.map((e) => e.message)).to.deep.equal([`job ${first.id} completed: this step may start`]);
      await ctx.service.cancel(second.id, 'tests');
    });

    it('refuses a bad request with a message naming what is wrong', async () => {
      const bad = async (body: unknown, text: string, status = 400) => {
        const r = await alice.request('POST', '/api/groups', { json: body });
        expect(r.status, r.text).to.equal(status);
        expect(r.text).to.include(text);
      };
      await bad({ chain: true, jobs: [] }, 'name must be');
      await bad({ name: 'x', jobs: [] }, 'jobs must be a list of 1 to 100');
      await bad({ name: 'x', chain: 'yes', jobs: [{ task: 'group-step' }] }, 'chain must be true or false');
      await bad({ name: 'x', jobs: [{ task: 'group-step' }, { task: 'nope' }] }, 'jobs[1]');
      // As for a single job: an archivist may not run a diagnostic task, in a group or not.
      await bad({ name: 'x', jobs: [{ task: 'noop' }] }, 'for administrators only', 403);
      expect(await ctx.db('job_groups').where({ name: 'x' }).count({ n: '*' }).first()).to.deep.include({ n: 0 });
    });

    it('shows the steps a task reported, in order, in the API and on the job page', async () => {
      await startWorker();
      const g = await create(alice, { name: 'steps', jobs: [{ task: 'group-step', params: { name: 's' } }] });
      await waitStatus(alice, g.id, 'Success');
      const id = g.jobs[0].id;
      const job = (await alice.get(`/api/jobs/${id}`)).json<{ job: { steps: Array<{ label: string; status: number }>; stepsText: string; group: { id: number } } }>().job;
      expect(job.steps.map((s) => [s.label, s.status])).to.deep.equal([['Prepare', 2], ['Work', 2], ['Finish', 2]]);
      expect(job.stepsText).to.equal('Prepare. - DONE -- preparing s\nWork. - DONE -- Working on overlap 1 / 1\nFinish. - DONE');
      expect(job.group.id).to.equal(g.id);
      const page = (await (await loggedIn(base, 'alice')).get(`/jobs/${id}`)).text;
      const labels = [...page.matchAll(/<li class="step step-done" data-status="2">(\w+)/g)].map((m) => m[1]);
      expect(labels).to.deep.equal(['Prepare', 'Work', 'Finish']);
      expect(page).to.include(`<a href="/groups/${g.id}">Envelope ${g.id}</a>, step 1`);
    });
  });
}
