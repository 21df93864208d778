/**
 * 1. Bulk throughput: 20,000 noop jobs enqueued in bulk and drained by two worker
 * processes, Docket on MariaDB + RabbitMQ against its peers doing the same work
 * (BullMQ sandboxed, with and without fsync, graphile-worker, Celery) and BullMQ's
 * in-process figure as a reference, in the same run, alternating. Every side's CPU per
 * job counts all its processes: workers and their children, the enqueuer and the servers.
 */
import { describe, perJob, sample } from '../lib/cpu.js';
import { makeDocketEnv } from '../lib/docket-env.js';
import { docketThroughput, type ThroughputRun } from '../lib/docket-runs.js';
import { BULL_INLINE_CONCURRENCY, bullInline, closeSides, startPeers, THROUGHPUT_PEERS, type Side } from '../lib/peers.js';
import { startWorker, withLogs, type Proc } from '../lib/proc.js';
import { repeat } from '../lib/repeat.js';
import { spread } from '../lib/stats.js';
import { stuckRows } from '../lib/stuck.js';
import type { BenchOptions, Row, Scenario } from '../lib/types.js';

/** Children per Docket worker process (each job runs in a child). */
export const DOCKET_CONCURRENCY = Number(process.env.BENCH_DOCKET_CONCURRENCY || 8);
/** Jobs at once per in-process BullMQ worker (the reference row). */
export const BULL_CONCURRENCY = BULL_INLINE_CONCURRENCY;
export const WORKER_PROCESSES = 2;

interface SideRuns {
  side: Pick<Side, 'key' | 'label' | 'note'>;
  runs: ThroughputRun[];
}

export const scenario: Scenario = {
  id: 1,
  title: 'bulk throughput, MariaDB + RabbitMQ vs BullMQ, graphile-worker, Celery',
  needs: ['mysql', 'amqp'],
  async run(opts: BenchOptions): Promise<Row[]> {
    const n = opts.quick ? 500 : Number(process.env.BENCH_S1_JOBS || 20_000);
    const warmUp = opts.quick ? 50 : 200;
    const env = await makeDocketEnv({ db: 'mysql', transport: 'amqp' });
    const workers: Proc[] = [];
    const peers: Side[] = [];
    let skipped: Array<{ label: string; why: string }>;
    const docket: SideRuns = {
      side: { key: 'docket', label: 'Docket, MariaDB + RabbitMQ', note: 'child processes; fsynced commits (row + 3 events per job); persistent, confirmed messages' },
      runs: [],
    };
    const others: SideRuns[] = [];
    try {
      const ctx = await env.context();
      for (let i = 0; i < WORKER_PROCESSES; i++) workers.push(await startWorker(env.env, DOCKET_CONCURRENCY));
      const docketSide: Side = {
        ...docket.side,
        servers: ['MariaDB', 'RabbitMQ'],
        clients: () => ({ workers: workers.map((w) => w.pid) }),
        throughput: (k) => docketThroughput(ctx, k),
        close: async () => undefined,
      };
      const started = await startPeers(THROUGHPUT_PEERS, WORKER_PROCESSES, (p) => (p === bullInline ? BULL_INLINE_CONCURRENCY : DOCKET_CONCURRENCY), opts.log);
      peers.push(...started.sides);
      skipped = started.skipped;
      for (const p of peers) others.push({ side: p, runs: [] });
      const all: Array<[Side, SideRuns]> = [[docketSide, docket], ...peers.map((p, i): [Side, SideRuns] => [p, others[i]])];
      // A short warm-up on each side: connections, JIT, queue declarations, children.
      for (const [s] of all) await s.throughput(warmUp);
      // Docket, then each peer, run after run: drift of the shared machine falls on all.
      await repeat(opts, async (r) => {
        for (const [s, into] of all) {
          const before = sample(s.clients(), s.servers);
          const run = await s.throughput(n);
          run.cpuUsPerJob = perJob(before, sample(s.clients(), s.servers), n);
          run.workerCpuMsPerJob = (run.cpuUsPerJob.workers ?? NaN) / 1000;
          into.runs.push(run);
          opts.log(`  run ${r + 1}: ${s.label} ${run.jobsPerSecond.toFixed(0)} jobs/s (enqueue ${Math.round(run.enqueueMs)} ms); CPU ${describe(run.cpuUsPerJob)}`);
        }
      });
    } catch (err) {
      throw withLogs(err, workers);
    } finally {
      try {
        await closeSides(peers);
      } finally {
        for (const w of workers) await w.stop();
        await env.cleanup();
      }
    }
    return throughputRows(opts, n, docket, others, skipped);
  },
};

