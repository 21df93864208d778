/**
 * `node --import tsx bench/page-cost.ts [--jobs 200000] [--seconds 5] [--rounds 2] [--rate 50] [--other DIR]`:
 * what the jobs page costs the web process, on scenario 10's data (finished jobs owned
 * by the administrator, a thousand recent ones; here a tenth of them an archivist's).
 * For each page (the administrator's list, its auto-refresh fragment, the archivist's
 * list) autocannon loads it as scenario 10 does (20 clients, `--rate` requests a second)
 * and the figures are the web process's CPU ms per request (from /proc) and the
 * server's p50 / p99 (its request log). With `--other DIR` (another checkout of Docket,
 * e.g. `git worktree add` or `git archive` of an older commit, with node_modules) the
 * same measurements alternate between that tree's web process and this one's, over the
 * same database, so that both are measured under the same machine load.
 * Retention stays off: this is the page alone.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { createUser } from '../app/store/users.js';
import { makeDocketEnv } from './lib/docket-env.js';
import { finishedJobRow } from './lib/million.js';
import { cpuMs, ROOT, startProcess } from './lib/proc.js';
import { percentile } from './lib/stats.js';
import { login, openLoop } from './lib/web.js';

const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '200000' },
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    rate: { type: 'string', default: '50' },
    other: { type: 'string' },
    prof: { type: 'string' },
    blocks: { type: 'string', default: '5' },
    latency: { type: 'boolean', default: false },
  },
});
const JOBS = Number(values.jobs);
const SECONDS = Number(values.seconds);
const ROUNDS = Number(values.rounds);
const RATE = Number(values.rate);
const BLOCKS = Number(values.blocks);
const LATENCY = values.latency;
if (![JOBS, SECONDS, ROUNDS, RATE].every((n) => Number.isInteger(n) && n > 0)) throw new Error('--jobs, --seconds, --rounds and --rate take whole numbers above 0');
const DAY = 24 * 3600 * 1000;
const ADMIN = { username: 'admin', password: 'bench-admin-password' };
const ARCHIVIST = { username: 'ada', password: 'bench-archivist-password' };
const REQUEST_LINE = /GET (\S+) (\d{3}) ([\d.]+) ms/;

const trees: Array<{ name: string; root: string }> = [{ name: 'this', root: ROOT }];
if (values.other) trees.unshift({ name: 'other', root: values.other });

const env = await makeDocketEnv({ db: 'mysql', transport: 'db' });
try {
  const ctx = await env.context();
  const admin = await createUser(ctx.db, ADMIN.username, ADMIN.password, 'admin');
  const ada = await createUser(ctx.db, ARCHIVIST.username, ARCHIVIST.password, 'archivist');
  const now = Date.now();
  const t0 = Date.now();
  for (let from = 0; from < JOBS + 1000; from += 5000) {
    const rows = [];
    for (let i = from; i < Math.min(JOBS + 1000, from + 5000); i++) {
      const status = i % 17 === 0 ? 'failed' : i % 23 === 0 ? 'cancelled' : 'completed';
      const finishedAt = i < JOBS ? now - 100 * DAY - ((i * 7919) % (365 * DAY)) : now - (i % 1000) * 60_000;
      const owner = i % 10 === 3 ? ada : admin;
      rows.push(finishedJobRow(status, finishedAt, owner));
    }
    await ctx.db('jobs').insert(rows);
  }
  await ctx.db.raw('analyze table jobs');
  console.log(`${JOBS.toLocaleString('en')} jobs (+1,000 recent) in ${((Date.now() - t0) / 1000).toFixed(0)} s; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

  const pages = [
    { who: 'admin', path: '/jobs?tab=all' },
    { who: 'admin', path: '/jobs?tab=all&partial=1' },
    { who: 'ada', path: '/jobs?tab=all' },
  ] as const;
  // Every tree's web process runs from the start, so that short blocks of requests can
  // alternate between them: a noisy moment of the machine then falls on both.
  const webs = [];
  for (const tree of trees) {
    const times: Array<{ path: string; ms: number }> = [];
    const nodeArgs = values.prof ? ['--cpu-prof', `--cpu-prof-dir=${join(values.prof, tree.name)}`] : [];
    const proc = await startProcess(
      process.execPath,
      [...nodeArgs, '--import', 'tsx', join(tree.root, 'cli/docket.ts'), 'web'],
      { ...env.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'http' },
      /listening on http:\/\/127\.0\.0\.1:\d+/,
      {
        cwd: tree.root,
        onLine: (line) => {
          const m = REQUEST_LINE.exec(line);
          if (m) times.push({ path: m[1], ms: Number(m[3]) });
        },
      },
    );
    const base = `http://127.0.0.1:${/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(proc.log())![1]}`;
    webs.push({ tree, proc, base, times, cookies: { admin: '', ada: '' } });
  }
  try {
    for (const w of webs) {
      w.cookies = { admin: await login(w.base, ADMIN.username, ADMIN.password), ada: await login(w.base, ARCHIVIST.username, ARCHIVIST.password) };
      // A warm-up: the first requests compile templates and fill the connection pool.
      await autocannon({ url: `${w.base}/jobs`, connections: 5, amount: 300, headers: { cookie: w.cookies.admin } });
    }
    const cpu = new Map<string, number[]>();
    const latency = new Map<string, number[]>();
    const add = (m: Map<string, number[]>, k: string, v: number[]): void => void m.set(k, [...(m.get(k) ?? []), ...v]);
    for (let round = 0; round < ROUNDS; round++) {
      for (const p of pages) {
        for (const w of LATENCY ? (round % 2 ? [...webs].reverse() : webs) : [webs[round % webs.length]]) {
          const key = `${w.tree.name.padEnd(5)} ${p.who.padEnd(5)} ${p.path}`;
          const headers = { cookie: w.cookies[p.who] };
          // CPU per request: blocks of 100 requests from 2 clients (closed loop),
          // alternating between the trees.
          for (let b = 0; b < BLOCKS; b++) {
            const cpu0 = cpuMs(w.proc.pid);
            const closed = await autocannon({ url: `${w.base}${p.path}`, connections: 2, amount: 100, headers });
            if (closed.non2xx || closed.errors) throw new Error(`${p.path}: non-2xx answers or errors`);
            add(cpu, key, [(cpuMs(w.proc.pid) - cpu0) / closed.requests.total]);
            if (webs.length > 1) {
              const o = webs[webs.indexOf(w) ^ 1];
              const okey = `${o.tree.name.padEnd(5)} ${p.who.padEnd(5)} ${p.path}`;
              const c0 = cpuMs(o.proc.pid);
              const r = await autocannon({ url: `${o.base}${p.path}`, connections: 2, amount: 100, headers: { cookie: o.cookies[p.who] } });
              add(cpu, okey, [(cpuMs(o.proc.pid) - c0) / r.requests.total]);
            }
          }
          if (!LATENCY) continue;
          // Latency at `--rate` a second: autocannon's bursts (as scenario 10 loaded the
          // page until now) and an open loop, each request at its own time.
          w.times.length = 0;
          const load = { url: `${w.base}${p.path}`, connections: 20, overallRate: RATE, duration: SECONDS, headers };
          const res = await autocannon(load as Parameters<typeof autocannon>[0]);
          await new Promise((r) => setTimeout(r, 200));
          add(latency, `${key} bursts`, w.times.filter((t) => t.path === p.path).map((t) => t.ms));
          w.times.length = 0;
          const open = await openLoop(`${w.base}${p.path}`, { rate: RATE, seconds: SECONDS, connections: 20, headers });
          await new Promise((r) => setTimeout(r, 200));
          add(latency, `${key} open`, w.times.filter((t) => t.path === p.path).map((t) => t.ms));
          if (res.non2xx || res.errors || open.non2xx || open.errors) throw new Error(`${p.path}: non-2xx answers or errors`);
        }
      }
      console.log(`round ${round + 1} done; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    }
    console.log('\nCPU ms per request: median of the rounds (each round 200 requests); server p50 / p99 over all rounds at the rate, in bursts and in an open loop');
    for (const [key, c] of cpu) {
      const lat = (shape: string): string => {
        const t = latency.get(`${key} ${shape}`) ?? [];
        return `${shape} p50 ${percentile(t, 50)} p99 ${percentile(t, 99)} ms (${t.length})`;
      };
      console.log(`${key.padEnd(42)} cpu median ${percentile(c, 50).toFixed(2)} ms, quartiles ${percentile(c, 25).toFixed(2)}-${percentile(c, 75).toFixed(2)} (${c.length} blocks)  ${lat('bursts')}  ${lat('open')}`);
    }
    if (webs.length > 1) {
      console.log('\nthis / other, CPU per request: median of the paired blocks (each pair run back to back)');
      for (const pg of pages) {
        const a = cpu.get(`${'this'.padEnd(5)} ${pg.who.padEnd(5)} ${pg.path}`) ?? [];
        const b = cpu.get(`${'other'.padEnd(5)} ${pg.who.padEnd(5)} ${pg.path}`) ?? [];
        const ratios = a.map((x, i) => x / b[i]).filter(Number.isFinite);
        console.log(`${pg.who.padEnd(5)} ${pg.path.padEnd(26)} ${percentile(ratios, 50).toFixed(2)} (${ratios.length} pairs)`);
      }
    }
  } finally {
    for (const w of webs) await w.proc.stop();
  }
} finally {
  await env.cleanup();
}
