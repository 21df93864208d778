/**
 * 10. Retention with a backlog: MariaDB holds N finished jobs past their retention (each
 * with two events and a line of output) and a thousand recent ones. A `docket web`
 * process starts and the page is measured alone for a slice; then its maintenance sweep
 * removes the old jobs in batches while `/jobs` is loaded as an administrator at 50
 * requests a second (an open loop over up to 20 connections), and the page is measured
 * again once the backlog is gone. Figures: the page's server-side p99 during the removal
 * (per 5 s slice, worst and median), without it (the slices before and after), their
 * ratio, and how fast the backlog goes.
 * Its own database: the shared million of scenarios 4 and 5 must not lose its jobs.
 */
import { RETENTION_BATCH } from '../../app/retention.js';
import { setSetting } from '../../app/store/settings.js';
import { createUser } from '../../app/store/users.js';
import { makeDocketEnv } from '../lib/docket-env.js';
import { finishedJobRow } from '../lib/million.js';
import { percentile, spread } from '../lib/stats.js';
import type { BenchOptions, Row, Scenario } from '../lib/types.js';
import { login, openLoop, startWeb } from '../lib/web.js';

const DAY = 24 * 3600 * 1000;
const CONNECTIONS = 20;
/**
 * The page's load, an open loop: 50 requests a second, one every 20 ms (`openLoop`),
 * about a quarter of what one web process serves on the benchmark machine. A closed
 * loop of 20 clients would keep the process saturated, and its p99 would be the queue
 * in front of the page (hundreds of ms with or without retention) rather than what
 * retention adds. Until 2026-11-29 the load was autocannon's `overallRate`, which sends
 * each second's requests in a burst from all 20 clients at once: its p99 was mostly the
 * burst's own queue (20 pages rendered one after the other), not the page's time.
 */
const RATE = 50;
const SLICE_S = 5;
const ADMIN = { username: 'admin', password: 'bench-admin-password' };

