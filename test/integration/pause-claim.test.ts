/**
 * A pause holds from the moment it returns: no job enqueued after `docket queue:pause`
 * (or an automatic pause on failure) starts, on a worker busy with a job or an idle one,
 * however far off their next heartbeat is; a resume runs them all. The claim itself reads
 * the pause switch (app/store/job-claim.ts).
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Context } from '../../app/context.js';
import { getJob, listEvents } from '../../app/store/jobs.js';
import { Worker } from '../../workers/worker.js';
import { FAULT_TASKS_MODULE } from '../faults/tasks.js';
import { backends, makeTestEnv, requireService, waitUntil, type TestEnv, jobEnded } from '../helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DOCKET = join(ROOT, 'cli', 'docket.ts');
/**
 * Long, so that a worker that learned of a pause only at its next heartbeat would surely
 * start the jobs enqueued right after the pause (what happened before the claim read it).
 */
const HEARTBEAT_MS = 2500;

function docket(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', DOCKET, ...args], { env, cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    p.on('exit', (code) => resolve({ code: code ?? -1, err }));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

for (const backend of backends()) {
  describe(`an immediate pause on ${backend.name}`, function () {
    this.timeout(90_000);
    let env: TestEnv;
    let ctx: Context;
    const workers: Worker[] = [];

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      if (backend.transport === 'amqp') await requireService(this, 'amqp');
      env = await makeTestEnv(backend, {
        DOCKET_HEARTBEAT_MS: String(HEARTBEAT_MS),
        DOCKET_LEASE_MS: String(HEARTBEAT_MS * 4),
        DOCKET_EXTRA_TASKS: FAULT_TASKS_MODULE,
      });
      ctx = await env.context();
    });

    beforeEach(async () => {
      // Two workers, each with its own connections and transport, as two processes have.
      for (let i = 0; i < 2; i++) {
        const own = await env.context();
        const w = new Worker(own.service, own.transport, { concurrency: 2, maintenance: false });
        await w.start();
        workers.push(w);
      }
    });

    afterEach(async () => {
      for (const w of workers.splice(0)) await w.stop(2000);
      await ctx.service.setPaused(false, '');
    });

    after(async () => {
      await env?.cleanup();
    });

    /** Enqueues `n` noops right away, waits two heartbeats, and checks none started. */
    async function enqueueWhilePaused(n: number): Promise<number[]> {
      const ids: number[] = [];
      for (let i = 0; i < n; i++) ids.push((await ctx.service.enqueue({ task: 'noop', origin: 'cli' })).job.id);
      await sleep(HEARTBEAT_MS * 2 + 500);
      for (const id of ids) {
        const j = (await getJob(ctx.db, id))!;
        expect(j.status, `job ${id} after the pause`).to.equal('queued');
        expect(j.startedAt).to.equal(null);
        expect(j.attempt, 'a refused claim uses up no attempt').to.equal(0);
        expect((await listEvents(ctx.db, id)).map((e) => e.type)).not.to.include('started');
      }
      return ids;
    }

    async function resumeAndFinish(ids: number[]): Promise<void> {
      await ctx.service.setPaused(false, '');
      for (const id of ids) {
        const done = await jobEnded(ctx.db, id, 20_000);
        expect(done.status).to.equal('completed');
      }
    }

    it('starts no job enqueued after `docket queue:pause` returned, on a busy worker or an idle one', async () => {
      const busy = (await ctx.service.enqueue({ task: 'sleep', params: { seconds: 3 }, origin: 'cli' })).job;
      await waitUntil(async () => (await getJob(ctx.db, busy.id))?.status === 'running', 10_000, 'the sleep job to run');
      const paused = await docket(env.env, 'queue:pause');
      expect(paused.code, paused.err).to.equal(0);
      const ids = await enqueueWhilePaused(5);
      // A running job finishes during a pause.
      expect((await getJob(ctx.db, busy.id))?.status).to.equal('completed');
      await resumeAndFinish(ids);
    });

    it('starts no job enqueued after an automatic pause on failure', async () => {
      const on = await docket(env.env, 'queue:pause-on-failure', 'on');
      expect(on.code, on.err).to.equal(0);
      try {
        const { job } = await ctx.service.enqueue({ task: 'flaky', params: { unrecoverable: true }, origin: 'cli' });
        await waitUntil(() => ctx.service.isPaused(), 10_000, 'processing to pause after the failure');
        expect((await getJob(ctx.db, job.id))?.status).to.equal('failed');
        const ids = await enqueueWhilePaused(5);
        await resumeAndFinish(ids);
      } finally {
        expect((await docket(env.env, 'queue:pause-on-failure', 'off')).code).to.equal(0);
      }
    });
  });
}
