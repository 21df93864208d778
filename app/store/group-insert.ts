/** A new group (envelope): its row, its jobs and their `queued` events in one transaction. */
import { writeTransaction, type Db } from '../db.js';
import { firstInsertedId } from '../dialect.js';
import { HELD } from './group-chain.js';
import { jobRow, type InsertJob } from './job-insert.js';
import type { JobOrigin } from '../types.js';

export interface InsertGroup {
  name: string;
  chain: boolean;
  userId: number | null;
  username: string | null;
  origin: JobOrigin;
  now: number;
}

/**
 * Inserts the group and its jobs in order (group_seq 0, 1, ...). In a chain every step
 * but the first is held (run_after = HELD) from the start, so that a process dying right
 * after this commit leaves a chain whose later steps cannot start early; the sweep or the
 * completion of the step before releases them. Returns the group id and the job ids.
 */
export async function insertGroup(db: Db, g: InsertGroup, jobs: InsertJob[], actor: string): Promise<{ id: number; jobIds: number[] }> {
  return writeTransaction(db, async (trx) => {
    const [gid] = await trx('job_groups').insert({
      name: g.name,
      chain: g.chain,
      user_id: g.userId,
      username: g.username,
      origin: g.origin,
      job_count: jobs.length,
      created_at: g.now,
    });
    const id = Number(gid);
    const jobIds: number[] = [];
    // One row at a time: a group is small (at most 100 jobs), and each insert's id is
    // then exact whatever the engine's auto-increment mode.
    for (const [seq, j] of jobs.entries()) {
      const row = { ...jobRow(j), group_id: id, group_seq: seq, run_after: g.chain && seq > 0 ? HELD : null };
      const [first] = await trx('jobs').insert(row);
      const jobId = firstInsertedId(db, Number(first), 1);
      jobIds.push(jobId);
      const message = g.chain && seq > 0 ? `step ${seq + 1} of group ${id}: waiting for job ${jobIds[seq - 1]}` : `in group ${id}`;
      await trx('job_events').insert({ job_id: jobId, at: g.now, type: 'queued', attempt: 0, actor, message });
    }
    return { id, jobIds };
  });
}
