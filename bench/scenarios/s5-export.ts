/**
 * 5. CSV history export of 1,000,000 jobs through `/jobs/export.csv?tab=all` as the
 * administrator: rows per second at the client, and the peak resident memory (VmHWM)
 * of a web process started fresh for each run.
 */
import { million, ADMIN } from '../lib/million.js';
import { rssOf } from '../lib/proc.js';
import { repeat } from '../lib/repeat.js';
import { spread } from '../lib/stats.js';
import type { BenchOptions, Row, Scenario } from '../lib/types.js';
import { login, startWeb } from '../lib/web.js';
import { MILLION } from './s4-jobs-page.js';

export const scenario: Scenario = {
  id: 5,
  title: 'CSV export of 1,000,000 jobs',
  needs: ['mysql'],
  async run(opts: BenchOptions): Promise<Row[]> {
    const jobs = opts.quick ? 50_000 : MILLION;
    const m = await million(jobs, opts.log);
    const rates: number[] = [];
    const peaks: number[] = [];
    const idle: number[] = [];
    await repeat(opts, async (r) => {
      const web = await startWeb(m.env.env, { logRequests: false });
      try {
        const cookie = await login(web.base, ADMIN.username, ADMIN.password);
        idle.push(rssOf(web.proc.pid, 'VmHWM') / 2 ** 20);
        const t0 = performance.now();
        const res = await fetch(`${web.base}/jobs/export.csv?tab=all`, { headers: { cookie } });
        if (res.status !== 200 || !res.body) throw new Error(`export answered ${res.status}`);
        let lines = 0;
        let last = 0;
        // Count records as they arrive (no field of these rows holds a newline).
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
          last = chunk[chunk.length - 1];
        }
        const seconds = (performance.now() - t0) / 1000;
        const records = lines - 1 + (last === 10 ? 0 : 1);
        if (records !== jobs) throw new Error(`the export held ${records} rows, not ${jobs}`);
        rates.push(records / seconds);
        peaks.push(rssOf(web.proc.pid, 'VmHWM') / 2 ** 20);
        opts.log(`  run ${r + 1}: ${records} rows in ${seconds.toFixed(1)} s; web peak RSS ${peaks[r].toFixed(0)} MB (before: ${idle[r].toFixed(0)} MB)`);
      } finally {
        await web.stop();
      }
    });
    const rate = spread(rates);
    const peak = spread(peaks);
    const note = `${jobs.toLocaleString('en')} jobs; a fresh web process per run (peak before the export: ${spread(idle).median.toFixed(0)} MB)`;
    return [
      { scenario: 5, measure: 'CSV export rows/s', unit: 'rows/s', value: rate, target: '≥ 100,000', pass: opts.quick ? null : rate.median >= 100_000, note },
      { scenario: 5, measure: 'web process peak RSS during export', unit: 'MB', value: peak, target: '≤ 150 MB', pass: opts.quick ? null : peak.median <= 150, note },
    ];
  },
};
