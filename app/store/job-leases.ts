/** Leases of running jobs: renewal by their worker, and the expired ones for recovery. */
import type { Db } from '../db.js';
import { rowToJob } from './job-rows.js';
import type { Row } from './raw.js';
import type { Job } from '../types.js';

/**
 * Lease renewal for the running jobs a worker holds; returns how many were renewed.
 * By primary key: a range over the worker's index entries takes next-key locks on
 * InnoDB that the same worker's claims and completions wait on (and deadlock with),
 * and it would keep renewing a job the worker no longer runs, which then never ends.
 */
export async function renewLeases(db: Db, workerId: string, ids: number[], until: number): Promise<number> {
  if (ids.length === 0) return 0;
  return db('jobs').whereIn('id', ids).where({ worker_id: workerId, status: 'running' }).update({ lease_expires_at: until });
}

export async function runningOfWorker(
  db: Db,
  workerId: string,
): Promise<Array<{ id: number; attempt: number; cancelRequestedBy: string | null }>> {
  const rows = (await db('jobs')
    .select('id', 'attempt', 'cancel_requested_by')
    .where({ worker_id: workerId, status: 'running' })) as Row[];
  return rows.map((r) => ({
    id: Number(r.id),
    attempt: Number(r.attempt),
    cancelRequestedBy: (r.cancel_requested_by as string | null) ?? null,
  }));
}

/**
 * Running jobs whose lease runs out before `before` (with `before` = now: their worker is
 * gone or hung), the first to run out first.
 */
export async function expiredLeases(db: Db, before: number, limit: number): Promise<Job[]> {
  const rows = (await db('jobs')
    .where({ status: 'running' })
    .where('lease_expires_at', '<', before)
    .orderBy('lease_expires_at', 'asc')
    .limit(limit)) as Row[];
  return rows.map(rowToJob);
}

/** Running jobs held by any of these workers (for recovery of a worker known dead). */
export async function runningOfWorkers(db: Db, workerIds: string[]): Promise<Job[]> {
  if (workerIds.length === 0) return [];
  const rows = (await db('jobs').where({ status: 'running' }).whereIn('worker_id', workerIds)) as Row[];
  return rows.map(rowToJob);
}
