/**
 * The million-job history of scenarios 4 and 5, built once per benchmark run and
 * shared: rows inserted straight into `jobs` with multi-row INSERTs (the engine is not
 * what these scenarios measure), owned by an administrator, five archivists and the
 * command line, mostly completed, with failures and cancellations among them.
 */
import { createUser } from '../../app/store/users.js';
import type { Context } from '../../app/context.js';
import { makeDocketEnv, type DocketEnv } from './docket-env.js';

export const ADMIN = { username: 'admin', password: 'bench-admin-password' };
export const ARCHIVIST = { username: 'ada', password: 'bench-archivist-password' };

export interface Million {
  env: DocketEnv;
  ctx: Context;
  jobs: number;
  /** Jobs of the measured archivist, and failed jobs in all and of hers. */
  counts: { archivist: number; failed: number; archivistFailed: number };
  insertSeconds: number;
}

let shared: Promise<Million> | null = null;

/** The shared history (built on first use). */
export function million(jobs: number, log: (m: string) => void): Promise<Million> {
  shared ??= build(jobs, log);
  return shared;
}

/** Drops the shared database, if one was built (run.ts calls this at the end). */
export async function releaseMillion(): Promise<void> {
  if (!shared) return;
  const m = await shared.catch(() => null);
  shared = null;
  if (m) await m.env.cleanup();
}

const TASKS = ['csv-import', 'csv-export', 'finding-aid', 'publication-status', 'move', 'noop'];
const SUMMARIES: Record<string, string> = {
  'csv-import': 'imported 120 descriptions; 3 rows skipped',
  'csv-export': 'exported 48 descriptions',
  'finding-aid': 'finding aid generated (PDF, inventory summary)',
  'publication-status': 'set 14 descriptions to published',
  move: 'moved under "Correspondence, 1901-1920"',
  noop: 'done',
};

async function build(jobs: number, log: (m: string) => void): Promise<Million> {
  const env = await makeDocketEnv({ db: 'mysql', transport: 'db' }, { DOCKET_ADMIN_PASSWORD: ADMIN.password });
  try {
    const ctx = await env.context();
    const admin = await createUser(ctx.db, ADMIN.username, ADMIN.password, 'admin');
    const ada = await createUser(ctx.db, ARCHIVIST.username, ARCHIVIST.password, 'archivist');
    const others = [];
    for (const name of ['bea', 'cyd', 'dee', 'eve']) others.push(await createUser(ctx.db, name, `${name}-password`, 'archivist'));
    // Owners: 40 % command line, 10 % the measured archivist, 10 % the administrator, the rest the others.
    const owners = [
      ...Array<null>(4).fill(null),
      ada,
      admin,
      ...others,
    ];
    const t0 = Date.now();
    const start = Date.UTC(2025, 10, 1);
    const step = (365 * 24 * 3600 * 1000) / jobs;
    const counts = { archivist: 0, failed: 0, archivistFailed: 0 };
    const batch = 5000;
    const insertSlice = async (from: number): Promise<void> => {
      const rows = [];
      for (let i = from; i < Math.min(jobs, from + batch); i++) {
        // A fixed pseudo-random mix, the same on every run.
        const h = (i * 2654435761) >>> 0;
        const owner = owners[h % owners.length];
        const task = TASKS[(h >>> 8) % TASKS.length];
        const r = (h >>> 16) % 100;
        const recent = i >= jobs - 20;
        const status = recent ? (i % 2 ? 'queued' : 'running') : r < 6 ? 'failed' : r < 8 ? 'cancelled' : 'completed';
        if (owner === ada) counts.archivist++;
        if (status === 'failed') {
          counts.failed++;
          if (owner === ada) counts.archivistFailed++;
        }
        const queuedAt = Math.round(start + i * step);
        const startedAt = status === 'queued' ? null : queuedAt + 400;
        const finishedAt = status === 'queued' || status === 'running' ? null : queuedAt + 400 + ((h >>> 4) % 60_000);
        rows.push({
          task,
          params: '{}',
          status,
          priority: 2,
          user_id: owner?.id ?? null,
          username: owner?.username ?? null,
          origin: owner ? 'web' : 'cli',
          attempt: status === 'queued' ? 0 : 1,
          max_attempts: 3,
          worker_id: status === 'running' ? 'bench-host-1-aaaaaa' : null,
          queued_at: queuedAt,
          dispatched_at: queuedAt,
          started_at: startedAt,
          finished_at: finishedAt,
          result_summary: status === 'completed' ? SUMMARIES[task] : null,
          error: status === 'failed' ? `row ${h % 500}: unknown level of description "Fonds?"` : null,
          cancel_requested_by: status === 'cancelled' ? 'admin' : null,
        });
      }
      await ctx.db('jobs').insert(rows);
    };
    // Two INSERTs in flight keep the server busy while the next slice is built.
    let next = 0;
    const lane = async (): Promise<void> => {
      for (;;) {
        const from = next;
        next += batch;
        if (from >= jobs) return;
        await insertSlice(from);
        if (from % 200_000 === 0 && from > 0) log(`  inserted ${from.toLocaleString('en')} jobs`);
      }
    };
    await Promise.all([lane(), lane()]);
    await ctx.db.raw('analyze table jobs');
    const insertSeconds = (Date.now() - t0) / 1000;
    log(`  ${jobs.toLocaleString('en')} jobs inserted in ${insertSeconds.toFixed(0)} s`);
    return { env, ctx, jobs, counts, insertSeconds };
  } catch (err) {
    await env.cleanup().catch(() => undefined);
    throw err;
  }
}

/**
 * A finished `noop` job's row, as retention finds it (scenario 10, bench/page-cost.ts):
 * completed, failed (it broke) or cancelled, ended at `finishedAt`, queued two seconds
 * and started one second before.
 */
export function finishedJobRow(
  status: 'completed' | 'failed' | 'cancelled',
  finishedAt: number,
  owner: { id: number; username: string },
): Record<string, unknown> {
  return {
    task: 'noop',
    params: '{}',
    status,
    priority: 2,
    user_id: owner.id,
    username: owner.username,
    origin: 'web',
    attempt: 1,
    max_attempts: 3,
    queued_at: finishedAt - 2000,
    dispatched_at: finishedAt - 2000,
    started_at: finishedAt - 1000,
    finished_at: finishedAt,
    result_summary: status === 'completed' ? 'done' : null,
    error: status === 'failed' ? 'it broke' : null,
  };
}
