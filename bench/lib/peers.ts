/**
 * The peers of scenarios 1 and 2, each doing the same work as Docket's side: no-op jobs
 * enqueued in bulk (or one at a time at a steady rate), drained by 2 worker processes,
 * from the first enqueue to the last completion. Each peer says why it is skipped when
 * its service or program is missing; the run goes on without it.
 *
 * - BullMQ, in-process processor (the reference row of issue 6), machine's Redis.
 * - BullMQ, sandboxed processor (a file run in child processes), machine's Redis.
 * - BullMQ, sandboxed, on a Redis the benchmark starts with `appendfsync always`.
 * - graphile-worker on the machine's PostgreSQL, in a database created and dropped here
 *   (tasks run inside the worker process: graphile-worker has no child processes).
 * - Celery prefork (child processes) with RabbitMQ, acks_late, no result backend.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import pg from 'pg';
import { makeWorkerUtils, type WorkerUtils } from 'graphile-worker';
import { startBull, waitForCount } from './bullmq.js';
import { bullLatency, bullThroughput } from './bullmq-runs.js';
import type { Clients, Server } from './cpu.js';
import type { LatencyRun, ThroughputRun } from './docket-runs.js';
import { ROOT, sleep, startNode, startProcess, type Proc } from './proc.js';
import { startDurableRedis, redisServerMissing } from './redis-durable.js';
import { AMQP_URL, probe } from './services.js';

export const PG_URL = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
export const PYTHON = process.env.BENCH_PYTHON || '/usr/bin/python3';

/** A running side: its processes, the servers it uses, and its runs. */
export interface Side {
  key: string;
  /** The row's name, e.g. "BullMQ sandboxed, Redis appendfsync always". */
  label: string;
  /** Where its jobs run and how durable they are, for the row's note. */
  note: string;
  servers: Server[];
  clients(): Clients;
  throughput(n: number): Promise<ThroughputRun>;
  latency?(rate: number, seconds: number): Promise<LatencyRun>;
  close(): Promise<void>;
}

export interface Peer {
  key: string;
  label: string;
  /** Null when it can run here, else why not (a row says SKIPPED with it). */
  missing(): Promise<string | null>;
  start(workers: number, concurrency: number): Promise<Side>;
}

function bullPeer(key: string, label: string, sandboxed: boolean, durable: boolean, note: string): Peer {
  return {
    key,
    label,
    async missing() {
      if (durable) return redisServerMissing();
      return probe('redis');
    },
    async start(workers, concurrency) {
      const redis = durable ? await startDurableRedis() : null;
      try {
        const side = await startBull(workers, concurrency, { sandboxed, redisUrl: redis?.url });
        return {
          key,
          label,
          note,
          servers: ['Redis'],
          clients: () => ({ workers: side.workers.map((w) => w.pid) }),
          throughput: (n) => bullThroughput(side, n),
          latency: (rate, seconds) => bullLatency(side, rate, seconds),
          async close() {
            try {
              await side.close();
            } finally {
              await redis?.stop();
            }
          },
        };
      } catch (err) {
        await redis?.stop();
        throw err;
      }
    },
  };
}

/** Concurrency of the in-process BullMQ reference (issue 6's setting). */
export const BULL_INLINE_CONCURRENCY = Number(process.env.BENCH_BULL_CONCURRENCY || 50);

export const bullInline = bullPeer(
  'bullmq-inline',
  'BullMQ in-process, Redis no persistence',
  false,
  false,
  `reference: a no-op function in the worker process, concurrency ${BULL_INLINE_CONCURRENCY}; Redis keeps nothing on disk`,
);
export const bullSandboxed = bullPeer(
  'bullmq-sandboxed',
  'BullMQ sandboxed, Redis no persistence',
  true,
  false,
  'a processor file in child processes (useWorkerThreads false); Redis keeps nothing on disk',
);
export const bullDurable = bullPeer(
  'bullmq-durable',
  'BullMQ sandboxed, Redis appendfsync always',
  true,
  true,
  "child processes; the benchmark's own Redis fsyncs every write (appendonly yes, appendfsync always)",
);

