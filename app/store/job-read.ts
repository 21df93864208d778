/** One job by id, or the unfinished one holding a unique key. */
import type { Db } from '../db.js';
import { rowToJob } from './job-rows.js';
import type { Row } from './raw.js';
import type { Job } from '../types.js';

export async function getJob(db: Db, id: number): Promise<Job | null> {
  const r = (await db('jobs').where({ id }).first()) as Row | undefined;
  return r ? rowToJob(r) : null;
}

/** An unfinished job with this unique key, if any (Gearman's unique-key coalescing). */
export async function findActiveByUniqueKey(db: Db, key: string): Promise<Job | null> {
  const r = (await db('jobs')
    .where({ unique_key: key })
    .whereIn('status', ['queued', 'running'])
    .orderBy('id', 'asc')
    .first()) as Row | undefined;
  return r ? rowToJob(r) : null;
}
