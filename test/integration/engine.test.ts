import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../../app/context.js';
import { listEvents, readOutput, getJob } from '../../app/store/jobs.js';
import { listWorkers } from '../../app/store/workers.js';
import { Maintenance } from '../../app/maintenance.js';
import { reapExpired } from '../../app/recovery.js';
import type { Job } from '../../app/types.js';
import { Worker } from '../../workers/worker.js';
import { backends, makeTestEnv, requireService, waitUntil, type TestEnv, jobEnded } from '../helpers.js';
import { enqueueMany } from '../../app/enqueue-many.js';

const ROOT = join(import.meta.dirname, '..', '..');

async function outputOf(ctx: Context, id: number): Promise<string> {
  let text = '';
  let after = 0;
  for (;;) {
    const chunks = await readOutput(ctx.db, id, after, 1000);
    for (const c of chunks) text += c.text;
    if (chunks.length < 1000) return text;
    after = chunks[chunks.length - 1].id;
  }
}

async function finalJob(ctx: Context, id: number, ms = 20_000): Promise<Job> {
  return jobEnded(ctx.db, id, ms);
}

/** A worker in its own process, as an operator would run it. */
function spawnWorker(env: NodeJS.ProcessEnv, args: string[] = []): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'docket.ts'), 'worker', ...args], {
    env,
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

for (const backend of backends()) {
  describe(`job engine on ${backend.name}`, function () {
    this.timeout(60_000);
    let env: TestEnv;
    let ctx: Context;
    let worker: Worker | null = null;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      if (backend.transport === 'amqp') await requireService(this, 'amqp');
      env = await makeTestEnv(backend);
      ctx = await env.context();
    });

    afterEach(async () => {
      if (worker) await worker.stop(2000);
      worker = null;
    });

    after(async () => {
      await env?.cleanup();
    });

    it('runs a job in a child process and keeps every output line, in order', async () => {
      worker = new Worker(ctx.service, ctx.transport, { concurrency: 2 });
      await worker.start();
      const { job } = await ctx.service.enqueue({ task: 'print', params: { lines: 5000, stderr: true }, origin: 'cli' });
      const done = await finalJob(ctx, job.id);
      expect(done.status).to.equal('completed');
      expect(done.startedAt).to.be.a('number');
      expect(done.finishedAt).to.be.at.least(done.startedAt as number);
      expect(done.workerId).to.equal(worker.id);
      expect(done.resultSummary).to.equal('printed 5000 lines');
      const lines = (await outputOf(ctx, job.id)).trimEnd().split('\n');
      expect(lines).to.have.length(5000);
      // stdout and stderr lines are both present; each stream keeps its own order.
      const numbers = lines.map((l) => Number(l.split(' ')[1]));
      expect(new Set(numbers).size).to.equal(5000);
      const stderrLines = numbers.filter((n) => n % 10 === 0);
      expect(stderrLines).to.deep.equal([...stderrLines].sort((a, b) => a - b));
      const events = (await listEvents(ctx.db, job.id)).map((e) => e.type);
      expect(events).to.deep.equal(['queued', 'started', 'completed']);
      // Mirrored on the worker's host.
      const file = join(env.config.jobLogDir, `${job.id}.log`);
      expect(existsSync(file)).to.equal(true);
      expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).to.have.length(5000);
    });

    it('completes 100 concurrent jobs with every line present and in order per job', async () => {
      worker = new Worker(ctx.service, ctx.transport, { concurrency: 4 });
      await worker.start();
      const ids: number[] = [];
      for (let i = 0; i < 100; i++) {
        const { job } = await ctx.service.enqueue({ task: 'print', params: { lines: 200, width: 20 }, origin: 'cli' });
        ids.push(job.id);
      }
      for (const id of ids) {
        const j = await finalJob(ctx, id, 60_000);
        expect(j.status, `job ${id}`).to.equal('completed');
        const lines = (await outputOf(ctx, id)).trimEnd().split('\n');
        expect(lines.map((l) => Number(l.split(' ')[1]))).to.deep.equal(Array.from({ length: 200 }, (_, k) => k + 1));
      }
      const completions = await ctx.db('job_events').whereIn('job_id', ids).where({ type: 'completed' }).count({ n: '*' });
      expect(Number(completions[0].n)).to.equal(100);
    });

    it('fails a job whose task throws, exits non-zero or is killed, with the reason', async () => {
      worker = new Worker(ctx.service, ctx.transport, { concurrency: 2 });
      await worker.start();
      const threw = (await ctx.service.enqueue({ task: 'sleep', params: { seconds: 0, fail: true }, origin: 'cli' })).job;
      const exited = (await ctx.service.enqueue({ task: 'print', params: { lines: 3, exit: 3 }, origin: 'cli' })).job;
      const a = await finalJob(ctx, threw.id);
      expect(a.status).to.equal('failed');
      expect(a.error).to.match(/failed on purpose/);
      const b = await finalJob(ctx, exited.id);
      expect(b.status).to.equal('failed');
      expect(b.error).to.equal("the job's process exited with code 3 before finishing");
      expect((await outputOf(ctx, exited.id)).trimEnd().split('\n')).to.deep.equal(['line 1', 'line 2', 'line 3']);

      const long = (await ctx.service.enqueue({ task: 'sleep', params: { seconds: 30 }, origin: 'cli' })).job;
      const running = await waitUntil(async () => {
        const j = await getJob(ctx.db, long.id);
        return j?.status === 'running' && j.progressTotal ? j : null;
      }, 10_000, 'the sleep job to run');
      expect(running.progressTotal).to.equal(30);
      // Kill the job's own process, as the kernel's OOM killer would.
      const w = worker as unknown as { running: Map<number, { slot: { proc: ChildProcess } }> };
      w.running.get(long.id)!.slot.proc.kill('SIGKILL');
      const c = await finalJob(ctx, long.id);
      expect(c.status).to.equal('failed');
      expect(c.error).to.equal("the job's process was killed by SIGKILL");
    });

    it('keeps a job running longer than its lease alive with heartbeats', async () => {
      worker = new Worker(ctx.service, ctx.transport, { concurrency: 1 });
      await worker.start();
      // The test lease is 3 s: this job outlives two leases.
      const { job } = await ctx.service.enqueue({ task: 'sleep', params: { seconds: 7 }, origin: 'cli' });
      await new Promise((r) => setTimeout(r, 1000));
      await reapExpired(ctx.service);
      const done = await finalJob(ctx, job.id, 20_000);
      expect(done.status).to.equal('completed');
      expect(done.attempt).to.equal(1);
      expect((await listEvents(ctx.db, job.id)).map((e) => e.type)).to.deep.equal(['queued', 'started', 'completed']);
    });

    it('reuses child processes and recycles them after --max-jobs', async () => {
      worker = new Worker(ctx.service, ctx.transport, { concurrency: 1, maxJobs: 2 });
      await worker.start();
      const pids: string[] = [];
      for (let i = 0; i < 4; i++) {
        const { job } = await ctx.service.enqueue({ task: 'print', params: { lines: 1, pid: true }, origin: 'cli' });
        expect((await finalJob(ctx, job.id)).status).to.equal('completed');
        pids.push((await outputOf(ctx, job.id)).split('\n')[0]);
      }
      expect(pids[0]).to.equal(pids[1]);
      expect(pids[2]).to.equal(pids[3]);
      expect(pids[1]).to.not.equal(pids[2]);
      expect(pids[0]).to.not.equal(`pid ${process.pid}`);
    });

    it('recycles a child whose memory passed --max-memory after a job', async () => {
      worker = new Worker(ctx.service, ctx.transport, { concurrency: 1, maxMemoryMb: 150 });
      await worker.start();
      const pids: string[] = [];
      for (const leak of [0, 200, 0]) {
        const { job } = await ctx.service.enqueue({ task: 'print', params: { lines: 1, pid: true, leak }, origin: 'cli' });
        expect((await finalJob(ctx, job.id)).status).to.equal('completed');
        pids.push((await outputOf(ctx, job.id)).split('\n')[0]);
      }
      // Same child for the first two; the leaky second job's child was replaced.
      expect(pids[0]).to.equal(pids[1]);
      expect(pids[2]).to.not.equal(pids[1]);
    });

    it('keeps the last progress of a short job', async () => {
      worker = new Worker(ctx.service, ctx.transport, { concurrency: 1 });
      await worker.start();
      const { job } = await ctx.service.enqueue({ task: 'sleep', params: { seconds: 0.2 }, origin: 'cli' });
      const done = await finalJob(ctx, job.id);
      expect(done.status).to.equal('completed');
      expect([done.progressCurrent, done.progressTotal, done.progressText]).to.deep.equal([1, 1, 'slept 1 of 1 s']);
    });

    it('honours priorities: high before normal before low', async () => {
      const order: number[] = [];
      const low = (await ctx.service.enqueue({ task: 'noop', priority: 'low', origin: 'cli' })).job.id;
      const normal = (await ctx.service.enqueue({ task: 'noop', priority: 'normal', origin: 'cli' })).job.id;
      const high = (await ctx.service.enqueue({ task: 'noop', priority: 'high', origin: 'cli' })).job.id;
      worker = new Worker(ctx.service, ctx.transport, { concurrency: 1 });
      await worker.start();
      for (const id of [low, normal, high]) await finalJob(ctx, id);
      // Jobs claimed in one batch share a start time and run in priority order.
      const rows = await ctx
        .db('jobs')
        .whereIn('id', [low, normal, high])
        .orderBy('started_at', 'asc')
        .orderBy('priority', 'desc')
        .orderBy('id', 'asc');
      for (const r of rows) order.push(Number(r.id));
      expect(order).to.deep.equal([high, normal, low]);
    });

    it('cancels a queued job before it starts and a running one by stopping its child', async () => {
      const queued = (await ctx.service.enqueue({ task: 'sleep', params: { seconds: 1 }, origin: 'cli' })).job;
      expect(await ctx.service.cancel(queued.id, 'alice')).to.equal('cancelled');
      worker = new Worker(ctx.service, ctx.transport, { concurrency: 1, cancelGraceMs: 1000 });
      await worker.start();
      const long = (await ctx.service.enqueue({ task: 'sleep', params: { seconds: 60 }, origin: 'cli' })).job;
      await waitUntil(async () => (await getJob(ctx.db, long.id))?.status === 'running', 10_000, 'running');
      expect(await ctx.service.cancel(long.id, 'bob')).to.equal('cancel-requested');
      const done = await finalJob(ctx, long.id, 10_000);
      expect(done.status).to.equal('cancelled');
      const events = await listEvents(ctx.db, long.id);
      expect(events.map((e) => e.type)).to.deep.equal(['queued', 'started', 'cancel-requested', 'cancelled']);
      expect(events[3].message).to.equal('cancelled by bob');
      expect((await getJob(ctx.db, queued.id))?.startedAt).to.equal(null);
      // A retry is a new attempt of the same job, with its history kept.
      await ctx.service.retry(long.id, 'bob');
      const again = await waitUntil(async () => {
        const j = await getJob(ctx.db, long.id);
        return j?.status === 'running' ? j : null;
      }, 10_000, 'the retried job to run');
      expect(again.attempt).to.equal(2);
      await ctx.service.cancel(long.id, 'bob');
      await finalJob(ctx, long.id, 10_000);
    });

    it('hands running jobs back to the queue on a graceful stop', async () => {
      worker = new Worker(ctx.service, ctx.transport, { concurrency: 1 });
      await worker.start();
      const long = (await ctx.service.enqueue({ task: 'sleep', params: { seconds: 60 }, origin: 'cli' })).job;
      await waitUntil(async () => (await getJob(ctx.db, long.id))?.status === 'running', 10_000, 'running');
      await worker.stop(300);
      worker = null;
      const j = (await getJob(ctx.db, long.id))!;
      expect(j.status).to.equal('queued');
      expect(j.workerId).to.equal(null);
      expect((await listEvents(ctx.db, long.id)).map((e) => e.type)).to.include('requeued');
      await ctx.service.cancel(long.id, 'test');
    });

    /** Many short jobs, a worker that has learnt `noop` is short (so it claims ahead). */
    async function busyWithShortJobs(n: number): Promise<number[]> {
      worker = new Worker(ctx.service, ctx.transport, { concurrency: 2 });
      await worker.start();
      for (let i = 0; i < 3; i++) await finalJob(ctx, (await ctx.service.enqueue({ task: 'noop', origin: 'cli' })).job.id);
      const { ids } = await enqueueMany(ctx.service, Array.from({ length: n }, () => ({ task: 'noop', params: {}, origin: 'cli' as const })));
      await waitUntil(async () => ((await ctx.db('jobs').whereIn('id', ids).where({ status: 'completed' }).count({ c: '*' }).first()) as { c: number }).c >= 20 || null, 20_000, 'jobs to run');
      return ids;
    }

    async function statusesOf(ids: number[]): Promise<Record<string, number>> {
      const rows = (await ctx.db('jobs').whereIn('id', ids).select('status').count({ c: '*' }).groupBy('status')) as Array<{ status: string; c: number }>;
      return Object.fromEntries(rows.map((r) => [r.status, Number(r.c)]));
    }

    it('gives back the jobs it claimed ahead on a graceful stop: none left running, none lost', async () => {
      const ids = await busyWithShortJobs(400);
      await worker!.stop(5000);
      worker = null;
      const st = await statusesOf(ids);
      expect(st.running ?? 0, JSON.stringify(st)).to.equal(0);
      expect((st.completed ?? 0) + (st.queued ?? 0)).to.equal(ids.length);
      // A job given back never started: its attempt is not used up.
      const back = (await ctx.db('jobs').whereIn('id', ids).where({ status: 'queued' }).select('attempt', 'max_attempts')) as Array<{ attempt: number; max_attempts: number }>;
      for (const b of back) expect(Number(b.max_attempts) - Number(b.attempt)).to.be.at.least(3);
      // Another worker finishes the rest, each job once.
      worker = new Worker(ctx.service, ctx.transport, { concurrency: 2 });
      await worker.start();
      for (const id of ids) await finalJob(ctx, id);
      const events = (await ctx.db('job_events').whereIn('job_id', ids).where({ type: 'completed' }).count({ c: '*' }).first()) as { c: number };
      expect(Number(events.c)).to.equal(ids.length);
    });

    it('gives back the jobs it claimed ahead when processing is paused', async () => {
      const ids = await busyWithShortJobs(400);
      await ctx.service.setPaused(true, 'test');
      try {
        await worker!.poke();
        await waitUntil(async () => ((await statusesOf(ids)).running ?? 0) === 0 || null, 10_000, 'no job running');
        const st = await statusesOf(ids);
        expect((st.completed ?? 0) + (st.queued ?? 0), JSON.stringify(st)).to.equal(ids.length);
        expect(st.queued ?? 0, 'the pause came after all had run').to.be.greaterThan(0);
      } finally {
        await ctx.service.setPaused(false, 'test');
      }
      await worker!.poke();
      for (const id of ids) await finalJob(ctx, id);
    });

    it('recovers the job of a SIGKILLed worker within a lease period, completing it once', async function () {
      const w1 = spawnWorker(env.env, ['--concurrency', '1']);
      let w2: ChildProcess | null = null;
      try {
        const { job } = await ctx.service.enqueue({ task: 'sleep', params: { seconds: 2 }, origin: 'cli' });
        const running = await waitUntil(async () => {
          const j = await getJob(ctx.db, job.id);
          return j?.status === 'running' ? j : null;
        }, 20_000, 'the first worker to start the job');
        w1.kill('SIGKILL');
        const killedAt = Date.now();
        // The sweep a web process runs (here, the test's own) notices the death.
        const sweep = new Maintenance(ctx.service);
        sweep.start();
        try {
          await waitUntil(async () => (await listEvents(ctx.db, job.id)).find((e) => e.type === 'retried'), 20_000, 'recovery');
        } finally {
          sweep.stop();
        }
        const retried = (await listEvents(ctx.db, job.id)).find((e) => e.type === 'retried')!;
        // Within one lease period (3 s in tests) plus one sweep interval.
        expect(retried.at - killedAt).to.be.below(env.config.leaseMs + 1500);
        if (backend.transport === 'amqp') {
          // The broker drops the dead worker's presence queue at once: no need to wait for the lease.
          expect(retried.at - killedAt).to.be.below(1500);
          expect(retried.message).to.match(/disconnected from the broker/);
        }
        if (process.env.DOCKET_TEST_REPORT) console.log(`      recovered in ${retried.at - killedAt} ms`);
        w2 = spawnWorker(env.env, ['--concurrency', '1']);
        const recovered = await waitUntil(async () => {
          const j = await getJob(ctx.db, job.id);
          return j && j.attempt === 2 ? j : null;
        }, 20_000, 'the job to run again');
        expect(recovered.workerId).to.not.equal(running.workerId);
        const done = await finalJob(ctx, job.id, 20_000);
        expect(done.status).to.equal('completed');
        const events = await listEvents(ctx.db, job.id);
        expect(events.filter((e) => e.type === 'completed')).to.have.length(1);
        expect(events.find((e) => e.type === 'retried')?.message).to.match(/worker lost/);
        const workers = await listWorkers(ctx.db, Date.now(), env.config.heartbeatMs);
        expect(workers.find((w) => w.id === running.workerId)?.state).to.be.oneOf(['lost', 'active']);
      } finally {
        w1.kill('SIGKILL');
        if (w2) {
          w2.kill('SIGTERM');
          await new Promise((r) => w2!.once('exit', r));
        }
      }
    });

    // With RabbitMQ the sweep recovers a worker without a presence queue at once (the test above).
    if (backend.transport === 'db') {
      it('retries a job when its lease runs out, not a sweep later', async () => {
        const { job } = await ctx.service.enqueue({ task: 'sleep', params: { seconds: 30 }, origin: 'cli' });
        // A worker that claimed the job and died: its lease runs out in 400 ms.
        const leaseEnd = ctx.service.now() + 400;
        await ctx.db('jobs').where({ id: job.id }).update({ status: 'running', worker_id: 'gone-host-1-abcdef', attempt: 1, started_at: ctx.service.now(), lease_expires_at: leaseEnd });
        const sweep = new Maintenance(ctx.service);
        // One sweep and no other: what reaps the job is the timer that sweep set for the lease's end.
        (sweep as unknown as { schedule: () => void }).schedule = () => {};
        try {
          await sweep.sweep();
          expect((await getJob(ctx.db, job.id))?.status, 'the lease had not run out at the sweep').to.equal('running');
          const retried = await waitUntil(async () => (await listEvents(ctx.db, job.id)).find((e) => e.type === 'retried'), 10_000, 'the retry at the lease end');
          expect(retried.message).to.match(/gone-host-1-abcdef stopped renewing its lease/);
          expect(retried.at).to.be.at.least(leaseEnd);
          expect((await getJob(ctx.db, job.id))?.status).to.equal('queued');
        } finally {
          sweep.stop();
          await ctx.service.cancel(job.id, 'test').catch(() => undefined);
        }
      });
    }

    it('fails a poison pill after its maximum attempts with the reason', async () => {
      // A job that kills its worker every time: each attempt is recovered, the last fails.
      const { job } = await ctx.service.enqueue({ task: 'sleep', params: { seconds: 30 }, origin: 'cli' });
      for (let attempt = 1; attempt <= 3; attempt++) {
        const w = spawnWorker(env.env, ['--concurrency', '1']);
        await waitUntil(async () => {
          const j = await getJob(ctx.db, job.id);
          return j?.status === 'running' && j.attempt === attempt;
        }, 20_000, `attempt ${attempt} to run`);
        w.kill('SIGKILL');
        await new Promise((r) => w.once('exit', r));
      }
      // No worker is left: the sweep every process runs (here the test's own) fails it.
      const j = await waitUntil(async () => {
        await reapExpired(ctx.service);
        const row = await getJob(ctx.db, job.id);
        return row?.status === 'failed' ? row : null;
      }, 20_000, 'the poison pill to fail');
      expect(j.error).to.match(/worker lost: .* \(attempt 3 of 3; no attempts left\)/);
    });
  });
}