function throughputRows(opts: BenchOptions, n: number, docket: SideRuns, others: SideRuns[], skipped: Array<{ label: string; why: string }>): Row[] {
  const setup = `${n.toLocaleString('en')} jobs, ${WORKER_PROCESSES} worker processes`;
  const rows: Row[] = [...stuckRows(1, docket.runs, n * docket.runs.length)];
  const conc = (key: string): number => (key === 'bullmq-inline' ? BULL_INLINE_CONCURRENCY : DOCKET_CONCURRENCY);
  for (const s of [docket, ...others]) {
    rows.push({
      scenario: 1,
      measure: `${s.side.label}: jobs/s`,
      unit: 'jobs/s',
      value: spread(s.runs.map((r) => r.jobsPerSecond)),
      target: 'reported',
      pass: null,
      note: `${setup} × concurrency ${conc(s.side.key)}; ${s.side.note}`,
      detail: { runs: s.runs },
    });
    const cpu = s.runs.map((r) => r.cpuUsPerJob ?? {});
    rows.push({
      scenario: 1,
      measure: `${s.side.label}: CPU per job, all processes`,
      unit: 'µs',
      value: spread(cpu.map((c) => c.total ?? NaN)),
      target: 'reported',
      pass: null,
      note: `median run: ${describe(cpu[medianIndex(cpu.map((c) => c.total ?? 0))] ?? {})}; "bench" is the enqueuer and poller (this process)`,
      detail: { cpuUsPerJob: cpu },
    });
  }
  for (const s of skipped) {
    rows.push({ scenario: 1, measure: `${s.label}: SKIPPED (${s.why})`, unit: '', value: spread([NaN]), target: '', pass: null });
  }
  // Ratios per run pair: Docket / each peer, jobs/s and total CPU per job.
  const targets: Record<string, { target: string; ok: (x: number) => boolean; cpuTarget?: string; cpuOk?: (x: number) => boolean }> = {
    'bullmq-durable': { target: '≥ 1.0', ok: (x) => x >= 1 },
    'bullmq-sandboxed': { target: '≥ 1.0 (stretch)', ok: (x) => x >= 1, cpuTarget: '≤ 1.0', cpuOk: (x) => x <= 1 },
  };
  for (const o of others) {
    const pairs = Math.min(docket.runs.length, o.runs.length);
    const jr = spread(Array.from({ length: pairs }, (_, i) => docket.runs[i].jobsPerSecond / o.runs[i].jobsPerSecond));
    const cr = spread(Array.from({ length: pairs }, (_, i) => (docket.runs[i].cpuUsPerJob?.total ?? NaN) / (o.runs[i].cpuUsPerJob?.total ?? NaN)));
    const t = targets[o.side.key];
    rows.push({
      scenario: 1,
      measure: `jobs/s ratio Docket / ${o.side.label}`,
      unit: '×',
      value: jr,
      target: t?.target ?? 'reported',
      pass: t && !opts.quick ? t.ok(jr.median) : null,
      note: 'ratio of each run pair',
    });
    rows.push({
      scenario: 1,
      measure: `CPU per job ratio Docket / ${o.side.label}`,
      unit: '×',
      value: cr,
      target: t?.cpuTarget ?? 'reported',
      pass: t?.cpuOk && !opts.quick ? t.cpuOk(cr.median) : null,
      note: 'total CPU per job of all processes, each run pair',
    });
  }
  return rows;
}

function medianIndex(xs: number[]): number {
  const order = xs.map((x, i) => [x, i]).sort((a, b) => a[0] - b[0]);
  return order[Math.floor((order.length - 1) / 2)]?.[1] ?? 0;
}
