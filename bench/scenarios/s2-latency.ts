/**
 * 2. Latency under a steady load: 200 jobs/s for 20 s, each enqueued alone, enqueue →
 * start p50 and p99. Docket on MariaDB + RabbitMQ against BullMQ, same workers as in 1.
 */
import { startBull } from '../lib/bullmq.js';
import { bullLatency } from '../lib/bullmq-runs.js';
import { makeDocketEnv } from '../lib/docket-env.js';
import { docketLatency, type LatencyRun } from '../lib/docket-runs.js';
import { startWorker, withLogs, type Proc } from '../lib/proc.js';
import { repeat } from '../lib/repeat.js';
import { spread } from '../lib/stats.js';
import { stuckRows } from '../lib/stuck.js';
import type { BenchOptions, Row, Scenario } from '../lib/types.js';
import { BULL_CONCURRENCY, DOCKET_CONCURRENCY, WORKER_PROCESSES } from './s1-throughput.js';

export const RATE = 200;

export const scenario: Scenario = {
  id: 2,
  title: 'enqueue → start latency at 200 jobs/s, MariaDB + RabbitMQ vs BullMQ',
  needs: ['mysql', 'amqp', 'redis'],
  async run(opts: BenchOptions): Promise<Row[]> {
    const seconds = opts.quick ? 3 : Number(process.env.BENCH_S2_SECONDS || 20);
    const docket: LatencyRun[] = [];
    const bull: LatencyRun[] = [];
    const env = await makeDocketEnv({ db: 'mysql', transport: 'amqp' });
    const workers: Proc[] = [];
    try {
      const ctx = await env.context();
      for (let i = 0; i < WORKER_PROCESSES; i++) workers.push(await startWorker(env.env, DOCKET_CONCURRENCY));
      const side = await startBull(WORKER_PROCESSES, BULL_CONCURRENCY);
      try {
        await docketLatency(ctx, RATE, 0.5);
        await bullLatency(side, RATE, 0.5);
        await repeat(opts, async (r) => {
          const d = await docketLatency(ctx, RATE, seconds);
          docket.push(d);
          opts.log(`  run ${r + 1}: Docket p50 ${d.p50} ms, p99 ${d.p99} ms, max ${d.max} ms (${d.rate.toFixed(0)} jobs/s sent)`);
          const b = await bullLatency(side, RATE, seconds);
          bull.push(b);
          opts.log(`  run ${r + 1}: BullMQ p50 ${b.p50} ms, p99 ${b.p99} ms, max ${b.max} ms (${b.rate.toFixed(0)} jobs/s sent)`);
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
    return [
      ...stuckRows(2, docket, docket.reduce((t, d) => t + d.jobs, 0)),
      ...latencyRows(2, 'MariaDB + RabbitMQ', docket, bull, seconds, opts.quick),
    ];
  },
};

/** Rows for p50 and p99 of Docket (with targets) and of BullMQ when given. */
export function latencyRows(
  id: number,
  backend: string,
  docket: LatencyRun[],
  bull: LatencyRun[] | null,
  seconds: number,
  quick: boolean,
): Row[] {
  const p50 = spread(docket.map((d) => d.p50));
  const p99 = spread(docket.map((d) => d.p99));
  const b50 = bull ? spread(bull.map((b) => b.p50)) : null;
  const b99 = bull ? spread(bull.map((b) => b.p99)) : null;
  const note = `${RATE} jobs/s for ${seconds} s, ${WORKER_PROCESSES} worker processes`;
  const judge = (ok: boolean): boolean | null => (quick || !bull ? null : ok);
  const rows: Row[] = [
    {
      scenario: id,
      measure: `Docket enqueue → start p50, ${backend}`,
      unit: 'ms',
      value: p50,
      target: bull ? '≤ 2 ms and ≤ BullMQ' : 'reported',
      pass: judge(p50.median <= 2 && p50.median <= (b50?.median ?? Infinity)),
      note,
      detail: { runs: docket },
    },
    {
      scenario: id,
      measure: `Docket enqueue → start p99, ${backend}`,
      unit: 'ms',
      value: p99,
      target: bull ? '≤ 10 ms and ≤ BullMQ' : 'reported',
      pass: judge(p99.median <= 10 && p99.median <= (b99?.median ?? Infinity)),
      note,
    },
  ];
  if (bull && b50 && b99) {
    rows.push(
      { scenario: id, measure: 'BullMQ enqueue → start p50', unit: 'ms', value: b50, target: 'reported', pass: null, note, detail: { runs: bull } },
      { scenario: id, measure: 'BullMQ enqueue → start p99', unit: 'ms', value: b99, target: 'reported', pass: null, note },
    );
  }
  return rows;
}
