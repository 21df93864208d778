/**
 * Deleting finished jobs with their events and output, in batches: clear inactive,
 * retention and discarding one job all go through `deleteFinalJobs`, so that each
 * transaction stays small (no long lock) and a job that became active meanwhile stays.
 */
import { writeTransaction, type Db } from '../db.js';
import { FINAL_STATUSES, type JobStatus } from '../types.js';

/** What deleting removed: how many jobs, and the files they leave behind. */
export interface ClearedJobs {
  cleared: number;
  /** Result files (finding aids, exports): store ids, or names in the results folder from before the store. */
  files: string[];
  /** Id, task and parameters of the cleared jobs whose task owns files (`ownsFiles`). */
  owners: Array<{ id: number; task: string; params: Record<string, unknown> }>;
  /** The cleared jobs' ids (their files and output logs go too). */
  ids: number[];
}

export const emptyCleared = (): ClearedJobs => ({ cleared: 0, files: [], owners: [], ids: [] });

/** The columns a batch reads to delete jobs and find what they leave behind. */
export const DELETE_COLUMNS = ['id', 'task', 'params', 'result_file'];
export type DeleteRow = { id: number; task: string; params: unknown; result_file: string | null };

/**
 * Deletes these jobs (one transaction; callers keep batches to about 500) if they are
 * still finished, with their events and output, and adds what went to `into`. The status
 * is checked again inside the transaction: a job retried meanwhile is active again and
 * stays. The caller forgets the jobs page's cached counts. `ownsFiles` says which tasks own files named in their parameters (the caller
 * knows the tasks; this store does not).
 */
export async function deleteFinalJobs(db: Db, rows: DeleteRow[], ownsFiles: (task: string) => boolean, into: ClearedJobs): Promise<ClearedJobs> {
  if (rows.length === 0) return into;
  const ids = rows.map((r) => Number(r.id));
  const gone = await writeTransaction(db, async (trx) => {
    const still = (await trx('jobs').whereIn('id', ids).whereIn('status', FINAL_STATUSES as JobStatus[]).pluck('id')).map(Number);
    if (still.length === 0) return new Set<number>();
    await trx('job_output').whereIn('job_id', still).delete();
    await trx('job_events').whereIn('job_id', still).delete();
    // A failed import's resume point and the rows it did not import go with it.
    await trx('import_checkpoints').whereIn('job_id', still).delete();
    await trx('import_rejects').whereIn('job_id', still).delete();
    into.cleared += await trx('jobs').whereIn('id', still).delete();
    return new Set(still);
  });
  for (const r of rows) {
    if (!gone.has(Number(r.id))) continue;
    if (r.result_file) into.files.push(r.result_file);
    if (ownsFiles(r.task)) {
      into.owners.push({ id: Number(r.id), task: r.task, params: typeof r.params === 'string' ? (JSON.parse(r.params) as Record<string, unknown>) : {} });
    }
  }
  into.ids.push(...gone);
  return into;
}

/**
 * Up to `limit` jobs of these statuses that ended before `before`, oldest first: one
 * range of the (status, finished_at) index per status.
 */
export async function expiredJobs(db: Db, statuses: readonly JobStatus[], before: number, limit: number): Promise<DeleteRow[]> {
  const rows: DeleteRow[] = [];
  for (const status of statuses) {
    if (rows.length >= limit) break;
    const found = (await db('jobs')
      .select(DELETE_COLUMNS)
      .where('status', status)
      .where('finished_at', '<', before)
      .orderBy('finished_at', 'asc')
      .limit(limit - rows.length)) as DeleteRow[];
    rows.push(...found);
  }
  return rows;
}

/** One job for `deleteFinalJobs`, whatever its status (the delete checks it again). */
export async function jobToDelete(db: Db, id: number): Promise<DeleteRow | null> {
  const r = (await db('jobs').select(DELETE_COLUMNS).where('id', id).first()) as DeleteRow | undefined;
  return r ?? null;
}
