/** Back to queued for another attempt: after a failure or a lost worker, or by hand. */
import { writeTransaction, type Db } from '../db.js';
import { knexQuery, queueNotifications } from './job-subscriptions.js';
import type { Row } from './raw.js';
import type { JobEventType } from '../types.js';

/**
 * running → queued again (retry after a failure, a lost worker, or a worker handing its
 * job back on shutdown). `runAfter` delays the next attempt (backoff).
 */
export async function requeueRunning(
  db: Db,
  id: number,
  attempt: number,
  opts: { runAfter: number | null; error: string | null; extraAttempt?: boolean },
  now: number,
  type: JobEventType,
  actor: string,
  message: string,
): Promise<boolean> {
  return db.transaction(async (trx) => {
    const patch: Row = {
      status: 'queued',
      worker_id: null,
      lease_expires_at: null,
      dispatched_at: null,
      run_after: opts.runAfter,
      error: opts.error,
    };
    if (opts.extraAttempt) patch.max_attempts = db.raw('max_attempts + 1');
    const n = await trx('jobs').where({ id, attempt, status: 'running' }).update(patch);
    if (n !== 1) return false;
    await trx('job_events').insert({ job_id: id, at: now, type, attempt, actor, message });
    // A hand-back (`requeued`) is not a change the job's owner asked to hear about.
    if (type === 'retried') await queueNotifications(knexQuery(trx), [id], 'retried', now);
    return true;
  });
}

/** A final job back to queued for a new attempt (manual retry); history is kept. */
export async function requeueFinal(db: Db, id: number, now: number, actor: string): Promise<boolean> {
  return writeTransaction(db, async (trx) => {
    const job = (await trx('jobs').where({ id }).first()) as Row | undefined;
    // A failure on the job's own input is never run again (Job.failureKind).
    if (!job || !['failed', 'cancelled'].includes(String(job.status)) || job.failure_kind) return false;
    const attempt = Number(job.attempt);
    const n = await trx('jobs')
      .where({ id })
      .whereIn('status', ['failed', 'cancelled'])
      .whereNull('failure_kind')
      .update({
        status: 'queued',
        worker_id: null,
        lease_expires_at: null,
        dispatched_at: null,
        run_after: null,
        finished_at: null,
        error: null,
        cancel_requested_by: null,
        // A failed attempt's result (a failed import's rows not imported) is not the new
        // attempt's: it makes its own. The caller removes the file.
        result_summary: null,
        result_file: null,
        result_name: null,
        // A manual retry always gets at least one more attempt.
        max_attempts: db.raw('case when max_attempts > attempt then max_attempts else attempt + 1 end'),
      });
    if (n !== 1) return false;
    await trx('job_events').insert({
      job_id: id,
      at: now,
      type: 'retried',
      attempt,
      actor,
      message: `retried by ${actor}`,
    });
    await queueNotifications(knexQuery(trx), [id], 'retried', now);
    return true;
  });
}
