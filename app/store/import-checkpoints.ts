/**
 * csv-import's checkpoints: the last committed row of an import job, and the import's
 * state then (its totals, what its report linked to). Saved inside each batch's
 * transaction, so the checkpoint and the batch's rows commit or roll back together.
 */
import type { Db } from '../db.js';
import { forShare } from '../dialect.js';

export interface ImportCheckpoint {
  /** The last row (1 = first after the header) of the last committed batch. */
  lastRow: number;
  /** The import's own state at that row, as it saved it. */
  state: Record<string, unknown>;
}

export async function getImportCheckpoint(db: Db, jobId: number): Promise<ImportCheckpoint | null> {
  const r = (await db('import_checkpoints').where({ job_id: jobId }).first('last_row', 'state')) as
    | { last_row: number; state: string }
    | undefined;
  if (!r) return null;
  let state: Record<string, unknown> = {};
  try {
    state = JSON.parse(r.state) as Record<string, unknown>;
  } catch {
    // A state that cannot be read still gives the position: resume there with zero totals.
  }
  return { lastRow: Number(r.last_row), state };
}

/** Records the position; call it inside the batch's transaction. */
export async function saveImportCheckpoint(trx: Db, jobId: number, cp: ImportCheckpoint, now = Date.now()): Promise<void> {
  const row = { last_row: cp.lastRow, state: JSON.stringify(cp.state), updated_at: now };
  const n = await trx('import_checkpoints').where({ job_id: jobId }).update(row);
  if (n === 0) await trx('import_checkpoints').insert({ job_id: jobId, ...row });
}

/** The import is complete: nothing left to resume. */
export async function deleteImportCheckpoint(db: Db, jobId: number): Promise<void> {
  await db('import_checkpoints').where({ job_id: jobId }).del();
}

/**
 * Whether `attempt` is still the job's running attempt; call it last in the batch's
 * transaction. An attempt whose worker was taken for lost (its lease ran out on a busy
 * machine) may still be writing when a new attempt resumes from the checkpoint: its
 * batches must then roll back, or the rows after the checkpoint would be imported twice.
 * The shared lock orders this check and the claim of a new attempt: a claim waits for a
 * batch that passed it to commit, and the new attempt reads that batch's checkpoint.
 */
export async function attemptIsCurrent(trx: Db, jobId: number, attempt: number): Promise<boolean> {
  const r = (await forShare(trx, trx('jobs').where({ id: jobId }).select('attempt', 'status')).first()) as
    | { attempt: number; status: string }
    | undefined;
  return r !== undefined && r.status === 'running' && Number(r.attempt) === attempt;
}
