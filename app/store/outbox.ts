/**
 * The outbox's sending side: due notifications are taken under a lease (so two
 * processes' sweeps never send one at once), and each try is recorded on the row and as a
 * `notified` event in the job's history, in one transaction.
 */
import type { Db } from '../db.js';
import { marks, rawTransaction, type Row } from './raw.js';

export interface OutboxItem {
  id: number;
  jobId: number;
  event: string;
  kind: 'mail' | 'webhook';
  target: string | null;
  createdAt: number;
  tries: number;
}

const toItem = (r: Row): OutboxItem => ({
  id: Number(r.id),
  jobId: Number(r.job_id),
  event: String(r.event),
  kind: r.kind as OutboxItem['kind'],
  target: (r.target as string | null) ?? null,
  createdAt: Number(r.created_at),
  tries: Number(r.tries),
});

/**
 * Takes up to `limit` due notifications for `owner` until `now + leaseMs`. A row whose
 * lease ran out (its process died mid-send) is due again: at least once.
 */
export async function claimDue(db: Db, owner: string, now: number, leaseMs: number, limit: number): Promise<OutboxItem[]> {
  const ids = (
    await db('outbox')
      .where({ state: 'pending' })
      .where('due_at', '<=', now)
      .where((q) => q.whereNull('lease_until').orWhere('lease_until', '<', now))
      .orderBy('due_at', 'asc')
      .limit(limit)
      .pluck('id')
  ).map(Number);
  if (ids.length === 0) return [];
  return rawTransaction(db, async (q) => {
    // Conditional: another process that took a row first keeps it.
    await q(
      `update outbox set lease_owner = ?, lease_until = ?
       where id in (${marks(ids.length)}) and state = 'pending' and (lease_until is null or lease_until < ?)`,
      [owner, now + leaseMs, ...ids, now],
    );
    const { rows } = await q(`select * from outbox where id in (${marks(ids.length)}) and lease_owner = ? and lease_until = ?`, [
      ...ids,
      owner,
      now + leaseMs,
    ]);
    return rows.map(toItem);
  });
}

export interface TryResult {
  /** `sent`; `pending` again at `dueAt`; or `failed` for good. */
  state: 'sent' | 'pending' | 'failed';
  dueAt: number;
  status: number | null;
  error: string | null;
  /** The line for the job's history. */
  message: string;
}

/**
 * Records one try: the row's new state and a `notified` event (with the job's current
 * attempt; none if the job is gone). Only the lease holder's record counts.
 */
export async function recordTry(db: Db, item: OutboxItem, owner: string, r: TryResult, now: number, actor: string): Promise<boolean> {
  return rawTransaction(db, async (q) => {
    const { affected } = await q(
      `update outbox set state = ?, tries = tries + 1, due_at = ?, last_status = ?, last_error = ?, lease_owner = null, lease_until = null
       where id = ? and lease_owner = ? and state = 'pending'`,
      [r.state, r.dueAt, r.status, r.error === null ? null : r.error.slice(0, 1000), item.id, owner],
    );
    if (affected !== 1) return false;
    await q(
      `insert into job_events (job_id, at, type, attempt, actor, message) select id, ?, 'notified', attempt, ?, ? from jobs where id = ?`,
      [now, actor, r.message.slice(0, 1000), item.jobId],
    );
    return true;
  });
}

/** A job's notifications, oldest first (the details page, tests). */
export async function outboxOfJob(db: Db, jobId: number): Promise<Array<OutboxItem & { state: string; lastStatus: number | null; lastError: string | null }>> {
  const rows = (await db('outbox').where({ job_id: jobId }).orderBy('id', 'asc')) as Row[];
  return rows.map((r) => ({
    ...toItem(r),
    state: String(r.state),
    lastStatus: r.last_status === null ? null : Number(r.last_status),
    lastError: (r.last_error as string | null) ?? null,
  }));
}