export const graphile: Peer = {
  key: 'graphile',
  label: 'graphile-worker, PostgreSQL',
  async missing() {
    const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
    try {
      await c.connect();
      await c.query('select 1');
      return null;
    } catch (err) {
      return `PostgreSQL at ${PG_URL} is unreachable: ${(err as Error).message.split('\n')[0]}`;
    } finally {
      await c.end().catch(() => undefined);
    }
  },
  async start(workers, concurrency) {
    const name = `docket_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create database ${name}`);
    const url = new URL(PG_URL);
    url.pathname = `/${name}`;
    const connectionString = url.toString();
    const procs: Proc[] = [];
    let utils: WorkerUtils | null = null;
    const close = async (): Promise<void> => {
      for (const p of procs) await p.stop();
      await utils?.release();
      await admin.query(`drop database if exists ${name} with (force)`).catch(() => undefined);
      await admin.end();
    };
    try {
      utils = await makeWorkerUtils({ connectionString });
      await utils.migrate();
      for (let i = 0; i < workers; i++) {
        procs.push(await startNode('bench/lib/graphile-worker.mjs', [connectionString, String(concurrency)], process.env, /graphile worker ready/));
      }
    } catch (err) {
      await close();
      throw err;
    }
    const u = utils;
    const left = async (): Promise<number> =>
      u.withPgClient(async (c) => Number((await c.query<{ n: string }>('select count(*) as n from graphile_worker._private_jobs')).rows[0].n));
    return {
      key: 'graphile',
      label: 'graphile-worker, PostgreSQL',
      note: `graphile-worker ${graphileVersion()}: tasks run in the worker process (no child processes); a completed job's row is deleted`,
      servers: ['PostgreSQL'],
      clients: () => ({ workers: procs.map((p) => p.pid) }),
      async throughput(n) {
        const t0 = Date.now();
        for (let i = 0; i < n; i += 1000) {
          await u.addJobs(Array.from({ length: Math.min(1000, n - i) }, () => ({ identifier: 'noop', payload: {} })));
        }
        const enqueueMs = Date.now() - t0;
        // Completed jobs are deleted: the run ends when none is left (read every 50 ms).
        await waitForCount('graphile-worker jobs', async () => n - (await left()), n, 30_000, 50);
        const totalMs = Date.now() - t0;
        return { jobsPerSecond: n / (totalMs / 1000), enqueueMs, totalMs, eventsPerJob: 0, stuck: [] };
      },
      close,
    };
  },
};

function graphileVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', 'graphile-worker', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '';
  }
}

