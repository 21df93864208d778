/**
 * Unfinished jobs by unique key (Gearman's unique-key coalescing), for the join of a
 * duplicate request and for a record's page asking which jobs are at work on it. Uses the
 * `jobs_unique_key (unique_key)` index: an equality, or a prefix `LIKE`.
 */
import type { Db } from '../db.js';
import type { Job } from '../types.js';
import { rowToJob } from './jobs.js';

type Row = Record<string, unknown>;
const ACTIVE = ['queued', 'running'];

/** The oldest unfinished job with this key and this owner (`null`: the command line). */
export async function findJoinable(db: Db, key: string, userId: number | null): Promise<Job | null> {
  const q = db('jobs').where({ unique_key: key }).whereIn('status', ACTIVE);
  if (userId === null) q.whereNull('user_id');
  else q.where({ user_id: userId });
  const r = (await q.orderBy('id', 'asc').first()) as Row | undefined;
  return r ? rowToJob(r) : null;
}

/**
 * Unfinished jobs whose key starts with `prefix` or equals one of `keys`, oldest first, at
 * most `limit`. The prefix holds no `%` or `_` of its own (callers build it from ids).
 */
export async function activeByKeyPrefix(db: Db, prefix: string, keys: string[] = [], limit = 50): Promise<Job[]> {
  const rows = (await db('jobs')
    .where((w) => {
      void w.where('unique_key', 'like', `${prefix}%`);
      if (keys.length) void w.orWhereIn('unique_key', keys);
    })
    .whereIn('status', ACTIVE)
    .orderBy('id', 'asc')
    .limit(limit)) as Row[];
  return rows.map(rowToJob);
}
