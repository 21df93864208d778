/**
 * The controls of "nothing lost, nothing stuck": automatic retries with backoff, a
 * typed error that fails without retry, soft and hard time limits, cancel with SIGKILL
 * after the grace period, pause and resume, clearing the queue, pausing on failure,
 * unique jobs, and lost workers in `docket workers`.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Context } from '../../app/context.js';
import { getJob, listEvents } from '../../app/store/jobs.js';
import type { Job, JobEvent } from '../../app/types.js';
import { Worker } from '../../workers/worker.js';
import { FAULT_TASKS_MODULE } from '../faults/tasks.js';
import { backends, makeTestEnv, requireService, waitUntil, type TestEnv, jobEnded } from '../helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DOCKET = join(ROOT, 'cli', 'docket.ts');

async function finalJob(ctx: Context, id: number, ms = 20_000): Promise<Job> {
  return jobEnded(ctx.db, id, ms);
}

/** `docket ARGS` in its own process, as an operator runs it. */
function docket(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', DOCKET, ...args], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout!.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    p.on('exit', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

const ofType = (events: JobEvent[], type: string): JobEvent[] => events.filter((e) => e.type === type);

for (const backend of backends()) {
  describe(`controls on ${backend.name}`, function () {
    this.timeout(60_000);
    let env: TestEnv;
    let ctx: Context;
    let worker: Worker | null = null;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      if (backend.transport === 'amqp') await requireService(this, 'amqp');
      // The fault suite's tasks (flaky, time-limited, exclusive), here and in the children.
      env = await makeTestEnv(backend, { DOCKET_EXTRA_TASKS: FAULT_TASKS_MODULE });
      ctx = await env.context();
    });

    beforeEach(async () => {
      worker = new Worker(ctx.service, ctx.transport, { concurrency: 2, cancelGraceMs: 1000 });
      await worker.start();
    });

    afterEach(async () => {
      if (worker) await worker.stop(2000);
      worker = null;
      await ctx.service.setPaused(false, '');
    });

    after(async () => {
      await env?.cleanup();
    });

    it('retries a failing task with exponential backoff until it succeeds', async () => {
      const { job } = await ctx.service.enqueue({ task: 'flaky', params: { failures: 2 }, origin: 'cli' });
      const done = await finalJob(ctx, job.id);
      expect(done.status).to.equal('completed');
      expect(done.attempt).to.equal(3);
      expect(done.resultSummary).to.equal('succeeded on attempt 3');
      const events = await listEvents(ctx.db, job.id);
      const retried = ofType(events, 'retried');
      expect(retried.map((e) => e.message)).to.deep.equal([
        'attempt 1 failed on purpose; retrying (attempt 2 of 4) in 0.3 s',
        'attempt 2 failed on purpose; retrying (attempt 3 of 4) in 0.6 s',
      ]);
      // Each attempt starts no sooner than its backoff: 300 ms, then 600 ms.
      const started = ofType(events, 'started');
      expect(started[1].at - retried[0].at).to.be.at.least(300);
      expect(started[2].at - retried[1].at).to.be.at.least(600);
    });

    it('fails after the maximum attempts, with the last reason', async () => {
      const { job } = await ctx.service.enqueue({ task: 'flaky', params: { failures: 100 }, origin: 'cli' });
      const done = await finalJob(ctx, job.id);
      expect(done.status).to.equal('failed');
      expect(done.attempt).to.equal(4);
      expect(done.error).to.equal('attempt 4 failed on purpose');
      expect(ofType(await listEvents(ctx.db, job.id), 'retried')).to.have.length(3);
    });

    it('fails at once, without retry, on an UnrecoverableError', async () => {
      const { job } = await ctx.service.enqueue({ task: 'flaky', params: { unrecoverable: true }, origin: 'cli' });
      const done = await finalJob(ctx, job.id);
      expect(done.status).to.equal('failed');
      expect(done.attempt).to.equal(1);
      expect(done.error).to.equal('the input can never work (failed on purpose, no retry)');
      expect(ofType(await listEvents(ctx.db, job.id), 'retried')).to.have.length(0);
    });

    it('fails a job at its soft time limit when the task stops, and kills it at the hard one when not', async () => {
      const soft = (await ctx.service.enqueue({ task: 'time-limited', params: { seconds: 20 }, origin: 'cli' })).job;
      const hard = (await ctx.service.enqueue({ task: 'time-limited', params: { seconds: 20, ignoreAbort: true }, origin: 'cli' })).job;
      const a = await finalJob(ctx, soft.id);
      expect(a.status).to.equal('failed');
      expect(a.error).to.equal('soft time limit of 1 s reached');
      expect((a.finishedAt as number) - (a.startedAt as number)).to.be.within(900, 2900);
      const b = await finalJob(ctx, hard.id);
      expect(b.status).to.equal('failed');
      expect(b.error).to.equal('hard time limit of 3 s reached; the job was killed');
      expect((b.finishedAt as number) - (b.startedAt as number)).to.be.within(2900, 6000);
      expect(ofType(await listEvents(ctx.db, hard.id), 'retried')).to.have.length(0);
    });

    it('cancels a job that ignores SIGTERM with SIGKILL after the grace period, naming who', async () => {
      const { job } = await ctx.service.enqueue({ task: 'fault-probe', params: { ms: 60_000, stubborn: true }, origin: 'cli' });
      await waitUntil(async () => (await getJob(ctx.db, job.id))?.status === 'running', 10_000, 'running');
      const asked = Date.now();
      expect(await ctx.service.cancel(job.id, 'alice')).to.equal('cancel-requested');
      const done = await finalJob(ctx, job.id, 15_000);
      expect(done.status).to.equal('cancelled');
      // A heartbeat to see the request, then the 1 s grace before SIGKILL.
      expect(Date.now() - asked).to.be.within(1000, env.config.heartbeatMs * 2 + 1000 + 2000);
      const last = (await listEvents(ctx.db, job.id)).pop()!;
      expect(last.type).to.equal('cancelled');
      expect(last.actor).to.equal('alice');
      expect(last.message).to.equal('cancelled by alice');
    });

    it('pauses processing: running jobs finish, no new job starts, queue:status says so; resume starts them', async () => {
      const running = (await ctx.service.enqueue({ task: 'sleep', params: { seconds: 2 }, origin: 'cli' })).job;
      await waitUntil(async () => (await getJob(ctx.db, running.id))?.status === 'running', 10_000, 'running');
      const paused = await docket(env.env, 'queue:pause');
      expect(paused.code, paused.err).to.equal(0);
      await worker!.poke();
      const waiting = (await ctx.service.enqueue({ task: 'noop', origin: 'cli' })).job;
      expect((await finalJob(ctx, running.id)).status).to.equal('completed');
      const status = await docket(env.env, 'queue:status');
      expect(status.out).to.match(/^processing: paused \(paused from the command line\)$/m);
      expect(status.out).to.match(/^queued: 1, running: 0$/m);
      expect((await getJob(ctx.db, waiting.id))?.status).to.equal('queued');
      const json = JSON.parse((await docket(env.env, 'queue:status', '--json')).out) as { paused: boolean; reason: string };
      expect(json).to.include({ paused: true, reason: 'paused from the command line' });
      expect((await docket(env.env, 'queue:resume')).code).to.equal(0);
      expect((await finalJob(ctx, waiting.id)).status).to.equal('completed');
      expect((await docket(env.env, 'queue:status')).out).to.match(/^processing: running$/m);
    });

    it('clears the queue: every queued job is cancelled, the running one goes on', async () => {
      const running = (await ctx.service.enqueue({ task: 'sleep', params: { seconds: 2 }, origin: 'cli' })).job;
      await waitUntil(async () => (await getJob(ctx.db, running.id))?.status === 'running', 10_000, 'running');
      // Paused, so that the queued jobs stay queued until the clear.
      await ctx.service.setPaused(true, 'test');
      await worker!.poke();
      const queued: number[] = [];
      for (let i = 0; i < 5; i++) queued.push((await ctx.service.enqueue({ task: 'noop', origin: 'cli' })).job.id);
      const cleared = await docket(env.env, 'queue:clear');
      expect(cleared.code, cleared.err).to.equal(0);
      expect(cleared.out).to.equal('cancelled 5 queued job(s)\n');
      for (const id of queued) {
        const j = (await getJob(ctx.db, id))!;
        expect(j.status).to.equal('cancelled');
        expect(j.startedAt).to.equal(null);
        expect((await listEvents(ctx.db, id)).pop()?.message).to.equal('cancelled by Command line (queue cleared)');
      }
      expect((await finalJob(ctx, running.id)).status).to.equal('completed');
    });

    it('pauses automatically when a job fails, when that setting is on', async () => {
      expect((await docket(env.env, 'queue:pause-on-failure', 'on')).code).to.equal(0);
      try {
        const { job } = await ctx.service.enqueue({ task: 'flaky', params: { unrecoverable: true }, origin: 'cli' });
        expect((await finalJob(ctx, job.id)).status).to.equal('failed');
        // The pause is written in the failure's own transaction: seen with the failed status.
        expect(await ctx.service.isPaused()).to.equal(true);
        const audit = (await ctx.db('audit').where('action', 'queue.auto-pause').orderBy('id', 'desc').first()) as Record<string, unknown>;
        expect(audit).to.include({ actor: 'system', target: 'task flaky' });
        expect(String(audit.detail)).to.match(new RegExp(`^job ${job.id} failed: `));
        const status = await docket(env.env, 'queue:status');
        expect(status.out).to.include(`processing: paused (paused automatically: job ${job.id} failed)`);
        expect(status.out).to.include('pause on failure: on');
        // No new job starts until someone resumes.
        await worker!.poke();
        const next = (await ctx.service.enqueue({ task: 'noop', origin: 'cli' })).job;
        await new Promise((r) => setTimeout(r, 1500));
        expect((await getJob(ctx.db, next.id))?.status).to.equal('queued');
        await ctx.service.setPaused(false, '');
        expect((await finalJob(ctx, next.id)).status).to.equal('completed');
      } finally {
        expect((await docket(env.env, 'queue:pause-on-failure', 'off')).code).to.equal(0);
      }
      const ok = (await ctx.service.enqueue({ task: 'flaky', params: { unrecoverable: true }, origin: 'cli' })).job;
      await finalJob(ctx, ok.id);
      expect(await ctx.service.isPaused()).to.equal(false);
    });

    it('joins a second request for the same unique key instead of starting a duplicate', async () => {
      const first = await ctx.service.enqueue({ task: 'exclusive', params: { key: 'fonds-1', seconds: 1 }, origin: 'cli' });
      const second = await ctx.service.enqueue({ task: 'exclusive', params: { key: 'fonds-1', seconds: 1 }, origin: 'cli' });
      const other = await ctx.service.enqueue({ task: 'exclusive', params: { key: 'fonds-2', seconds: 0 }, origin: 'cli' });
      expect(first.joined).to.equal(false);
      expect(second.joined).to.equal(true);
      expect(second.job.id).to.equal(first.job.id);
      expect(other.job.id).to.not.equal(first.job.id);
      // Joining a running job works the same.
      await waitUntil(async () => (await getJob(ctx.db, first.job.id))?.status === 'running', 10_000, 'running');
      const third = await ctx.service.enqueue({ task: 'exclusive', params: { key: 'fonds-1' }, origin: 'cli' });
      expect(third).to.include({ joined: true });
      expect(third.job.id).to.equal(first.job.id);
      expect((await finalJob(ctx, first.job.id)).status).to.equal('completed');
      const events = await listEvents(ctx.db, first.job.id);
      expect(ofType(events, 'joined')).to.have.length(2);
      expect(ofType(events, 'started')).to.have.length(1);
      // Once it is finished, the same key starts a new job.
      const later = await ctx.service.enqueue({ task: 'exclusive', params: { key: 'fonds-1', seconds: 0 }, origin: 'cli' });
      expect(later.joined).to.equal(false);
      expect(later.job.id).to.not.equal(first.job.id);
      await finalJob(ctx, later.job.id);
      await finalJob(ctx, other.job.id);
    });

    it('lists a worker that stopped heartbeating as lost in docket workers', async () => {
      const proc: ChildProcess = spawn(process.execPath, ['--import', 'tsx', DOCKET, 'worker', '--concurrency', '1'], {
        env: env.env,
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      try {
        await new Promise<void>((resolve, reject) => {
          proc.stdout!.on('data', (b: Buffer) => (b.toString().includes('is taking') ? resolve() : undefined));
          proc.once('exit', () => reject(new Error('the worker exited before it started')));
        });
        const before = JSON.parse((await docket(env.env, 'workers', '--json')).out) as Array<{ pid: number; state: string }>;
        expect(before.find((w) => w.pid === proc.pid)?.state).to.equal('active');
        proc.kill('SIGKILL');
        // Lost after three missed heartbeats.
        await new Promise((r) => setTimeout(r, env.config.heartbeatMs * 3 + 500));
        const table = await docket(env.env, 'workers');
        const line = table.out.split('\n').find((l) => l.includes(` ${proc.pid} `));
        expect(line, table.out).to.match(/\blost\b/);
        const after = JSON.parse((await docket(env.env, 'workers', '--json')).out) as Array<{ pid: number; state: string }>;
        expect(after.find((w) => w.pid === proc.pid)?.state).to.equal('lost');
        // The in-process worker of this test is listed as active beside it.
        expect(after.find((w) => w.pid === process.pid)?.state).to.equal('active');
      } finally {
        proc.kill('SIGKILL');
      }
    });
  });
}
