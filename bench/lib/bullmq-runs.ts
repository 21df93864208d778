/** BullMQ's side of scenarios 1 and 2, measured the same way as Docket's. */
import type { Job } from 'bullmq';
import { waitForCount, type BullSide } from './bullmq.js';
import type { LatencyRun, ThroughputRun } from './docket-runs.js';
import { sleep } from './proc.js';
import { percentile } from './stats.js';

export async function bullThroughput(side: BullSide, n: number): Promise<ThroughputRun> {
  const before = await side.completedCount();
  const t0 = Date.now();
  await side.addBulk(n);
  const enqueueMs = Date.now() - t0;
  await waitForCount('BullMQ jobs', async () => (await side.completedCount()) - before, n);
  const totalMs = (await side.lastFinishedOn()) - t0;
  return { jobsPerSecond: n / (totalMs / 1000), enqueueMs, totalMs, eventsPerJob: 0, stuck: [] };
}

/** `queue.add` at a steady rate; latency is `processedOn - timestamp` of each job. */
export async function bullLatency(side: BullSide, rate: number, seconds: number): Promise<LatencyRun> {
  const n = Math.round(rate * seconds);
  const before = await side.completedCount();
  const pending: Array<Promise<Job>> = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    pending.push(side.queue.add('noop', {}));
  }
  const added = await Promise.all(pending);
  const sentMs = performance.now() - t0;
  await waitForCount('BullMQ jobs', async () => (await side.completedCount()) - before, n);
  const lat: number[] = [];
  for (let i = 0; i < added.length; i += 500) {
    const jobs = await Promise.all(added.slice(i, i + 500).map((j) => side.queue.getJob(j.id as string)));
    for (const j of jobs) if (j?.processedOn) lat.push(j.processedOn - j.timestamp);
  }
  if (lat.length !== n) throw new Error(`BullMQ: found ${lat.length} of ${n} processed jobs`);
  return { p50: percentile(lat, 50), p99: percentile(lat, 99), max: Math.max(...lat), jobs: n, rate: n / (sentMs / 1000) };
}
