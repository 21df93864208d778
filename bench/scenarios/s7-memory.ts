/**
 * 7. Memory over a long run: 100,000 noop jobs through one worker process; its
 * resident memory (VmRSS of the worker itself, not its job processes) after the first
 * 1,000 against after the last. A leak per job would show as growth.
 */
import type { Context } from '../../app/context.js';
import { waitForCount } from '../lib/bullmq.js';
import { makeDocketEnv } from '../lib/docket-env.js';
import { drain } from '../lib/docket-runs.js';
import { stuckRows } from '../lib/stuck.js';
import { rssOf, sleep, startWorker, type Proc } from '../lib/proc.js';
import { spread } from '../lib/stats.js';
import type { BenchOptions, Row, Scenario } from '../lib/types.js';
import { enqueueMany } from '../../app/enqueue-many.js';

async function completed(ctx: Context, lo: number): Promise<number> {
  const r = (await ctx.db('jobs').where('id', '>=', lo).where({ status: 'completed' }).count({ n: '*' }).first()) as { n: number };
  return Number(r.n);
}

export const scenario: Scenario = {
  id: 7,
  title: '100,000 noop jobs through one worker: memory',
  needs: ['mysql', 'amqp'],
  async run(opts: BenchOptions): Promise<Row[]> {
    const total = opts.quick ? 2000 : Number(process.env.BENCH_S7_JOBS || 100_000);
    const first = 1000;
    const env = await makeDocketEnv({ db: 'mysql', transport: 'amqp' });
    let worker: Proc | null = null;
    const samples: Array<{ jobs: number; rss: number }> = [];
    let seconds: number;
    let ran: number;
    let stuck: string[];
    try {
      const ctx = await env.context();
      worker = await startWorker(env.env, 2);
      const t0 = Date.now();
      const { ids } = await enqueueMany(ctx.service, Array.from({ length: first }, () => ({ task: 'noop', params: {}, origin: 'cli' as const })));
      const lo = ids[0];
      await waitForCount('the first jobs', () => completed(ctx, lo), first);
      // Let the last finishes of the first batch settle before reading memory.
      await sleep(500);
      samples.push({ jobs: first, rss: rssOf(worker.pid) });
      // The rest in slices, keeping the queue a few thousand jobs ahead of the worker.
      let queued = first;
      let sliceMs = 0;
      while (queued < total) {
        if (!opts.timeFor(sliceMs + 2000)) {
          opts.log(`  stopping at ${queued.toLocaleString('en')} jobs: the rest would overrun this scenario's time budget`);
          break;
        }
        const began = Date.now();
        const k = Math.min(5000, total - queued);
        await enqueueMany(ctx.service, Array.from({ length: k }, () => ({ task: 'noop', params: {}, origin: 'cli' as const })));
        queued += k;
        await waitForCount('the worker', () => completed(ctx, lo), queued - 2500, 60_000, 500);
        if (queued % 20_000 === 0) samples.push({ jobs: await completed(ctx, lo), rss: rssOf(worker.pid) });
        sliceMs = Date.now() - began;
      }
      stuck = await drain(ctx, lo, lo + queued - 1, queued);
      await sleep(500);
      ran = queued;
      samples.push({ jobs: queued, rss: rssOf(worker.pid) });
      seconds = (Date.now() - t0) / 1000;
      opts.log(`  ${ran} jobs in ${seconds.toFixed(0)} s; RSS ${samples.map((s) => `${s.jobs}: ${(s.rss / 2 ** 20).toFixed(0)} MB`).join(', ')}`);
    } finally {
      await worker?.stop();
      await env.cleanup();
    }
    const early = samples[0].rss;
    const late = samples[samples.length - 1].rss;
    const cut = ran < total ? ` (of ${total.toLocaleString('en')}: time budget)` : '';
    const note = `1 worker process, concurrency 2; ${ran.toLocaleString('en')} jobs${cut} in ${seconds.toFixed(0)} s, one run`;
    return [
      ...stuckRows(7, [{ stuck }], ran),
      { scenario: 7, measure: 'worker RSS after 1,000 jobs', unit: 'MB', value: spread([early / 2 ** 20]), target: 'reported', pass: null },
      { scenario: 7, measure: `worker RSS after ${ran.toLocaleString('en')} jobs`, unit: 'MB', value: spread([late / 2 ** 20]), target: 'reported', pass: null },
      {
        scenario: 7,
        measure: 'RSS growth, last / after 1,000',
        unit: '×',
        value: spread([late / early]),
        target: '≤ 1.1×',
        pass: opts.quick ? null : late / early <= 1.1,
        note,
        detail: { samples },
      },
    ];
  },
};
