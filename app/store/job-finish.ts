/**
 * The end of an attempt (running → completed, failed or cancelled), fenced by the attempt
 * number: a zombie's finish changes nothing.
 */
import type { Knex } from 'knex';
import type { Db } from '../db.js';
import { insertAudit } from './audit.js';
import { insertEventsRaw } from './job-events.js';
import { knexQuery, queueNotifications, queueNotificationsOfSubscribed, SUBSCRIBED_COLUMN } from './job-subscriptions.js';
import { marks, rawTransaction, type Row } from './raw.js';
import { setSetting } from './settings.js';

export interface Completion {
  id: number;
  attempt: number;
  resultSummary: string | null;
  resultFile: string | null;
  resultName: string | null;
  objectRef: string | null;
}

/**
 * Completes several running attempts in one transaction (one commit), each with the
 * same fencing as `finishJob`. Returns the ids that were completed; a stale one is left out.
 */
export async function completeJobs(db: Db, items: Completion[], now: number, actor: string): Promise<Set<number>> {
  if (items.length === 0) return new Set();
  // Most completions carry no result (noop-like jobs never do): one UPDATE for all of
  // them. If any turns out stale, the whole transaction is rolled back and redone row by
  // row below, which tells exactly which ones were refused.
  if (items.every((c) => !c.resultSummary && !c.resultFile && !c.resultName && !c.objectRef)) {
    const ids = items.map((c) => c.id);
    const all = await rawTransaction(db, async (q) => {
      // `id IN (...)` keeps the statement on the primary key (MariaDB does not
      // range-optimise a row-constructor IN); the CASE fences each row to its attempt.
      const { affected } = await q(
        `update jobs set status = 'completed', finished_at = ?, lease_expires_at = null, error = null,
           result_summary = null, result_file = null, result_name = null,
           progress_current = coalesce(progress_total, progress_current)
         where id in (${marks(ids.length)}) and status = 'running'
           and attempt = case id ${items.map(() => 'when ? then ?').join(' ')} end`,
        [now, ...ids, ...items.flatMap((c) => [c.id, c.attempt])],
      );
      if (affected !== items.length) throw new StaleInBatch();
      await insertEventsRaw(q, items.map((c) => [c.id, now, 'completed', c.attempt, actor, null]));
      const { rows } = await q(`select jobs.id, ${SUBSCRIBED_COLUMN} from jobs where id in (${marks(ids.length)})`, ids);
      await queueNotificationsOfSubscribed(q, rows, 'completed', now);
      return new Set(ids);
    }).catch((err: unknown) => {
      if (err instanceof StaleInBatch) return null;
      throw err;
    });
    if (all) return all;
  }
  return db.transaction(async (trx) => {
    const done = new Set<number>();
    for (const c of items) {
      const patch: Row = {
        status: 'completed',
        finished_at: now,
        lease_expires_at: null,
        error: null,
        result_summary: c.resultSummary,
        result_file: c.resultFile,
        result_name: c.resultName,
        progress_current: db.raw('coalesce(progress_total, progress_current)'),
      };
      if (c.objectRef) patch.object_ref = c.objectRef;
      const n = await trx('jobs').where({ id: c.id, attempt: c.attempt, status: 'running' }).update(patch);
      if (n === 1) done.add(c.id);
    }
    const events = items
      .filter((c) => done.has(c.id))
      .map((c) => ({ job_id: c.id, at: now, type: 'completed', attempt: c.attempt, actor, message: c.resultSummary }));
    if (events.length) await trx('job_events').insert(events);
    await queueNotifications(knexQuery(trx), [...done], 'completed', now);
    return done;
  });
}

/** A batch held a stale completion: redo it row by row. */
class StaleInBatch extends Error {}

export interface Finish {
  status: 'completed' | 'failed' | 'cancelled';
  error?: string | null;
  /** `input` for a failure on the job's own input (never retried; see Job.failureKind). */
  failureKind?: 'input' | null;
  resultSummary?: string | null;
  resultFile?: string | null;
  resultName?: string | null;
  objectRef?: string | null;
}

/**
 * running → final, only for the attempt that is running: a zombie's finish (an older
 * attempt, or a job already recovered) changes nothing and returns false.
 *
 * `pauseOnFailure` (a failure of a job of that task): when the switch of that name is on
 * and processing is not paused yet, the same transaction pauses it and records the
 * audit entry (actor `system`), so that no claim can slip in between the failure and the
 * pause, and a process that dies after the failure cannot leave it unpaused. Returns
 * `'paused'` then.
 */
export async function finishJob(
  db: Db,
  id: number,
  attempt: number,
  f: Finish,
  now: number,
  actor: string,
  message: string | null,
  pauseOnFailure: { task: string } | null = null,
): Promise<boolean | 'paused'> {
  return db.transaction(async (trx) => {
    const patch: Row = {
      status: f.status,
      finished_at: now,
      lease_expires_at: null,
      error: f.error ?? null,
      failure_kind: f.status === 'failed' ? (f.failureKind ?? null) : null,
    };
    if (f.resultSummary !== undefined) patch.result_summary = f.resultSummary;
    if (f.resultFile !== undefined) patch.result_file = f.resultFile;
    if (f.resultName !== undefined) patch.result_name = f.resultName;
    if (f.objectRef !== undefined && f.objectRef !== null) patch.object_ref = f.objectRef;
    if (f.status === 'completed') {
      // A completed job's progress is complete, whatever the task last reported.
      patch.progress_current = db.raw('coalesce(progress_total, progress_current)');
    }
    const n = await trx('jobs').where({ id, attempt, status: 'running' }).update(patch);
    if (n !== 1) return false;
    await trx('job_events').insert({ job_id: id, at: now, type: f.status, attempt, actor, message });
    await queueNotifications(knexQuery(trx), [id], f.status, now);
    if (pauseOnFailure && f.status === 'failed' && (await pauseAfterFailure(trx, id, pauseOnFailure.task, f.error ?? null, now))) return 'paused';
    return true;
  });
}

/** The actor of what Docket does by itself in the audit trail. */
export const SYSTEM_ACTOR = 'system';

/** Pauses processing after job `id` failed, if the switch says so and it is not paused yet. */
async function pauseAfterFailure(trx: Knex.Transaction, id: number, task: string, error: string | null, now: number): Promise<boolean> {
  const value = async (name: string) => ((await trx('settings').where({ name }).first('value')) as { value: string } | undefined)?.value;
  if ((await value('pause_on_failure')) !== '1' || (await value('paused')) === '1') return false;
  await setSetting(trx, 'paused', '1');
  await setSetting(trx, 'paused_reason', `paused automatically: job ${id} failed`);
  await insertAudit(trx, {
    at: now,
    actor: SYSTEM_ACTOR,
    address: null,
    action: 'queue.auto-pause',
    target: `task ${task}`,
    detail: `job ${id} failed${error ? `: ${error}` : ''}`,
  });
  return true;
}
