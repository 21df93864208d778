/**
 * Deleting finished jobs with everything that names them, in batches: clear inactive,
 * retention and discarding one job all go through `deleteFinalJobs`, so that each
 * transaction stays small (no long lock) and a job that became active meanwhile stays.
 */
import { writeTransaction, type Db } from '../db.js';
import { lockRows } from '../dialect.js';
import { FINAL_STATUSES, type JobStatus } from '../types.js';

/** What deleting removed: how many jobs, and the files they leave behind. */
export interface ClearedJobs {
  cleared: number;
  /** Result files (finding aids, exports): store ids, or names in the results folder from before the store. */
  files: string[];
  /** Id, task and parameters of the cleared jobs whose task owns files (`ownsFiles`). */
  owners: Array<{ id: number; task: string; params: Record<string, unknown> }>;
  /** The cleared jobs' ids (their output logs go too). */
  ids: number[];
}

export const emptyCleared = (): ClearedJobs => ({ cleared: 0, files: [], owners: [], ids: [] });

/** The columns a batch reads to delete jobs and find what they leave behind. */
const DELETE_COLUMNS = ['id', 'task', 'params', 'result_file'];
type DeleteRow = { id: number; task: string; params: unknown; result_file: string | null };

/**
 * The tables whose rows name a job by `job_id` and go with it, each through an index
 * that starts with `job_id` (files are left to the file store, which also holds chunks
 * or folder files: their ids are returned instead).
 */
const JOB_TABLES = ['job_output', 'job_events', 'job_subscriptions', 'outbox', 'import_checkpoints', 'import_rejects'];

/**
 * Deletes these jobs (one transaction; callers keep batches to 500-1,000) if they are
 * still finished, with their output, events, subscriptions, notifications and
 * checkpoints, and adds what went to `into`: the caller removes the result files and the
 * store files (`into.files`), and forgets the jobs page's cached counts.
 *
 * The status is read again inside the transaction with the rows locked (MariaDB: FOR
 * UPDATE; SQLite's write lock is the database's): a job retried meanwhile is active again
 * and stays, and a retry that comes during the delete waits for it and then finds the job
 * gone. The ids are sorted so that every delete walks its index in one direction.
 * `ownsFiles` says which tasks own files named in their parameters (the caller knows the
 * tasks; this store does not).
 */
export async function deleteFinalJobs(db: Db, jobIds: number[], ownsFiles: (task: string) => boolean, into: ClearedJobs): Promise<ClearedJobs> {
  if (jobIds.length === 0) return into;
  const ids = [...new Set(jobIds.map(Number))].sort((a, b) => a - b);
  const { rows, storeFiles } = await writeTransaction(db, async (trx) => {
    const found = (await lockRows(db, trx('jobs').select(DELETE_COLUMNS).whereIn('id', ids).whereIn('status', FINAL_STATUSES as JobStatus[]).orderBy('id'))) as DeleteRow[];
    if (found.length === 0) return { rows: found, storeFiles: [] as string[] };
    const still = found.map((r) => Number(r.id));
    for (const table of JOB_TABLES) await trx(table).whereIn('job_id', still).delete();
    const files = (await trx('files').whereIn('job_id', still).pluck('id')) as string[];
    into.cleared += await trx('jobs').whereIn('id', still).delete();
    return { rows: found, storeFiles: files };
  });
  for (const r of rows) {
    if (r.result_file) into.files.push(r.result_file);
    if (ownsFiles(r.task)) {
      into.owners.push({ id: Number(r.id), task: r.task, params: typeof r.params === 'string' ? (JSON.parse(r.params) as Record<string, unknown>) : {} });
    }
    into.ids.push(Number(r.id));
  }
  // A result is also a store file of its job: named once.
  for (const f of storeFiles) if (!into.files.includes(f)) into.files.push(f);
  return into;
}

/**
 * Up to `limit` ids of jobs of these statuses that ended before `before`: one range of the
 * `jobs_finished (finished_status, finished_at)` index per status, read from the index
 * alone (its entries carry the id), oldest first. `finished_status` is the status of a
 * job with a `finished_at` (a virtual column, migration 20261207000000): the same rows as
 * `status = ? and finished_at < ?`, in an index a claim does not touch.
 */
export async function expiredJobIds(db: Db, statuses: readonly JobStatus[], before: number, limit: number): Promise<number[]> {
  const ids: number[] = [];
  for (const status of statuses) {
    if (ids.length >= limit) break;
    const found = await db('jobs')
      .where('finished_status', status)
      .where('finished_at', '<', before)
      .orderBy('finished_at', 'asc')
      .limit(limit - ids.length)
      .pluck('id');
    ids.push(...found.map(Number));
  }
  return ids;
}

/** Whether a job exists (discard tells a missing job from an active one). */
export async function jobExists(db: Db, id: number): Promise<boolean> {
  return (await db('jobs').where('id', id).first('id')) !== undefined;
}

