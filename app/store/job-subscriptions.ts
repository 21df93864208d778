/**
 * What a job asked to be told about (mail to its owner, webhooks), and the one statement
 * every status change runs in its own transaction to queue the notifications it causes
 * (DESIGN principle 10): an INSERT ... SELECT into `outbox` from the job's subscriptions
 * and its owner's profile-wide ones (`user_webhooks`). On the jobs of nobody who asked it
 * inserts nothing, through the (job_id, event) and (user_id) indexes.
 */
import type { Knex } from 'knex';
import type { Db } from '../db.js';
import type { RawQuery } from './raw.js';
import { marks, type Row } from './raw.js';
import type { NotifyEvent, Subscription } from '../notify/events.js';

/** A knex transaction as a RawQuery, for the status changes written with knex. */
export function knexQuery(trx: Knex.Transaction | Db): RawQuery {
  return async (sql, bindings = []) => {
    await trx.raw(sql, bindings as Knex.RawBinding[]);
    return { rows: [], affected: 0, insertId: 0 };
  };
}

/**
 * Queues the notifications `event` causes for these jobs: the job's own subscriptions and
 * its owner's profile-wide ones, in one statement. Call it inside the transaction of the
 * status change, after the change itself, with the ids that did change.
 */
export async function queueNotifications(q: RawQuery, jobIds: number[], event: NotifyEvent, now: number): Promise<void> {
  if (jobIds.length === 0) return;
  await q(
    `insert into outbox (job_id, event, kind, target, state, created_at, due_at, tries)
     select job_id, ?, kind, target, 'pending', ?, ?, 0 from job_subscriptions
     where job_id in (${marks(jobIds.length)}) and event in (?, '*')
     union all
     select j.id, ?, w.kind, w.target, 'pending', ?, ?, 0 from jobs j join user_webhooks w on w.user_id = j.user_id
     where j.id in (${marks(jobIds.length)}) and (w.events like ? or w.events = ',*,')`,
    [event, now, now, ...jobIds, event, event, now, now, ...jobIds, `%,${event},%`],
  );
}

/**
 * A column for a SELECT on `jobs` (as `jobs`): 1 when the job has subscriptions of its
 * own or its owner has profile-wide ones, 0 otherwise. The claim reads it with its jobs,
 * the completion with one short SELECT, and both run `queueNotifications` only for the
 * jobs it names: a job of nobody who asked for anything (nearly every job) costs the
 * status change no INSERT ... SELECT, whose locking reads and outbox AUTO-INC lock were
 * about a fifth of MariaDB's CPU per job in benchmark scenario 1.
 *
 * It is read after the status change, in the same transaction (a consistent read whose
 * snapshot is taken then, on MySQL): a subscription or profile webhook committed before
 * the change is seen, as the INSERT ... SELECT saw it; one committed later came after
 * the event, which the INSERT ... SELECT could not see either once it had run.
 */
export const SUBSCRIBED_COLUMN =
  '(exists (select 1 from job_subscriptions s where s.job_id = jobs.id)' +
  ' or exists (select 1 from user_webhooks w where w.user_id = jobs.user_id)) as subscribed';

/** `queueNotifications` for the jobs among these rows whose `subscribed` (above) is set. */
export async function queueNotificationsOfSubscribed(q: RawQuery, rows: Row[], event: NotifyEvent, now: number): Promise<void> {
  const ids = rows.filter((r) => Number(r.subscribed) === 1).map((r) => Number(r.id));
  await queueNotifications(q, ids, event, now);
}

/** Inserts a new job's subscriptions (inside its insert's transaction). */
export async function insertSubscriptions(q: RawQuery, jobId: number, subs: readonly Subscription[]): Promise<void> {
  if (subs.length === 0) return;
  await q(
    `insert into job_subscriptions (job_id, event, kind, target) values ${subs.map(() => '(?, ?, ?, ?)').join(', ')}`,
    subs.flatMap((s) => [jobId, s.event, s.kind, s.target]),
  );
}

export async function listSubscriptions(db: Db, jobId: number): Promise<Subscription[]> {
  const rows = (await db('job_subscriptions').where({ job_id: jobId }).orderBy('id', 'asc')) as Array<Record<string, unknown>>;
  return rows.map((r) => ({ event: String(r.event), kind: r.kind as Subscription['kind'], target: (r.target as string | null) ?? null }));
}

/** Whether the job mails its owner when it ends (the bell). */
export async function ownerMailOn(db: Db, jobId: number): Promise<boolean> {
  return (await db('job_subscriptions').where({ job_id: jobId, kind: 'mail' }).whereNull('target').first()) !== undefined;
}

/** Turns the bell on or off for a job: its owner's end-of-job mail subscriptions. */
export async function setOwnerMail(db: Db, jobId: number, on: boolean, subs: readonly Subscription[]): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('job_subscriptions').where({ job_id: jobId, kind: 'mail' }).whereNull('target').delete();
    if (on) await insertSubscriptions(knexQuery(trx), jobId, subs);
  });
}

/** Adds subscriptions to an existing job (a request that joined it asked for them). */
export async function addSubscriptions(db: Db, jobId: number, subs: readonly Subscription[]): Promise<void> {
  await insertSubscriptions(knexQuery(db), jobId, subs);
}
