/**
 * Failed logins per client (an address, or an address and a username), kept in the
 * database so that every web process counts the same failures. A count lives for one
 * window from its first failure; the next failure after that starts a new one.
 */
import type { Db } from '../db.js';

export interface FailureCount {
  hits: number;
  /** When the count's window ends (ms since the epoch). */
  resetAt: number;
}

/** Counts one failure (a new window if the last one ended); returns the count. */
export async function addFailure(db: Db, client: string, now: number, windowMs: number): Promise<FailureCount> {
  // One statement, atomic on both engines. On MySQL the assignments run in order and
  // `reset_at` in the second still reads the stored value, as on SQLite.
  await db('login_failures')
    .insert({ client, hits: 1, reset_at: now + windowMs })
    .onConflict('client')
    .merge({
      hits: db.raw('case when reset_at <= ? then 1 else hits + 1 end', [now]),
      reset_at: db.raw('case when reset_at <= ? then ? else reset_at end', [now, now + windowMs]),
    });
  return (await failuresOf(db, client, now)) ?? { hits: 1, resetAt: now + windowMs };
}

/** The client's failures in the current window, or null when there are none. */
export async function failuresOf(db: Db, client: string, now: number): Promise<FailureCount | null> {
  const r = (await db('login_failures').where({ client }).where('reset_at', '>', now).first('hits', 'reset_at')) as
    | { hits: number | string; reset_at: number | string }
    | undefined;
  return r ? { hits: Number(r.hits), resetAt: Number(r.reset_at) } : null;
}

/** Takes one failure back (a request counted before it turned out a success). */
export async function takeBackFailure(db: Db, client: string): Promise<void> {
  await db('login_failures').where({ client }).where('hits', '>', 0).decrement('hits', 1);
}

export async function forgetFailures(db: Db, client: string): Promise<void> {
  await db('login_failures').where({ client }).delete();
}

/** Deletes counts whose window ended before `now`. */
export async function pruneFailures(db: Db, now: number): Promise<number> {
  return db('login_failures').where('reset_at', '<=', now).delete();
}