export const scenario: Scenario = {
  id: 10,
  title: 'retention removing 1,000,000 old jobs while the jobs page is loaded',
  needs: ['mysql'],
  async run(opts: BenchOptions): Promise<Row[]> {
    const jobs = opts.quick ? 20_000 : Number(process.env.BENCH_S10_JOBS || 1_000_000);
    const env = await makeDocketEnv({ db: 'mysql', transport: 'db' }, { DOCKET_RETENTION_DAYS: '30', DOCKET_RETENTION_FAILED_DAYS: '90' });
    try {
      const ctx = await env.context();
      const admin = await createUser(ctx.db, ADMIN.username, ADMIN.password, 'admin');
      const t0 = Date.now();
      const now = Date.now();
      const batch = 5000;
      for (let from = 0; from < jobs + 1000; from += batch) {
        const rows = [];
        for (let i = from; i < Math.min(jobs + 1000, from + batch); i++) {
          const old = i < jobs;
          const status = i % 17 === 0 ? 'failed' : i % 23 === 0 ? 'cancelled' : 'completed';
          // Old jobs ended 100 to 465 days ago (past both retentions), recent ones within a day.
          const finishedAt = old ? now - 100 * DAY - ((i * 7919) % (365 * DAY)) : now - (i % 1000) * 60_000;
          rows.push(finishedJobRow(status, finishedAt, admin));
        }
        await ctx.db('jobs').insert(rows);
      }
      // Each job's history and output, as the engine leaves them (two events, one chunk).
      for (const type of ['started', 'completed']) {
        await ctx.db.raw(`insert into job_events (job_id, at, type, attempt, actor) select id, finished_at, ?, 1, 'bench' from jobs`, [type]);
      }
      await ctx.db.raw(`insert into job_output (job_id, attempt, stream, chunk, at) select id, 1, 'stdout', 'line 1\n', finished_at from jobs`);
      await ctx.db.raw('analyze table jobs, job_events, job_output');
      opts.log(`  ${jobs.toLocaleString('en')} old jobs (+1,000 recent) with events and output inserted in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

      // Retention waits (its shared due time an hour ahead) while the page is measured alone.
      await setSetting(ctx.db, 'retention_due', String(Date.now() + 3600_000));
      const oldLeft = async (): Promise<boolean> =>
        (await ctx.db('jobs').whereIn('status', ['completed', 'cancelled', 'failed']).where('finished_at', '<', now - 30 * DAY).first('id')) !== undefined;
      const web = await startWeb(env.env, { logRequests: true });
      const slices: Array<{ p50: number; p99: number; requests: number }> = [];
      let started = 0;
      let drainedAt: number | null = null;
      const alone: number[] = [];
      try {
        const cookie = await login(web.base, ADMIN.username, ADMIN.password);
        // One slice of the page's load: its server times (request to response, in the web process).
        const slice = async (): Promise<number[]> => {
          web.serverTimes.length = 0;
          const res = await openLoop(`${web.base}/jobs?tab=all`, { rate: RATE, seconds: SLICE_S, connections: CONNECTIONS, headers: { cookie } });
          if (res.non2xx || res.errors) throw new Error(`/jobs: ${res.non2xx} non-2xx, ${res.errors} errors`);
          await new Promise((done) => setTimeout(done, 200));
          return web.serverTimes.filter((t) => t.path === '/jobs?tab=all').map((t) => t.ms);
        };
        const before = await slice();
        alone.push(...before);
        opts.log(`  before retention: server p50 ${percentile(before, 50)} ms p99 ${percentile(before, 99)} ms`);
        // The backlog's end, looked for every 250 ms through the (status, finished_at) index.
        started = Date.now();
        await setSetting(ctx.db, 'retention_due', '0');
        const watch = (async () => {
          while (drainedAt === null && Date.now() - started < 3600_000) {
            await new Promise((done) => setTimeout(done, 250));
            if (!(await oldLeft())) drainedAt = Date.now();
          }
        })();
        while (drainedAt === null) {
          const times = await slice();
          const one = { p50: percentile(times, 50), p99: percentile(times, 99), requests: times.length };
          slices.push(one);
          opts.log(`  slice ${slices.length}: ${one.requests} requests, server p50 ${one.p50} ms p99 ${one.p99} ms${drainedAt ? ' (backlog gone)' : ''}`);
          if (Date.now() - started > 3600_000) throw new Error('the backlog was not gone after an hour');
        }
        await watch;
        // The same load with nothing left to remove.
        const after = await slice();
        alone.push(...after);
        opts.log(`  after the backlog: server p50 ${percentile(after, 50)} ms p99 ${percentile(after, 99)} ms`);
      } finally {
        await web.stop();
      }
      const left = Number(((await ctx.db('jobs').count({ n: '*' }).first()) as { n: number }).n);
      if (left !== 1000) throw new Error(`${left} jobs left, expected the 1,000 recent ones`);
      if (drainedAt === null) throw new Error('the backlog was not gone');
      const seconds = (drainedAt - started) / 1000;
      const p99s = slices.map((s) => s.p99);
      const worst = Math.max(...p99s);
      const without = percentile(alone, 99);
      const note = `${jobs.toLocaleString('en')} old jobs, batches of ${RETENTION_BATCH}, ${RATE} requests/s (open loop, up to ${CONNECTIONS} connections) on /jobs?tab=all, ${slices.length} slices of ${SLICE_S} s`;
      return [
        {
          scenario: 10,
          measure: 'jobs page server p99 while retention runs (worst slice)',
          unit: 'ms',
          value: spread([worst]),
          target: '≤ 50 ms',
          pass: opts.quick ? null : worst <= 50,
          note,
          detail: { slices, without },
        },
        { scenario: 10, measure: 'jobs page server p99 while retention runs (median slice)', unit: 'ms', value: spread([percentile(p99s, 50)]), target: 'reported', pass: null, note },
        { scenario: 10, measure: 'jobs page server p99 without retention (a slice before and one after), same load', unit: 'ms', value: spread([without]), target: 'reported', pass: null, note },
        { scenario: 10, measure: 'worst slice p99 with retention / p99 without', unit: '×', value: spread([Math.round((worst / without) * 100) / 100]), target: 'reported', pass: null, note },
        { scenario: 10, measure: 'old jobs removed per second', unit: 'jobs/s', value: spread([Math.round(jobs / seconds)]), target: 'thousands', pass: null, note: `${note}; ${seconds.toFixed(1)} s in all` },
      ];
    } finally {
      await env.cleanup();
    }
  },
};
