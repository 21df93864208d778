import { expect } from 'chai';
import amqp from 'amqplib';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Context } from '../../app/context.js';
import { checkLostMessages, DUTY_SPACING, EMPTY_GRACE_MS, LOST_CHECK_MS, spaceTurns, TURN } from '../../app/lost-messages.js';
import { getJob, tasksWaiting } from '../../app/store/jobs.js';
import { takeTurn } from '../../app/store/settings.js';
import { AmqpTransport } from '../../app/transports/amqp-transport.js';
import { Worker } from '../../workers/worker.js';
import { AMQP_URL, makeTestEnv, requireService, waitUntil, type TestEnv } from '../helpers.js';
import { enqueueMany } from '../../app/enqueue-many.js';

/** Purges a task queue from outside Docket, as an operator would from the management page. */
async function purgeFromOutside(queue: string): Promise<number> {
  const conn = await amqp.connect(AMQP_URL as string);
  try {
    const ch = await conn.createChannel();
    const { messageCount } = await ch.purgeQueue(queue);
    await ch.close();
    return messageCount;
  } finally {
    await conn.close();
  }
}

const ROOT = join(import.meta.dirname, '..', '..');

async function docket(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'docket.ts'), ...args], { env, cwd: ROOT });
  return stdout;
}

describe('messages the broker lost (MariaDB + RabbitMQ)', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let ctx: Context;
  let queue: string;
  let worker: Worker | null = null;

  beforeEach(async function () {
    await requireService(this, 'mysql');
    await requireService(this, 'amqp');
    env = await makeTestEnv({ db: 'mysql', transport: 'amqp' });
    ctx = await env.context();
    queue = (ctx.transport as AmqpTransport).queueName('noop');
  });
  afterEach(async () => {
    if (worker) await worker.stop(2000);
    worker = null;
    await env?.cleanup();
  });

  /** Waits for the dispatched marks, then moves them back as if confirmed `ms` ago. */
  async function confirmedAgo(ids: number[], ms: number): Promise<void> {
    await waitUntil(async () => (await ctx.db('jobs').whereIn('id', ids).whereNull('dispatched_at').count({ n: '*' }))[0].n == 0, 5000, 'the dispatched marks');
    await ctx.db('jobs').whereIn('id', ids).update({ dispatched_at: Date.now() - ms });
  }

  it('runs a job whose confirmed message was purged, within the documented bound', async () => {
    const { job, dispatched } = await ctx.service.enqueue({ task: 'noop', origin: 'cli' });
    expect(dispatched).to.equal(true);
    await confirmedAgo([job.id], 0);
    expect(await purgeFromOutside(queue)).to.equal(1);
    const purgedAt = Date.now();
    worker = new Worker(ctx.service, ctx.transport, { concurrency: 1 });
    await worker.start();
    const done = await waitUntil(async () => {
      const j = await getJob(ctx.db, job.id);
      return j?.status === 'completed' ? j : null;
    }, 40_000, 'the purged job to complete');
    const took = done.finishedAt! - purgedAt;
    // The bound: the grace after its confirm, plus one check interval, plus a sweep.
    expect(took).to.be.below(EMPTY_GRACE_MS + LOST_CHECK_MS + 2000);
    expect(done.attempt).to.equal(1);
    console.log(`      purge → completed in ${took} ms`);
  });

  it('publishes nothing while the broker holds every message, and once each message after a purge', async () => {
    const { ids } = await enqueueMany(ctx.service, Array.from({ length: 20 }, () => ({ task: 'noop', origin: 'cli' as const })));
    await confirmedAgo(ids, 60_000);
    expect((await checkLostMessages(ctx.service)).republished.size).to.equal(0);

    expect(await purgeFromOutside(queue)).to.equal(20);
    expect((await checkLostMessages(ctx.service)).republished.get('noop')).to.equal(20);
    // Their confirm moved to now: the next checks publish nothing more.
    await confirmedAgo(ids, 60_000);
    expect((await checkLostMessages(ctx.service)).republished.size).to.equal(0);
    const depth = (await ctx.transport.queueDepths(['noop']))!.get('noop')!;
    expect(depth.ready).to.equal(20);
  });

  it('publishes only the deficit, oldest first, when the queue holds fewer messages than waiting jobs', async () => {
    const { ids } = await enqueueMany(ctx.service, Array.from({ length: 20 }, () => ({ task: 'noop', origin: 'cli' as const })));
    await confirmedAgo(ids, 60_000);
    await purgeFromOutside(queue);
    // Five of them back in the queue (the newest): fifteen messages are missing.
    const tail = await ctx.db('jobs').select('id', 'task', 'priority').whereIn('id', ids.slice(15));
    expect(await ctx.transport.publish(tail.map((r) => ({ id: Number(r.id), task: 'noop', priority: Number(r.priority) })))).to.have.length(5);
    const before = Date.now();
    expect((await checkLostMessages(ctx.service)).republished.get('noop')).to.equal(15);
    const moved = await ctx.db('jobs').whereIn('id', ids).where('dispatched_at', '>=', before).orderBy('id').pluck('id');
    expect(moved.map(Number)).to.deep.equal(ids.slice(0, 15));
    expect((await checkLostMessages(ctx.service)).republished.size).to.equal(0);
  });

  it('asks the broker about the tasks with jobs waiting, and spaces its turns behind a slow count', async () => {
    expect(await tasksWaiting(ctx.db)).to.deep.equal([]);
    await enqueueMany(ctx.service, [{ task: 'noop', params: {}, origin: 'cli' }, { task: 'noop', params: {}, origin: 'cli' }, { task: 'sleep', params: { seconds: 1 }, origin: 'cli' }]);
    expect((await tasksWaiting(ctx.db)).sort()).to.deep.equal(['noop', 'sleep']);
    // A count of 1 s (a backlog of about a million jobs): the next turn comes 40 s later, not 5 s.
    const now = ctx.service.now();
    await spaceTurns(ctx.service, 1000);
    expect(await takeTurn(ctx.db, TURN, now + LOST_CHECK_MS + 500, LOST_CHECK_MS)).to.equal(false);
    expect(await takeTurn(ctx.db, TURN, now + 1000 * DUTY_SPACING - 500, LOST_CHECK_MS)).to.equal(false);
    expect(await takeTurn(ctx.db, TURN, now + 1000 * DUTY_SPACING + 500, LOST_CHECK_MS)).to.equal(true);
    // A quick count leaves the turn as it was taken.
    const taken = now + 1000 * DUTY_SPACING + 500;
    await spaceTurns(ctx.service, 20);
    expect(await takeTurn(ctx.db, TURN, taken + LOST_CHECK_MS + 1, LOST_CHECK_MS)).to.equal(true);
  });

  it('leaves a paused queue alone (its workers may hold deliveries)', async () => {
    const { ids } = await enqueueMany(ctx.service, Array.from({ length: 3 }, () => ({ task: 'noop', origin: 'cli' as const })));
    await confirmedAgo(ids, 60_000);
    await purgeFromOutside(queue);
    await ctx.service.setPaused(true, 'test');
    expect((await checkLostMessages(ctx.service)).republished.size).to.equal(0);
    await ctx.service.setPaused(false, '');
    expect((await checkLostMessages(ctx.service)).republished.get('noop')).to.equal(3);
  });

  it('queue:status shows per task the broker\'s messages beside the queued jobs', async () => {
    const { ids } = await enqueueMany(ctx.service, Array.from({ length: 4 }, () => ({ task: 'noop', origin: 'cli' as const })));
    await confirmedAgo(ids, 0);
    const before = JSON.parse(await docket(env.env, ['queue:status', '--json'])) as { tasks: unknown[] };
    expect(before.tasks).to.deep.equal([{ task: 'noop', queued: 4, dispatched: 4, brokerReady: 4, consumers: 0 }]);
    await purgeFromOutside(queue);
    const text = await docket(env.env, ['queue:status']);
    expect(text).to.match(/TASK\s+QUEUED\s+DISPATCHED\s+BROKER READY\s+CONSUMERS/);
    expect(text).to.match(/noop\s+4\s+4\s+0\s+0/);
  });
});
