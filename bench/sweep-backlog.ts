/**
 * The sweep's two rounds over a backlog: `N` queued jobs (default 200,000) the broker has
 * confirmed and as many completed ones, plus a few it has not confirmed and a held chain
 * step, on MariaDB. Times each
 * round's query as the sweep runs it (through `jobs_undispatched`, migration
 * 20261208000000) and as it ran before (by `status`), with the rows MariaDB examined.
 * `node --import tsx bench/sweep-backlog.ts`
 */
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { chainsToAdvance, HELD } from '../app/store/group-chain.js';
import { undispatched } from '../app/store/job-dispatch.js';
import { tasksWaiting, waitingDispatchedByTask } from '../app/store/job-lost.js';
import { makeDocketEnv } from './lib/docket-env.js';

const n = Number(process.env.N || 200_000);
const env = await makeDocketEnv({ db: 'mysql', transport: 'db' });
try {
  const ctx = await env.context();
  const db = ctx.db;
  const row = (extra: Record<string, unknown>) => ({ task: 'noop', params: '{}', status: 'queued', priority: 0, origin: 'cli', attempt: 0, max_attempts: 1, queued_at: 1000, dispatched_at: 1100, ...extra });
  for (let i = 0; i < n; i += 5000) await db('jobs').insert(Array.from({ length: Math.min(5000, n - i) }, () => row({})));
  for (let i = 0; i < n; i += 5000) await db('jobs').insert(Array.from({ length: Math.min(5000, n - i) }, () => row({ status: 'completed', finished_at: 1200 })));
  await db('jobs').insert(Array.from({ length: 20 }, () => row({ dispatched_at: null })));
  const [g] = (await db('job_groups').insert({ name: 'chain', chain: true, origin: 'cli', job_count: 2, created_at: 1000 })) as number[];
  await db('jobs').insert([row({ status: 'completed', group_id: g, group_seq: 0, finished_at: 1200 }), row({ group_id: g, group_seq: 1, run_after: HELD, dispatched_at: null })]);
  await db.raw('analyze table jobs');

  const examined = async (db: Knex): Promise<number> => {
    const [rows] = (await db.raw("show session status like 'Handler_read%'")) as [Array<{ Value: string }>];
    return rows.reduce((a, r) => a + Number(r.Value), 0);
  };
  // One connection, so that the session's counters are this query's.
  await db.transaction(async (trx) => {
    const time = async (label: string, q: () => Promise<unknown>) => {
      await q();
      const runs: number[] = [];
      const h0 = await examined(trx as unknown as Knex);
      for (let i = 0; i < 5; i++) {
        const t = performance.now();
        await q();
        runs.push(performance.now() - t);
      }
      const rows = ((await examined(trx as unknown as Knex)) - h0) / 5;
      runs.sort((a, b) => a - b);
      console.log(`${label.padEnd(52)} ${runs[2].toFixed(2).padStart(8)} ms  ${Math.round(rows).toLocaleString('en-US').padStart(9)} rows read`);
    };
    const tx = trx as unknown as Knex;
    console.log(`${n.toLocaleString('en-US')} queued jobs confirmed by the broker, 20 not, one held chain step, ${n.toLocaleString('en-US')} completed`);
    await time('dispatcher round, by status (before)', () =>
      tx('jobs').select('id', 'task', 'priority', 'attempt').where({ status: 'queued' }).whereNull('dispatched_at').where('queued_at', '<=', 5000)
        .where((q) => q.whereNull('run_after').orWhere('run_after', '<=', 5000)).orderBy('id', 'asc').limit(500));
    await time('dispatcher round, by jobs_undispatched (now)', () => undispatched(tx, 5000, 5000, 500));
    await time('chains round, by status (before)', () =>
      tx('jobs as h').join('jobs as p', (j) => j.on('p.group_id', 'h.group_id').andOn('p.group_seq', '=', tx.raw('h.group_seq - 1')))
        .where('h.status', 'queued').where('h.run_after', HELD).whereIn('p.status', ['completed', 'failed', 'cancelled']).distinct('h.group_id as gid').limit(100));
    await time('chains round, by jobs_undispatched (now)', () => chainsToAdvance(tx, 100));
    // The lost-message check counted twice per turn; it now reads the tasks, then counts once.
    await time('lost-message check: its count (twice before, once now)', () => waitingDispatchedByTask(tx, 5000));
    await time('lost-message check: the tasks to ask about (now)', () => tasksWaiting(tx));
  });
} finally {
  await env.cleanup();
}
process.exit(0);
