/**
 * `node --import tsx bench/metrics-scrape.ts [--db mysql|sqlite] [--jobs 200000] [--queued 20000]`:
 * how long a GET /metrics scrape takes (the registry's collectors, without HTTP) over a
 * jobs table of `--jobs` rows of which `--queued` are queued, spread over four tasks,
 * with the time of each of the queries behind the gauges. Prints medians of 21 scrapes.
 */
import { parseArgs } from 'node:util';
import { createMetrics } from '../app/metrics/collector.js';
import { activeCounts, oldestQueued } from '../app/store/metrics.js';
import { makeDocketEnv } from './lib/docket-env.js';

const { values } = parseArgs({
  options: { db: { type: 'string', default: 'mysql' }, jobs: { type: 'string', default: '200000' }, queued: { type: 'string', default: '20000' }, wide: { type: 'boolean', default: false } },
});
const db = values.db === 'sqlite' ? 'sqlite' : 'mysql';
const jobs = Number(values.jobs);
const queued = Number(values.queued);
if (!Number.isInteger(jobs) || !Number.isInteger(queued) || queued > jobs) throw new Error('--jobs and --queued take whole numbers, --queued at most --jobs');

const TASKS = ['csv-import', 'csv-export', 'finding-aid', 'noop'];
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
async function time(f: () => Promise<unknown>, n = 21): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await f();
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return Math.round(median(ms) * 10) / 10;
}

const env = await makeDocketEnv({ db, transport: 'db' });
try {
  const ctx = await env.context();
  const now = Date.now();
  const t0 = Date.now();
  for (let i = 0; i < jobs; i += 5000) {
    const rows = Array.from({ length: Math.min(5000, jobs - i) }, (_, k) => {
      const n = i + k;
      const isQueued = n >= jobs - queued;
      return {
        task: TASKS[n % TASKS.length],
        // --wide: rows as an import's, with a long parameter and error text.
        params: values.wide ? JSON.stringify({ file: 'x'.repeat(1500) }) : '{}',
        error: values.wide && !isQueued ? 'e'.repeat(500) : null,
        status: isQueued ? 'queued' : 'completed',
        priority: 2,
        origin: 'cli',
        queued_at: now - (jobs - n) * 10,
        started_at: isQueued ? null : now - (jobs - n) * 10 + 5,
        finished_at: isQueued ? null : now - (jobs - n) * 10 + 8,
        attempt: isQueued ? 0 : 1,
        max_attempts: 3,
        // A tenth of the queued jobs wait out a retry's backoff.
        run_after: isQueued && n % 10 === 0 ? now + 60_000 : null,
      };
    });
    await ctx.db.batchInsert('jobs', rows, 1000);
  }
  console.log(`${db}: ${jobs} jobs (${queued} queued) inserted in ${Date.now() - t0} ms`);
  const metrics = createMetrics(ctx.service);
  await metrics.registry.metrics();
  const scrape = await time(() => metrics.registry.metrics());
  const counts = await time(() => activeCounts(ctx.db));
  const tasks = (await activeCounts(ctx.db)).filter((r) => r.status === 'queued').map((r) => r.task);
  const oldest = await time(() => oldestQueued(ctx.db, Date.now(), tasks));
  console.log(JSON.stringify({ db, jobs, queued, scrapeMs: scrape, activeCountsMs: counts, oldestQueuedMs: oldest }));
} finally {
  await env.cleanup();
}
