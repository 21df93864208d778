/**
 * Claim: a worker takes queued jobs (queued → running). Each claim is one conditional
 * UPDATE, so two workers racing for one job cannot both win, and it reads the pause
 * switch in the same transaction, so no job starts once a pause has returned.
 */
import type { Db } from '../db.js';
import { lockForShareSql } from '../dialect.js';
import { insertEventsRaw } from './job-events.js';
import { rowToJob } from './job-rows.js';
import { queueNotificationsOfSubscribed, SUBSCRIBED_COLUMN } from './job-subscriptions.js';
import { marks, rawTransaction, type Row } from './raw.js';
import type { Job } from '../types.js';

/** Ids of queued jobs of these tasks that may start now, best first (the db transport). */
export async function claimableIds(db: Db, tasks: string[], now: number, limit: number): Promise<number[]> {
  if (tasks.length === 0 || limit <= 0) return [];
  const rows = (await db('jobs')
    .select('id')
    .where({ status: 'queued' })
    .whereIn('task', tasks)
    .where((q) => q.whereNull('run_after').orWhere('run_after', '<=', now))
    .orderBy([
      { column: 'priority', order: 'desc' },
      { column: 'id', order: 'asc' },
    ])
    .limit(limit)) as Row[];
  return rows.map((r) => Number(r.id));
}

/**
 * Claim: queued → running, attempt + 1, with the worker and its lease. One conditional
 * UPDATE; a duplicate or stale delivery matches no row and returns null.
 */
export async function claimJob(
  db: Db,
  id: number,
  workerId: string,
  now: number,
  leaseMs: number,
): Promise<Job | null> {
  return (await claimJobs(db, [id], workerId, now, leaseMs))[0] ?? null;
}

/**
 * Claims several jobs in one transaction: one UPDATE for all, one SELECT, one multi-row
 * INSERT of their `started` events. Ids another worker took first (or duplicates) are
 * simply not in the result; while processing is paused nothing is claimed.
 */
export async function claimJobs(
  db: Db,
  ids: number[],
  workerId: string,
  now: number,
  leaseMs: number,
): Promise<Job[]> {
  return (await claimBatch(db, ids, workerId, now, leaseMs)).jobs;
}

export interface ClaimResult {
  /** The jobs this claim took, best first. */
  jobs: Job[];
  /** True when the claim was refused because processing is paused (then `jobs` is empty). */
  paused: boolean;
}

/**
 * `claimJobs`, saying whether a pause refused it. The pause switch is read first, in the
 * claim's own transaction and under a shared lock (dialect.ts, `lockForShareSql`),
 * rather than as a `not exists` condition on the UPDATE: a refusal must be told apart
 * from "another worker took them" (the worker then stops taking deliveries), and whether
 * an UPDATE's subquery locks what it reads depends on the isolation level, where an
 * explicit locking read does not. It costs one short read per batch.
 */
export async function claimBatch(
  db: Db,
  ids: number[],
  workerId: string,
  now: number,
  leaseMs: number,
): Promise<ClaimResult> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return { jobs: [], paused: false };
  // One transaction: one commit (one fsync on InnoDB) for the whole batch. Plain SQL on
  // a pooled connection (raw.ts): this runs for every job a worker takes.
  return rawTransaction(db, async (q) => {
    const { rows: pause } = await q(`select value from settings where name = 'paused'${lockForShareSql(db)}`);
    if (pause.length > 0 && String(pause[0].value) === '1') return { jobs: [], paused: true };
    const { affected } = await q(
      `update jobs set status = 'running', attempt = attempt + 1, worker_id = ?, lease_expires_at = ?,
         started_at = ?, finished_at = null, error = null,
         progress_current = null, progress_total = null, progress_text = null, progress_steps = null
       where id in (${marks(unique.length)}) and status = 'queued' and (run_after is null or run_after <= ?)`,
      [workerId, now + leaseMs, now, ...unique, now],
    );
    if (affected === 0) return { jobs: [], paused: false };
    // Ours are the ones running for this worker since this very claim.
    const { rows } = await q(
      `select jobs.*, ${SUBSCRIBED_COLUMN} from jobs
       where id in (${marks(unique.length)}) and status = 'running' and worker_id = ? and started_at = ?
       order by priority desc, id asc`,
      [...unique, workerId, now],
    );
    const jobs = rows.map(rowToJob);
    if (jobs.length) await insertEventsRaw(q, jobs.map((j) => [j.id, now, 'started', j.attempt, workerId, null]));
    await queueNotificationsOfSubscribed(q, rows, 'running', now);
    return { jobs, paused: false };
  });
}
