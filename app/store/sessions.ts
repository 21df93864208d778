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
