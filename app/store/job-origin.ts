/** Where a job came from, for a task that trusts the command line more than the web. */
import type { Db } from '../db.js';
import type { JobOrigin } from '../types.js';

/** The origin of job `id` (web, api or cli), or null when there is no such job. */
export async function jobOrigin(db: Db, id: number): Promise<JobOrigin | null> {
  const row = (await db('jobs').where({ id }).first('origin')) as { origin: JobOrigin } | undefined;
  return row?.origin ?? null;
}
