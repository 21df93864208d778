/**
 * 11. A mixed workload on two workers: long jobs (20 s; 5 s with --quick) hold some
 * slots while short ones (50 ms) arrive steadily. Measured from the jobs' own rows:
 * the longest time a short job waited while some worker had a free slot (a job held
 * by a busy worker, or a claim that came late), and how a backlog queued during a pause
 * spreads over the workers after the resume.
 */
import type { Context } from '../../app/context.js';
import type { NewJob } from '../../app/types.js';
import { makeDocketEnv } from '../lib/docket-env.js';
import { drain } from '../lib/docket-runs.js';
import { sleep, startWorker, withLogs, type Proc } from '../lib/proc.js';
import { repeat } from '../lib/repeat.js';
import { percentile, spread } from '../lib/stats.js';
import type { BenchOptions, Row, Scenario } from '../lib/types.js';

/** Slots per worker; the long jobs take all of one worker's and one of the other's. */
const SLOTS = 2;
const WORKERS = 2;
const LONG_JOBS = 3;
const SHORT_S = 0.05;
/** Short jobs a second while the long ones run: about a third of the one free slot. */
const SHORT_RATE = 5;

interface JobRow {
  id: number;
  task: string;
  worker_id: string;
  queued_at: number;
  started_at: number;
  finished_at: number;
}

export interface MixedRun {
  /** Longest time a short job waited while some worker had a free slot, ms. */
  freeSlotWaitMax: number;
  freeSlotWaitP99: number;
  /** Of the longest such wait, how long its own worker was full (the job held there). */
  worstHeldByFullWorker: number;
  /** Short jobs' enqueue → start, ms. */
  shortWaitP50: number;
  shortWaitMax: number;
  shortJobs: number;
  /** The backlog after the resume: jobs each worker ran, and the busier one's share. */
  backlogPerWorker: number[];
  busiestShare: number;
}

const sleepJob = (seconds: number): NewJob => ({ task: 'sleep', params: { seconds }, origin: 'cli' });

/**
 * For each short job, the time within [queued, started] during which at least one
 * worker ran fewer than SLOTS jobs (busy intervals from every job's started/finished).
 */
export function freeSlotWaits(rows: JobRow[], slots: number, shortIds: Set<number>): Array<{ id: number; free: number; heldFull: number }> {
  const byWorker = new Map<string, Array<[number, number]>>();
  for (const r of rows) {
    const list = byWorker.get(r.worker_id) ?? [];
    list.push([r.started_at, r.finished_at]);
    byWorker.set(r.worker_id, list);
  }
  const workers = [...byWorker.values()];
  const busy = (w: Array<[number, number]>, t: number): number => w.filter(([s, f]) => s <= t && t < f).length;
  const out: Array<{ id: number; free: number; heldFull: number }> = [];
  for (const j of rows) {
    if (!shortIds.has(j.id)) continue;
    // Every moment a count can change inside the wait, then the pieces between them.
    const points = new Set<number>([j.queued_at, j.started_at]);
    for (const w of workers) for (const [s, f] of w) for (const p of [s, f]) if (p > j.queued_at && p < j.started_at) points.add(p);
    const ts = [...points].sort((a, b) => a - b);
    let free = 0;
    // Of that, the time the worker that ran it had every slot busy: the job was held by
    // a full worker (prefetched or claimed ahead) while another had room.
    let heldFull = 0;
    const own = byWorker.get(j.worker_id) ?? [];
    for (let i = 0; i + 1 < ts.length; i++) {
      const mid = ts[i];
      // A worker that has not run anything yet in the window still counts with its slots.
      if (workers.length < WORKERS || workers.some((w) => busy(w, mid) < slots)) {
        free += ts[i + 1] - ts[i];
        if (busy(own, mid) >= slots) heldFull += ts[i + 1] - ts[i];
      }
    }
    out.push({ id: j.id, free, heldFull });
  }
  return out;
}