export const celery: Peer = {
  key: 'celery',
  label: 'Celery prefork, RabbitMQ',
  async missing() {
    const r = spawnSync(PYTHON, ['-c', 'import celery; print(celery.__version__)'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) return `Celery is not importable by ${PYTHON} (${r.error?.message ?? r.stderr.trim().split('\n').pop()}); Debian: apt install python3-celery`;
    return probe('amqp');
  },
  async start(workers, concurrency) {
    const tag = randomBytes(4).toString('hex');
    const queue = `docket-bench-celery-${tag}`;
    const dir = mkdtempSync(join(tmpdir(), 'docket-bench-celery-'));
    const env = { ...process.env, BENCH_CELERY_BROKER: AMQP_URL, BENCH_CELERY_QUEUE: queue, BENCH_CELERY_DIR: dir, PYTHONDONTWRITEBYTECODE: '1' };
    const cwd = join(ROOT, 'bench', 'lib');
    const procs: Proc[] = [];
    let enqueuer: Proc | null = null;
    const close = async (): Promise<void> => {
      for (const p of procs) await p.stop('SIGTERM', 10_000);
      enqueuer?.child.stdin?.end();
      await enqueuer?.stop();
      // The run's queue and its exchange (Celery names both after the queue).
      try {
        const c = await amqp.connect(AMQP_URL);
        const ch = await c.createChannel();
        await ch.deleteQueue(queue);
        await ch.deleteExchange(queue);
        await c.close();
      } catch {
        // best effort: a broker gone at the end leaves nothing of ours running
      }
      rmSync(dir, { recursive: true, force: true });
    };
    try {
      for (let i = 0; i < workers; i++) {
        const argv = ['-m', 'celery', '-A', 'celery_bench', 'worker', '--pool', 'prefork', '--concurrency', String(concurrency), '--loglevel', 'WARNING'];
        argv.push('-n', `w${i}-${tag}@%h`, '-Q', queue, '--without-gossip', '--without-mingle', '--without-heartbeat');
        procs.push(await startProcess(PYTHON, argv, env, /celery worker ready/, { cwd, what: 'celery worker', timeoutMs: 60_000 }));
      }
      enqueuer = await startProcess(PYTHON, ['celery_bench.py', 'enqueue'], env, /enqueuer ready/, { cwd, what: 'celery enqueuer', stdin: true });
    } catch (err) {
      await close();
      throw err;
    }
    const enq = enqueuer;
    /** The pool children's counts (one file each) and the newest completion time. */
    const counts = (): { done: number; last: number } => {
      let done = 0;
      let last = 0;
      for (const f of readdirSync(dir)) {
        if (f.endsWith('.tmp')) continue;
        const [d, l] = readFileSync(join(dir, f), 'utf8').trim().split(' ').map(Number);
        done += d;
        last = Math.max(last, l);
      }
      return { done, last };
    };
    let sentLines = 0;
    return {
      key: 'celery',
      label: 'Celery prefork, RabbitMQ',
      note: 'child processes (prefork pool); persistent messages, acks_late; no result backend (no MySQL driver for Python here)',
      servers: ['RabbitMQ'],
      clients: () => ({ workers: procs.map((p) => p.pid), enqueuer: [enq.pid] }),
      async throughput(n) {
        const before = counts().done;
        enq.child.stdin!.write(`${n}\n`);
        sentLines++;
        // The enqueuer answers "sent <first ms> <last ms>" once all are published.
        let m: RegExpExecArray | null = null;
        while (!m) {
          const all = [...enq.log().matchAll(/sent ([\d.]+) ([\d.]+)/g)];
          if (all.length >= sentLines) m = all[sentLines - 1];
          else await sleep(20);
        }
        const first = Number(m[1]);
        const enqueueMs = Number(m[2]) - first;
        await waitForCount('Celery tasks', async () => counts().done - before, n, 30_000, 50);
        await sleep(120); // the children write their count every 50 ms
        const totalMs = counts().last - first;
        return { jobsPerSecond: n / (totalMs / 1000), enqueueMs, totalMs, eventsPerJob: 0, stuck: [] };
      },
      close,
    };
  },
};

/** Every peer of scenario 1, in the order their runs follow Docket's. */
export const THROUGHPUT_PEERS: Peer[] = [bullInline, bullSandboxed, bullDurable, graphile, celery];

/** Starts the peers that can run here; the others come back with the reason. */
export async function startPeers(
  peers: Peer[],
  workers: number,
  concurrencyOf: (p: Peer) => number,
  log: (m: string) => void,
): Promise<{ sides: Side[]; skipped: Array<{ label: string; why: string }> }> {
  const sides: Side[] = [];
  const skipped: Array<{ label: string; why: string }> = [];
  for (const p of peers) {
    const why = await p.missing();
    if (why) {
      log(`  ${p.label}: SKIPPED, ${why}`);
      skipped.push({ label: p.label, why });
      continue;
    }
    try {
      sides.push(await p.start(workers, concurrencyOf(p)));
    } catch (err) {
      // A peer that cannot start is a finding about this machine, not a broken benchmark.
      const msg = (err as Error).message.split('\n')[0];
      log(`  ${p.label}: SKIPPED, could not start: ${msg}`);
      skipped.push({ label: p.label, why: `could not start: ${msg}` });
    }
  }
  return { sides, skipped };
}

/** Stops every side, whatever fails, and rethrows the first failure. */
export async function closeSides(sides: Side[]): Promise<void> {
  let first: unknown = null;
  for (const s of sides.splice(0)) {
    try {
      await s.close();
    } catch (err) {
      first ??= err;
    }
  }
  if (first) throw first;
}
