/** The BullMQ side of the comparison: a queue on the local Redis and its worker processes. */
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { startNode, sleep, type Proc } from './proc.js';
import { REDIS_URL } from './services.js';

export interface BullSide {
  queue: Queue;
  name: string;
  workers: Proc[];
  /** Adds jobs with `addBulk` in slices of 1,000 (BullMQ's advice for large bulks). */
  addBulk(n: number): Promise<void>;
  completedCount(): Promise<number>;
  /** The newest `finishedOn` of completed jobs. */
  lastFinishedOn(): Promise<number>;
  close(): Promise<void>;
}

export interface BullOptions {
  /** A processor file run in BullMQ's child processes instead of a function in the worker. */
  sandboxed?: boolean;
  /** Another Redis than the machine's (the durable one the benchmark starts). */
  redisUrl?: string;
  env?: NodeJS.ProcessEnv;
}

export async function startBull(workers: number, concurrency: number, opts: BullOptions = {}): Promise<BullSide> {
  const name = `docket-bench-${randomBytes(4).toString('hex')}`;
  const url = opts.redisUrl ?? REDIS_URL;
  const connection = new Redis(url, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection });
  await queue.waitUntilReady();
  const procs: Proc[] = [];
  try {
    for (let i = 0; i < workers; i++) {
      const args = [name, String(concurrency), opts.sandboxed ? 'sandboxed' : 'inline', url];
      procs.push(await startNode('bench/lib/bullmq-worker.mjs', args, opts.env ?? process.env, /bullmq worker ready/));
    }
  } catch (err) {
    for (const p of procs) await p.stop('SIGKILL');
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    connection.disconnect();
    throw err;
  }
  return {
    queue,
    name,
    workers: procs,
    async addBulk(n) {
      for (let i = 0; i < n; i += 1000) {
        const k = Math.min(1000, n - i);
        await queue.addBulk(Array.from({ length: k }, () => ({ name: 'noop', data: {} })));
      }
    },
    async completedCount() {
      return (await queue.getJobCounts('completed')).completed;
    },
    async lastFinishedOn() {
      const [newest] = await queue.getCompleted(0, 0);
      return newest?.finishedOn ?? 0;
    },
    async close() {
      for (const p of procs) await p.stop();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      connection.disconnect();
    },
  };
}

/** Waits until `count()` reaches `target`; fails when it stops moving for `stallMs`. */
export async function waitForCount(
  what: string,
  count: () => Promise<number>,
  target: number,
  stallMs = 30_000,
  everyMs = 200,
): Promise<void> {
  let last = -1;
  let movedAt = Date.now();
  for (;;) {
    const n = await count();
    if (n >= target) return;
    if (n !== last) {
      last = n;
      movedAt = Date.now();
    } else if (Date.now() - movedAt > stallMs) {
      throw new Error(`${what}: stuck at ${n} of ${target} for ${stallMs / 1000} s`);
    }
    await sleep(everyMs);
  }
}
