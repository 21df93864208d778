/** One job by id. (Unique-key lookups, which ask who may join, are in job-unique.ts.) */
import type { Db } from '../db.js';
import { rowToJob } from './job-rows.js';
import type { Row } from './raw.js';
import type { Job } from '../types.js';

export async function getJob(db: Db, id: number): Promise<Job | null> {
  const r = (await db('jobs').where({ id }).first()) as Row | undefined;
  return r ? rowToJob(r) : null;
}
