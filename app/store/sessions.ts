/**
 * The web sessions table (created by the sessions migration, read and written by
 * connect-session-knex). Only the pruning lives here; the store does the rest.
 */
import type { Db } from '../db.js';
import { sessionExpiryValue } from '../dialect.js';

/**
 * Deletes sessions that expired before `now`; returns how many. The bound is written
 * as the store writes `expired`, which differs per engine (see dialect.ts).
 */
export async function pruneExpiredSessions(db: Db, now: number, limit = 1000): Promise<number> {
  const bound = sessionExpiryValue(db, now);
  const sids = (await db('sessions').where('expired', '<', bound).limit(limit).pluck('sid')) as string[];
  if (sids.length === 0) return 0;
  return db('sessions').whereIn('sid', sids).delete();
}

/**
 * Deletes a user's sessions but `keepSid`; returns how many. The store keeps each
 * session as JSON text (`{"cookie":{...},"userId":5,...}`, no spaces, from
 * JSON.stringify), so the user's id is found by its exact key and value, ended by a
 * comma or a brace. A full scan, but only on a password change or a disabled account.
 */
export async function endSessionsOf(db: Db, userId: number, keepSid: string | null): Promise<number> {
  if (!Number.isInteger(userId)) throw new Error(`not a user id: ${String(userId)}`);
  const q = db('sessions').where((w) => {
    void w.where('sess', 'like', `%"userId":${userId},%`).orWhere('sess', 'like', `%"userId":${userId}}%`);
  });
  if (keepSid !== null) q.whereNot('sid', keepSid);
  return q.delete();
}
