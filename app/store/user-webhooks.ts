/**
 * A user's profile-wide subscriptions (`user_webhooks`): webhooks or mail addresses every
 * job they own is told about, as if each job carried them. The outbox's statement
 * (job-subscriptions.ts) reads them beside the job's own at every status change.
 */
import type { Db } from '../db.js';
import type { Subscription } from '../notify/events.js';

export interface UserWebhook {
  id: number;
  kind: 'mail' | 'webhook';
  /** The URL template, or the mail address. */
  target: string;
  /** The events it follows (`*`: all). */
  events: string[];
  createdAt: number;
}

/** How many subscriptions one user may keep. */
export const MAX_USER_WEBHOOKS = 10;

const toHook = (r: Record<string, unknown>): UserWebhook => ({
  id: Number(r.id),
  kind: r.kind as UserWebhook['kind'],
  target: String(r.target),
  events: String(r.events).split(',').filter(Boolean),
  createdAt: Number(r.created_at),
});

export async function listUserWebhooks(db: Db, userId: number): Promise<UserWebhook[]> {
  const rows = (await db('user_webhooks').where({ user_id: userId }).orderBy('id', 'asc')) as Array<Record<string, unknown>>;
  return rows.map(toHook);
}

/**
 * Adds one subscription from the checked subscriptions of one `{url, events}` (all with
 * the same kind and target). Returns it; null when the user already has as many as allowed.
 */
export async function addUserWebhook(db: Db, userId: number, subs: readonly Subscription[], now: number): Promise<UserWebhook | null> {
  if (subs.length === 0) throw new Error('a subscription needs at least one event');
  const { kind, target } = subs[0];
  const events = `,${subs.map((s) => s.event).join(',')},`;
  return db.transaction(async (trx) => {
    const [{ n }] = (await trx('user_webhooks').where({ user_id: userId }).count({ n: '*' })) as Array<{ n: number | string }>;
    if (Number(n) >= MAX_USER_WEBHOOKS) return null;
    const [id] = (await trx('user_webhooks').insert({ user_id: userId, kind, target, events, created_at: now })) as number[];
    return { id: Number(id), kind, target: String(target), events: events.split(',').filter(Boolean), createdAt: now };
  });
}

/** Removes one of the user's subscriptions; the removed one, or null when they have no such one. */
export async function removeUserWebhook(db: Db, userId: number, id: number): Promise<UserWebhook | null> {
  const row = (await db('user_webhooks').where({ id, user_id: userId }).first()) as Record<string, unknown> | undefined;
  if (!row) return null;
  const n = await db('user_webhooks').where({ id, user_id: userId }).delete();
  return n === 1 ? toHook(row) : null;
}
