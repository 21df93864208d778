/**
 * Docket's side of the throughput and latency scenarios (1, 2 and 3), against any
 * database and transport: bulk enqueue then drain, or a steady stream of single
 * enqueues with each job's enqueue → start latency read from its own row.
 */
import type { Context } from '../../app/context.js';
import type { NewJob } from '../../app/types.js';
import { sleep } from './proc.js';
import { percentile } from './stats.js';
import { enqueueMany } from '../../app/enqueue-many.js';

const noop = (): NewJob => ({ task: 'noop', params: {}, origin: 'cli' });

async function countDone(ctx: Context, lo: number, hi: number): Promise<{ done: number; failed: number }> {
  const rows = (await ctx
    .db('jobs')
    .select('status')
    .count({ n: '*' })
    .whereBetween('id', [lo, hi])
    .whereIn('status', ['completed', 'failed', 'cancelled'])
    .groupBy('status')) as Array<{ status: string; n: number | string }>;
  let done = 0;
  let failed = 0;
  for (const r of rows) {
    done += Number(r.n);
    if (r.status !== 'completed') failed += Number(r.n);
  }
  return { done, failed };
}

/** What the unfinished jobs of a range are doing, for a stall's error message. */
async function describeUnfinished(ctx: Context, lo: number, hi: number): Promise<string> {
  const rows = (await ctx
    .db('jobs')
    .select('id', 'status', 'attempt', 'worker_id', 'dispatched_at')
    .whereBetween('id', [lo, hi])
    .whereIn('status', ['queued', 'running'])
    .limit(10)) as Array<{ id: number; status: string; attempt: number; worker_id: string | null; dispatched_at: number | null }>;
  return rows
    .map((r) => `${r.id} ${r.status} attempt ${r.attempt}${r.worker_id ? ` on ${r.worker_id}` : ''}${r.dispatched_at ? '' : ' (not dispatched)'}`)
    .join('; ');
}

/**
 * Waits until `n` jobs of the range are final. A handful left `running` by a live
 * worker that stopped moving is an engine fault worth a row of its own, not a reason to
 * lose the whole scenario: they are returned (described) and the figures are computed
 * over the rest. Anything more, or jobs never claimed, still fails the run.
 */
/**
 * Polls until `n` jobs of the range ended; throws when the count stood still for
 * `stallMs`. Each poll reads every row of the range (20,000 in scenario 1), and its CPU
 * counts in Docket's side (MariaDB's): it polls every 200 ms only near the end, and
 * otherwise sleeps half the time the jobs left should take at the rate seen since the
 * last poll (at most 2 s). The clock of a run stops at the newest `finished_at`, not at
 * the poll that saw it, so polling less moves no figure but the CPU.
 */
async function waitForEnded(ctx: Context, lo: number, hi: number, n: number, stallMs: number): Promise<void> {
  let last = { done: -1, at: Date.now() };
  let movedAt = Date.now();
  for (;;) {
    const done = (await countDone(ctx, lo, hi)).done;
    if (done >= n) return;
    const now = Date.now();
    if (done !== last.done) movedAt = now;
    else if (now - movedAt > stallMs) throw new Error(`Docket jobs: stuck at ${done} of ${n} for ${stallMs / 1000} s`);
    const perMs = last.done < 0 ? 0 : (done - last.done) / Math.max(1, now - last.at);
    last = { done, at: now };
    await sleep(perMs > 0 ? Math.min(2000, Math.max(200, (n - done) / perMs / 2)) : 200);
  }
}

export async function drain(ctx: Context, lo: number, hi: number, n: number): Promise<string[]> {
  try {
    await waitForEnded(ctx, lo, hi, n, 20_000);
    return [];
  } catch (err) {
    const left = n - (await countDone(ctx, lo, hi)).done;
    const running = (await ctx.db('jobs').whereBetween('id', [lo, hi]).where({ status: 'running' }).count({ c: '*' }).first()) as { c: number };
    const detail = await describeUnfinished(ctx, lo, hi);
    if (left <= Math.max(10, n / 1000) && Number(running.c) === left) return detail.split('; ');
    throw new Error(`${(err as Error).message}; unfinished: ${detail}`, { cause: err });
  }
}

export interface ThroughputRun {
  jobsPerSecond: number;
  /** Bulk enqueue alone (insert + publish), ms. */
  enqueueMs: number;
  totalMs: number;
  eventsPerJob: number;
  /** Jobs left running by a live worker that never finished them (an engine fault). */
  stuck: string[];
  /** CPU of the worker processes and their job processes per job, when measured. */
  workerCpuMsPerJob?: number;
  /** µs of CPU per job of each process group of the side (workers, servers, ...) and `total`. */
  cpuUsPerJob?: Record<string, number>;
}

/**
 * `n` noop jobs through `enqueueMany`, then until the last one completed. The clock
 * stops at the newest `finished_at` of the batch, not when polling noticed it.
 */
export async function docketThroughput(ctx: Context, n: number): Promise<ThroughputRun> {
  const t0 = Date.now();
  const ids: number[] = [];
  // One transaction per 5,000 jobs: what a bulk API call would carry.
  for (let i = 0; i < n; i += 5000) {
    const r = await enqueueMany(ctx.service, Array.from({ length: Math.min(5000, n - i) }, noop));
    ids.push(...r.ids);
  }
  const enqueueMs = Date.now() - t0;
  const lo = ids[0];
  const hi = ids[ids.length - 1];
  const stuck = await drain(ctx, lo, hi, n);
  const { failed } = await countDone(ctx, lo, hi);
  if (failed) throw new Error(`${failed} of ${n} noop jobs did not complete`);
  const last = (await ctx.db('jobs').whereBetween('id', [lo, hi]).max({ m: 'finished_at' }).first()) as { m: number };
  const events = (await ctx.db('job_events').whereBetween('job_id', [lo, hi]).count({ n: '*' }).first()) as { n: number };
  const totalMs = Number(last.m) - t0;
  return { jobsPerSecond: (n - stuck.length) / (totalMs / 1000), enqueueMs, totalMs, eventsPerJob: Number(events.n) / n, stuck };
}

export interface LatencyRun {
  p50: number;
  p99: number;
  max: number;
  jobs: number;
  /** The rate actually achieved by the sender. */
  rate: number;
  /** As in ThroughputRun. */
  stuck?: string[];
}

/**
 * A steady stream: one `enqueue` every 1000/rate ms for `seconds`, each sent on time
 * whether or not the previous one returned (an open-loop load, as real clients are).
 * Latency is `started_at - queued_at` of each job (both stamped by Docket).
 */
export async function docketLatency(ctx: Context, rate: number, seconds: number): Promise<LatencyRun> {
  const n = Math.round(rate * seconds);
  const pending: Array<Promise<number>> = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(ctx.service.enqueue(noop()).then((r) => r.job.id));
  }
  const ids = await Promise.all(pending);
  const sentMs = performance.now() - t0;
  const lo = Math.min(...ids);
  const hi = Math.max(...ids);
  const stuck = await drain(ctx, lo, hi, n);
  const rows = (await ctx.db('jobs').select('queued_at', 'started_at').whereBetween('id', [lo, hi])) as Array<{
    queued_at: number;
    started_at: number;
  }>;
  const lat = rows.map((r) => Number(r.started_at) - Number(r.queued_at));
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), max: Math.max(...lat), jobs: n, rate: n / (sentMs / 1000), stuck };
}