async function mixedRun(ctx: Context, longS: number): Promise<MixedRun> {
  const ids: number[] = [];
  const shortIds = new Set<number>();
  for (let i = 0; i < LONG_JOBS; i++) ids.push((await ctx.service.enqueue(sleepJob(longS))).job.id);
  // Short jobs at a steady rate while the long ones run (stopping a second before they end).
  const t0 = performance.now();
  const n = Math.max(1, Math.floor((longS - 1) * SHORT_RATE));
  for (let i = 0; i < n; i++) {
    const wait = t0 + (i * 1000) / SHORT_RATE - performance.now();
    if (wait > 1) await sleep(wait);
    const id = (await ctx.service.enqueue(sleepJob(SHORT_S))).job.id;
    ids.push(id);
    shortIds.add(id);
  }
  const lo = Math.min(...ids);
  const hi = Math.max(...ids);
  await drain(ctx, lo, hi, ids.length);
  const rows = ((await ctx.db('jobs').select('id', 'task', 'worker_id', 'queued_at', 'started_at', 'finished_at').whereBetween('id', [lo, hi])) as JobRow[]).map((r) => ({
    ...r,
    queued_at: Number(r.queued_at),
    started_at: Number(r.started_at),
    finished_at: Number(r.finished_at),
  }));
  const found = freeSlotWaits(rows, SLOTS, shortIds);
  const waits = found.map((w) => w.free);
  const worst = found.reduce((a, b) => (b.free > a.free ? b : a), found[0]);
  const shortWaits = rows.filter((r) => shortIds.has(r.id)).map((r) => r.started_at - r.queued_at);

  // The backlog: queued during a pause, then let go at once.
  const backlog = Math.max(20, Math.round(longS * 8));
  await ctx.service.setPaused(true, 'benchmark: backlog');
  const bIds: number[] = [];
  for (let i = 0; i < backlog; i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, backlog - i) }, () => ctx.service.enqueue(sleepJob(SHORT_S))));
    bIds.push(...batch.map((b) => b.job.id));
  }
  await sleep(1000);
  await ctx.service.setPaused(false, '');
  await drain(ctx, Math.min(...bIds), Math.max(...bIds), backlog);
  const per = (await ctx.db('jobs').select('worker_id').count({ n: '*' }).whereIn('id', bIds).groupBy('worker_id')) as Array<{ worker_id: string; n: number | string }>;
  const counts = per.map((p) => Number(p.n)).sort((a, b) => b - a);
  while (counts.length < WORKERS) counts.push(0);
  return {
    freeSlotWaitMax: Math.max(...waits),
    freeSlotWaitP99: percentile(waits, 99),
    worstHeldByFullWorker: worst?.heldFull ?? 0,
    shortWaitP50: percentile(shortWaits, 50),
    shortWaitMax: Math.max(...shortWaits),
    shortJobs: shortIds.size,
    backlogPerWorker: counts,
    busiestShare: counts[0] / backlog,
  };
}

export const scenario: Scenario = {
  id: 11,
  title: 'mixed workload: long and short jobs on two workers, a backlog after a pause',
  needs: ['mysql', 'amqp'],
  async run(opts: BenchOptions): Promise<Row[]> {
    const longS = opts.quick ? 5 : 20;
    const runs: MixedRun[] = [];
    const env = await makeDocketEnv({ db: 'mysql', transport: 'amqp' });
    const workers: Proc[] = [];
    try {
      const ctx = await env.context();
      for (let i = 0; i < WORKERS; i++) workers.push(await startWorker(env.env, SLOTS));
      await repeat(opts, async (r) => {
        const m = await mixedRun(ctx, longS);
        runs.push(m);
        opts.log(
          `  run ${r + 1}: short job waited with a free slot at most ${m.freeSlotWaitMax} ms, ${m.worstHeldByFullWorker} ms of it held by a full worker (p99 ${m.freeSlotWaitP99} ms; enqueue → start p50 ${m.shortWaitP50} ms, max ${m.shortWaitMax} ms); backlog per worker ${m.backlogPerWorker.join(' / ')}`,
        );
      });
    } catch (err) {
      throw withLogs(err, workers);
    } finally {
      for (const w of workers) await w.stop();
      await env.cleanup();
    }
    const setup = `${WORKERS} workers × ${SLOTS} slots; ${LONG_JOBS} sleep ${longS} s jobs and sleep ${SHORT_S * 1000} ms jobs at ${SHORT_RATE}/s`;
    const wait = spread(runs.map((m) => m.freeSlotWaitMax));
    const share = spread(runs.map((m) => m.busiestShare));
    return [
      {
        scenario: 11,
        measure: 'short job: longest wait with a free slot somewhere',
        unit: 'ms',
        value: wait,
        target: '≈ 0 (≤ 50 ms, a claim round trip)',
        pass: opts.quick ? null : wait.median <= 50,
        note: `${setup}; from each job's queued/started/finished and worker (started_at of a job claimed ahead is its claim time)`,
        detail: { runs },
      },
      {
        scenario: 11,
        measure: 'short job: enqueue → start p50',
        unit: 'ms',
        value: spread(runs.map((m) => m.shortWaitP50)),
        target: 'reported',
        pass: null,
        note: setup,
      },
      {
        scenario: 11,
        measure: "backlog after a resume: busiest worker's share",
        unit: '×',
        value: share,
        target: '≤ 0.60 (even is 0.50)',
        pass: opts.quick ? null : share.median <= 0.6,
        note: `jobs per worker: ${runs.map((m) => m.backlogPerWorker.join('/')).join(', ')}; sleep ${SHORT_S * 1000} ms jobs queued during a pause`,
      },
    ];
  },
};
