/** Cancelling: a queued job at once, a running one by request, the whole queue in one go. */
import { writeTransaction, type Db } from '../db.js';
import { addEvent } from './job-events.js';
import { knexQuery, queueNotifications } from './job-subscriptions.js';
import type { Row } from './raw.js';

/** queued → cancelled at once: a queued job never starts. */
export async function cancelQueued(db: Db, id: number, now: number, actor: string): Promise<boolean> {
  return db.transaction(async (trx) => {
    const n = await trx('jobs').where({ id, status: 'queued' }).update({
      status: 'cancelled',
      finished_at: now,
      cancel_requested_by: actor,
      error: null,
    });
    if (n !== 1) return false;
    const r = (await trx('jobs').select('attempt').where({ id }).first()) as Row;
    await trx('job_events').insert({
      job_id: id,
      at: now,
      type: 'cancelled',
      attempt: Number(r.attempt),
      actor,
      message: `cancelled by ${actor} before it started`,
    });
    await queueNotifications(knexQuery(trx), [id], 'cancelled', now);
    return true;
  });
}

/** A running job is asked to stop; its worker sees this at its next heartbeat. */
export async function requestCancel(db: Db, id: number, now: number, actor: string): Promise<boolean> {
  const n = await db('jobs').where({ id, status: 'running' }).whereNull('cancel_requested_by').update({
    cancel_requested_by: actor,
  });
  if (n !== 1) return false;
  const r = (await db('jobs').select('attempt').where({ id }).first()) as Row;
  await addEvent(db, {
    jobId: id,
    type: 'cancel-requested',
    attempt: Number(r.attempt),
    actor,
    message: `cancel requested by ${actor}`,
    at: now,
  });
  return true;
}

/** The oldest queued ids: clearing the queue cancels them a page at a time. */
export async function queuedIds(db: Db, limit: number): Promise<number[]> {
  return (await db('jobs').where({ status: 'queued' }).orderBy('id', 'asc').limit(limit).pluck('id')).map(Number);
}

/** Cancels many queued jobs at once; returns how many were still queued. */
export async function cancelQueuedMany(db: Db, ids: number[], now: number, actor: string): Promise<number> {
  return writeTransaction(db, async (trx) => {
    const still = (await trx('jobs').whereIn('id', ids).where({ status: 'queued' }).select('id', 'attempt')) as Row[];
    if (still.length === 0) return 0;
    const n = await trx('jobs')
      .whereIn('id', still.map((r) => Number(r.id)))
      .where({ status: 'queued' })
      .update({ status: 'cancelled', finished_at: now, cancel_requested_by: actor });
    await trx('job_events').insert(
      still.map((r) => ({
        job_id: Number(r.id),
        at: now,
        type: 'cancelled',
        attempt: Number(r.attempt),
        actor,
        message: `cancelled by ${actor} (queue cleared)`,
      })),
    );
    await queueNotifications(knexQuery(trx), still.map((r) => Number(r.id)), 'cancelled', now);
    return n;
  });
}
