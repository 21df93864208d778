/**
 * 1. Bulk throughput: 20,000 noop jobs enqueued in bulk and drained by two worker
 * processes, Docket on MariaDB + RabbitMQ against BullMQ on Redis, in the same run.
 */
import { startBull } from '../lib/bullmq.js';
import { bullThroughput } from '../lib/bullmq-runs.js';
import { makeDocketEnv } from '../lib/docket-env.js';
import { docketThroughput, type ThroughputRun } from '../lib/docket-runs.js';
import { cpuMs, startWorker, withLogs, type Proc } from '../lib/proc.js';
import { repeat } from '../lib/repeat.js';
import { spread } from '../lib/stats.js';
import { stuckRows } from '../lib/stuck.js';
import type { BenchOptions, Row, Scenario } from '../lib/types.js';

/** Children per Docket worker process (each job runs in a child). */
export const DOCKET_CONCURRENCY = Number(process.env.BENCH_DOCKET_CONCURRENCY || 8);
/** Jobs at once per BullMQ worker process: its in-process processor gains up to about this. */
export const BULL_CONCURRENCY = Number(process.env.BENCH_BULL_CONCURRENCY || 50);
export const WORKER_PROCESSES = 2;

export const scenario: Scenario = {
  id: 1,
  title: 'bulk throughput, MariaDB + RabbitMQ vs BullMQ',
  needs: ['mysql', 'amqp', 'redis'],
  async run(opts: BenchOptions): Promise<Row[]> {
    const n = opts.quick ? 1000 : Number(process.env.BENCH_S1_JOBS || 20_000);
    const docket: ThroughputRun[] = [];
    const bull: ThroughputRun[] = [];
    const env = await makeDocketEnv({ db: 'mysql', transport: 'amqp' });
    const workers: Proc[] = [];
    try {
      const ctx = await env.context();
      for (let i = 0; i < WORKER_PROCESSES; i++) workers.push(await startWorker(env.env, DOCKET_CONCURRENCY));
      const side = await startBull(WORKER_PROCESSES, BULL_CONCURRENCY);
      try {
        // A short warm-up on each side: connections, JIT, queue declarations.
        await docketThroughput(ctx, 200);
        await bullThroughput(side, 200);
        // Alternating the two sides spreads any drift of the shared machine over both.
        await repeat(opts, async (r) => {
          let cpu0 = workers.reduce((t, w) => t + cpuMs(w.pid), 0);
          const d = await docketThroughput(ctx, n);
          d.workerCpuMsPerJob = (workers.reduce((t, w) => t + cpuMs(w.pid), 0) - cpu0) / n;
          docket.push(d);
          opts.log(`  run ${r + 1}: Docket ${d.jobsPerSecond.toFixed(0)} jobs/s (enqueue ${d.enqueueMs} ms; workers' CPU ${d.workerCpuMsPerJob?.toFixed(2)} ms/job)`);
          cpu0 = side.workers.reduce((t, w) => t + cpuMs(w.pid), 0);
          const b = await bullThroughput(side, n);
          b.workerCpuMsPerJob = (side.workers.reduce((t, w) => t + cpuMs(w.pid), 0) - cpu0) / n;
          bull.push(b);
          opts.log(`  run ${r + 1}: BullMQ ${b.jobsPerSecond.toFixed(0)} jobs/s (addBulk ${b.enqueueMs} ms; workers' CPU ${b.workerCpuMsPerJob?.toFixed(2)} ms/job)`);
        });
      } finally {
        await side.close();
      }
    } catch (err) {
      throw withLogs(err, workers);
    } finally {
      for (const w of workers) await w.stop();
      await env.cleanup();
    }
    const ratios = docket.map((d, i) => d.jobsPerSecond / bull[i].jobsPerSecond);
    const ratio = spread(ratios);
    const setup = `${n.toLocaleString('en')} jobs, ${WORKER_PROCESSES} worker processes`;
    return [
      ...stuckRows(1, docket, n * docket.length),
      {
        scenario: 1,
        measure: 'Docket jobs/s, MariaDB + RabbitMQ',
        unit: 'jobs/s',
        value: spread(docket.map((d) => d.jobsPerSecond)),
        target: 'reported',
        pass: null,
        note: `${setup} × concurrency ${DOCKET_CONCURRENCY}; ${docket[0].eventsPerJob} events per job`,
        detail: { runs: docket },
      },
      {
        scenario: 1,
        measure: 'BullMQ jobs/s, Redis',
        unit: 'jobs/s',
        value: spread(bull.map((b) => b.jobsPerSecond)),
        target: 'reported',
        pass: null,
        note: `${setup} × concurrency ${BULL_CONCURRENCY}`,
        detail: { runs: bull },
      },
      {
        scenario: 1,
        measure: "Docket workers' CPU per job",
        unit: 'ms',
        value: spread(docket.map((d) => d.workerCpuMsPerJob ?? NaN)),
        target: 'reported',
        pass: null,
        note: 'worker processes and their job processes; the database and broker not counted',
      },
      {
        scenario: 1,
        measure: "BullMQ workers' CPU per job",
        unit: 'ms',
        value: spread(bull.map((b) => b.workerCpuMsPerJob ?? NaN)),
        target: 'reported',
        pass: null,
        note: 'worker processes; Redis not counted',
      },
      {
        scenario: 1,
        measure: 'throughput ratio Docket / BullMQ',
        unit: '×',
        value: ratio,
        target: '≥ 1.0',
        pass: opts.quick ? null : ratio.median >= 1,
        note: 'ratio of each run pair',
      },
    ];
  },
};
