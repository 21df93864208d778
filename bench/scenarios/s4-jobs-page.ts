/**
 * 4. The jobs page with 1,000,000 jobs in MariaDB: `/jobs?tab=all` and `?tab=failed`,
 * as an administrator (everyone's jobs) and as an archivist (her own), 20 concurrent
 * clients. The figure is the server's own time per request, read from the app's
 * request log; the clients' view (which adds queueing on two cores) is in the JSON.
 */
import autocannon from 'autocannon';
import { million, ADMIN, ARCHIVIST } from '../lib/million.js';
import { repeat } from '../lib/repeat.js';
import { percentile, spread } from '../lib/stats.js';
import type { BenchOptions, Row, Scenario } from '../lib/types.js';
import { login, startWeb } from '../lib/web.js';

export const MILLION = Number(process.env.BENCH_MILLION || 1_000_000);
const CONNECTIONS = 20;

interface Run {
  requests: number;
  serverP50: number;
  serverP99: number;
  clientP50: number;
  clientP99: number;
}

export const scenario: Scenario = {
  id: 4,
  title: 'jobs page with 1,000,000 jobs, 20 concurrent clients',
  needs: ['mysql'],
  async run(opts: BenchOptions): Promise<Row[]> {
    const jobs = opts.quick ? 50_000 : MILLION;
    const seconds = opts.quick ? 2 : Number(process.env.BENCH_S4_SECONDS || 5);
    const m = await million(jobs, opts.log);
    const web = await startWeb(m.env.env, { logRequests: true });
    const rows: Row[] = [];
    try {
      const cookies = {
        administrator: await login(web.base, ADMIN.username, ADMIN.password),
        archivist: await login(web.base, ARCHIVIST.username, ARCHIVIST.password),
      };
      const combos = (['administrator', 'archivist'] as const).flatMap((who) =>
        ['all', 'failed'].map((tab) => ({ who, path: `/jobs?tab=${tab}`, runs: [] as Run[] })),
      );
      // Rounds over the four pages, so that a budget cut leaves each with the same runs.
      await repeat(opts, async (r) => {
        for (const c of combos) {
          web.serverTimes.length = 0;
          const res = await autocannon({
            url: `${web.base}${c.path}`,
            connections: CONNECTIONS,
            duration: seconds,
            headers: { cookie: cookies[c.who] },
          });
          if (res.non2xx || res.errors || res.timeouts) {
            throw new Error(`${c.path} as ${c.who}: ${res.non2xx} non-2xx answers, ${res.errors} errors, ${res.timeouts} timeouts`);
          }
          // The log line is written when the response finishes; give the last ones a moment.
          await new Promise((done) => setTimeout(done, 200));
          const times = web.serverTimes.filter((t) => t.path === c.path).map((t) => t.ms);
          if (times.length === 0) throw new Error(`the web process logged no ${c.path} requests`);
          const run: Run = {
            requests: res.requests.total,
            serverP50: percentile(times, 50),
            serverP99: percentile(times, 99),
            clientP50: res.latency.p50,
            clientP99: res.latency.p99,
          };
          c.runs.push(run);
          opts.log(
            `  ${c.who} ${c.path} run ${r + 1}: ${res.requests.total} requests (${res.requests.average}/s); server p50 ${run.serverP50} ms p99 ${run.serverP99} ms; client p50 ${run.clientP50} ms p99 ${run.clientP99} ms`,
          );
        }
      });
      for (const { who, path, runs } of combos) {
        const p50 = spread(runs.map((x) => x.serverP50));
        const p99 = spread(runs.map((x) => x.serverP99));
        const reqs = spread(runs.map((x) => x.requests / seconds));
        const note = `${jobs.toLocaleString('en')} jobs, ${CONNECTIONS} clients, ${seconds} s per run, ~${Math.round(reqs.median)} requests/s`;
        rows.push(
          { scenario: 4, measure: `${path} as ${who}, server p50`, unit: 'ms', value: p50, target: 'reported', pass: null, note },
          {
            scenario: 4,
            measure: `${path} as ${who}, server p99`,
            unit: 'ms',
            value: p99,
            target: '≤ 50 ms',
            pass: opts.quick ? null : p99.median <= 50,
            note,
            detail: { runs },
          },
        );
      }
    } finally {
      await web.stop();
    }
    return rows;
  },
};
