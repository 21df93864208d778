/**
 * A worker holds no job it cannot start at once: a worker whose children are all busy
 * takes no delivery, so a job goes to the worker with a free slot; and after a resume
 * every worker starts at once (not at its next heartbeat), each taking only what its
 * free children can start, so a backlog spreads over them (bench scenario 11 measures
 * the same with timings; here the assertions are on who ran what).
 */
import { expect } from 'chai';
import type { Context } from '../../app/context.js';
import { getJob, listEvents } from '../../app/store/jobs.js';
import type { Transport } from '../../app/transports/transport.js';
import type { Job } from '../../app/types.js';
import { Worker } from '../../workers/worker.js';
import { backends, makeTestEnv, requireService, waitUntil, type TestEnv, jobEnded } from '../helpers.js';

/**
 * Far longer than the tests: a worker that learned of a resume only at its heartbeat
 * would start late, and one of them would take the whole backlog.
 */
const HEARTBEAT_MS = 20_000;
/** Behaviour bounds, not speed targets: generous for a loaded 2-core machine. */
const SETTLE_MS = 1500;
const START_WITHIN_MS = 3000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Records the job ids a transport delivers to its worker. */
function recordDeliveries(t: Transport): number[] {
  const seen: number[] = [];
  const consume = t.consume.bind(t);
  t.consume = (opts) =>
    consume({
      ...opts,
      onDelivery: (d) => {
        seen.push(d.jobId);
        opts.onDelivery(d);
      },
    });
  return seen;
}

async function finished(ctx: Context, id: number, ms: number): Promise<Job> {
  return jobEnded(ctx.db, id, ms);
}

for (const backend of backends()) {
  describe(`a job goes to a worker that can start it, on ${backend.name}`, function () {
    this.timeout(120_000);
    let env: TestEnv;
    let ctx: Context;
    const workers: Array<{ worker: Worker; delivered: number[] }> = [];

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      if (backend.transport === 'amqp') await requireService(this, 'amqp');
      env = await makeTestEnv(backend, { DOCKET_HEARTBEAT_MS: String(HEARTBEAT_MS), DOCKET_LEASE_MS: String(HEARTBEAT_MS * 3) });
      ctx = await env.context();
    });

    /** Two workers, each with its own connections and transport, as two processes have. */
    async function startWorkers(concurrency: number): Promise<void> {
      for (let i = 0; i < 2; i++) {
        const own = await env.context();
        const delivered = recordDeliveries(own.transport);
        const worker = new Worker(own.service, own.transport, { concurrency, maintenance: false });
        await worker.start();
        workers.push({ worker, delivered });
      }
    }

    afterEach(async () => {
      for (const w of workers.splice(0)) await w.worker.stop(2000);
      await ctx.service.setPaused(false, '');
      // The long job a stop handed back must not take a slot in the next test.
      await ctx.service.clearQueue('test');
    });

    after(async () => {
      await env?.cleanup();
    });

    const enqueueSleep = async (seconds: number): Promise<number> =>
      (await ctx.service.enqueue({ task: 'sleep', params: { seconds }, origin: 'cli' })).job.id;

    it('starts a short job on the free worker, never delivering it to the one busy with a long job', async () => {
      await startWorkers(1);
      const longId = await enqueueSleep(8);
      const long = await waitUntil(async () => {
        const j = await getJob(ctx.db, longId);
        return j?.status === 'running' ? j : null;
      }, 10_000, 'the long job to start');
      const busy = workers.find((w) => w.worker.id === long.workerId)!;
      const free = workers.find((w) => w !== busy)!;
      // Time for the busy worker's credit to fall to 0 (its consumers cancelled).
      await sleep(SETTLE_MS);
      const before = busy.delivered.length;

      const shortId = await enqueueSleep(0.2);
      const short = await finished(ctx, shortId, 10_000);
      expect(short.status).to.equal('completed');
      expect(short.workerId, 'the worker that ran the short job').to.equal(free.worker.id);
      expect(busy.delivered.slice(before), 'deliveries to the busy worker after its long job started').to.not.include(shortId);
      // Claimed once, by the free worker: never claimed and handed back by the busy one.
      expect(short.attempt).to.equal(1);
      const events = await listEvents(ctx.db, shortId);
      expect(events.map((e) => `${e.actor} ${e.message ?? ''}`).join('\n'), 'the short job\'s events').to.not.include(busy.worker.id);
      expect(events.map((e) => e.actor), 'the short job\'s events').to.include(free.worker.id);
      expect(short.startedAt! - short.queuedAt).to.be.at.most(START_WITHIN_MS);
    });

    it('spreads a backlog over both workers at once after a resume, each taking its free slots', async () => {
      const concurrency = 2;
      await startWorkers(concurrency);
      await ctx.service.setPaused(true, 'test');
      for (const w of workers) await w.worker.poke();
      const ids: number[] = [];
      // Long enough that a worker that started first could not also run the other's share.
      for (let i = 0; i < concurrency * 2; i++) ids.push(await enqueueSleep(4));
      await sleep(300);
      for (const id of ids) expect((await getJob(ctx.db, id))!.status, `job ${id} while paused`).to.equal('queued');

      const resumedAt = Date.now();
      // No poke: each worker must see the resume itself, well before its next heartbeat.
      await ctx.service.setPaused(false, 'test');
      const jobs: Job[] = [];
      for (const id of ids) jobs.push(await finished(ctx, id, 60_000));
      for (const j of jobs) expect(j.status, `job ${j.id}`).to.equal('completed');
      const by = new Map<string, number>();
      for (const j of jobs) by.set(j.workerId!, (by.get(j.workerId!) ?? 0) + 1);
      expect([...by.values()], `jobs per worker: ${JSON.stringify([...by])}`).to.deep.equal([concurrency, concurrency]);
      for (const j of jobs) {
        expect(j.startedAt! - resumedAt, `job ${j.id} started after the resume`).to.be.at.most(START_WITHIN_MS);
      }
    });
  });
}
