/**
 * 3. Scenarios 1 and 2 on the embedded setup: SQLite and the `db` transport (workers
 * claim straight from the jobs table). Reported, no target.
 */
import { makeDocketEnv } from '../lib/docket-env.js';
import { docketLatency, docketThroughput, type LatencyRun, type ThroughputRun } from '../lib/docket-runs.js';
import { startWorker, withLogs, type Proc } from '../lib/proc.js';
import { repeat } from '../lib/repeat.js';
import { spread } from '../lib/stats.js';
import { stuckRows } from '../lib/stuck.js';
import type { BenchOptions, Row, Scenario } from '../lib/types.js';
import { DOCKET_CONCURRENCY, WORKER_PROCESSES } from './s1-throughput.js';
import { RATE, latencyRows } from './s2-latency.js';

export const scenario: Scenario = {
  id: 3,
  title: 'throughput and latency on SQLite with the db transport',
  needs: [],
  async run(opts: BenchOptions): Promise<Row[]> {
    const n = opts.quick ? 1000 : Number(process.env.BENCH_S1_JOBS || 20_000);
    const seconds = opts.quick ? 3 : Number(process.env.BENCH_S2_SECONDS || 20);
    const through: ThroughputRun[] = [];
    const lat: LatencyRun[] = [];
    const env = await makeDocketEnv({ db: 'sqlite', transport: 'db' });
    const workers: Proc[] = [];
    try {
      const ctx = await env.context();
      for (let i = 0; i < WORKER_PROCESSES; i++) workers.push(await startWorker(env.env, DOCKET_CONCURRENCY));
      await docketThroughput(ctx, 200);
      await repeat(opts, async (r) => {
        const t = await docketThroughput(ctx, n);
        through.push(t);
        opts.log(`  run ${r + 1}: ${t.jobsPerSecond.toFixed(0)} jobs/s (enqueue ${t.enqueueMs} ms)`);
        const l = await docketLatency(ctx, RATE, seconds);
        lat.push(l);
        opts.log(`  run ${r + 1}: p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms`);
      });
    } catch (err) {
      throw withLogs(err, workers);
    } finally {
      for (const w of workers) await w.stop();
      await env.cleanup();
    }
    return [
      ...stuckRows(3, [...through, ...lat], n * through.length + lat.reduce((t, l) => t + l.jobs, 0)),
      {
        scenario: 3,
        measure: 'Docket jobs/s, SQLite + db transport',
        unit: 'jobs/s',
        value: spread(through.map((t) => t.jobsPerSecond)),
        target: 'reported',
        pass: null,
        note: `${n.toLocaleString('en')} jobs, ${WORKER_PROCESSES} worker processes × concurrency ${DOCKET_CONCURRENCY}`,
        detail: { runs: through },
      },
      ...latencyRows(3, 'SQLite + db transport', lat, [], seconds, opts.quick),
    ];
  },
};
