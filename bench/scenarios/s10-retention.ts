/**
 * 10. Retention with a backlog: MariaDB holds N finished jobs past their retention (each
 * with two events and a line of output) and a thousand recent ones. A `docket web`
 * process starts; its maintenance sweep removes the old jobs in batches of 500 while 20
 * clients load `/jobs` as an administrator. Figures: the page's server-side p99 during
 * the removal (per 5 s slice, worst and median), and how fast the backlog goes.
 * Its own database: the shared million of scenarios 4 and 5 must not lose its jobs.
 */
import autocannon from 'autocannon';
import { createUser } from '../../app/store/users.js';
import { makeDocketEnv } from '../lib/docket-env.js';
import { percentile, spread } from '../lib/stats.js';
import type { BenchOptions, Row, Scenario } from '../lib/types.js';
import { login, startWeb } from '../lib/web.js';

const DAY = 24 * 3600 * 1000;
const CONNECTIONS = 20;
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
          rows.push({
            task: 'noop',
            params: '{}',
            status,
            priority: 2,
            user_id: admin.id,
            username: admin.username,
            origin: 'web',
            attempt: 1,
            max_attempts: 3,
            queued_at: finishedAt - 2000,
            dispatched_at: finishedAt - 2000,
            started_at: finishedAt - 1000,
            finished_at: finishedAt,
            result_summary: status === 'completed' ? 'done' : null,
            error: status === 'failed' ? 'it broke' : null,
          });
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

      const oldLeft = async (): Promise<boolean> =>
        (await ctx.db('jobs').where('finished_at', '<', now - 30 * DAY).first('id')) !== undefined;
      const web = await startWeb(env.env, { logRequests: true });
      const started = Date.now();
      const slices: Array<{ p50: number; p99: number; requests: number }> = [];
      let drainedAt: number | null = null;
      let baseline = 0;
      try {
        const cookie = await login(web.base, ADMIN.username, ADMIN.password);
        while (drainedAt === null) {
          web.serverTimes.length = 0;
          const res = await autocannon({ url: `${web.base}/jobs?tab=all`, connections: CONNECTIONS, duration: SLICE_S, headers: { cookie } });
          if (res.non2xx || res.errors || res.timeouts) throw new Error(`/jobs: ${res.non2xx} non-2xx, ${res.errors} errors, ${res.timeouts} timeouts`);
          await new Promise((done) => setTimeout(done, 200));
          const times = web.serverTimes.filter((t) => t.path === '/jobs?tab=all').map((t) => t.ms);
          const slice = { p50: percentile(times, 50), p99: percentile(times, 99), requests: res.requests.total };
          slices.push(slice);
          if (!(await oldLeft())) drainedAt = Date.now();
          opts.log(`  slice ${slices.length}: ${slice.requests} requests, server p50 ${slice.p50} ms p99 ${slice.p99} ms${drainedAt ? ' (backlog gone)' : ''}`);
          if (Date.now() - started > 3600_000) throw new Error('the backlog was not gone after an hour');
        }
        // The same load with nothing left to remove: what the machine gives the page anyway.
        web.serverTimes.length = 0;
        await autocannon({ url: `${web.base}/jobs?tab=all`, connections: CONNECTIONS, duration: SLICE_S, headers: { cookie } });
        await new Promise((done) => setTimeout(done, 200));
        const after = web.serverTimes.filter((t) => t.path === '/jobs?tab=all').map((t) => t.ms);
        baseline = percentile(after, 99);
        opts.log(`  after the backlog: server p50 ${percentile(after, 50)} ms p99 ${baseline} ms`);
      } finally {
        await web.stop();
      }
      const left = Number(((await ctx.db('jobs').count({ n: '*' }).first()) as { n: number }).n);
      if (left !== 1000) throw new Error(`${left} jobs left, expected the 1,000 recent ones`);
      const seconds = (drainedAt - started) / 1000;
      const p99s = slices.map((s) => s.p99);
      const note = `${jobs.toLocaleString('en')} old jobs, batches of 500, ${CONNECTIONS} clients on /jobs?tab=all, ${slices.length} slices of ${SLICE_S} s`;
      return [
        {
          scenario: 10,
          measure: 'jobs page server p99 while retention runs (worst slice)',
          unit: 'ms',
          value: spread([Math.max(...p99s)]),
          target: '≤ 50 ms',
          pass: opts.quick ? null : Math.max(...p99s) <= 50,
          note,
          detail: { slices },
        },
        { scenario: 10, measure: 'jobs page server p99 while retention runs (median slice)', unit: 'ms', value: spread([percentile(p99s, 50)]), target: 'reported', pass: null, note },
        { scenario: 10, measure: 'jobs page server p99 after the backlog, same load', unit: 'ms', value: spread([baseline]), target: 'reported', pass: null, note },
        { scenario: 10, measure: 'old jobs removed per second', unit: 'jobs/s', value: spread([Math.round(jobs / seconds)]), target: 'reported', pass: null, note: `${note}; ${seconds.toFixed(0)} s in all (within one slice)` },
      ];
    } finally {
      await env.cleanup();
    }
  },
};
