/**
 * Queued jobs whose message the broker may have lost: the jobs the broker confirmed
 * (dispatched) that still wait, counted per task and picked oldest first. The recovery
 * in app/lost-messages.ts compares these with the broker's own counts.
 */
import type { Db } from '../db.js';
import type { Row } from './raw.js';

/**
 * The tasks that have queued jobs, from `jobs_waiting`'s first column (`waiting_task`, the
 * task of a queued job): an index read of one entry per task where the database can skip
 * (MariaDB), of the index alone otherwise, never of the rows.
 */
export async function tasksWaiting(db: Db): Promise<string[]> {
  const rows = (await db('jobs').distinct('waiting_task as task').whereNotNull('waiting_task')) as Row[];
  return rows.map((r) => String(r.task));
}

/** Per task, the queued jobs whose publish the broker confirmed at or before `before`. */
export async function waitingDispatchedByTask(db: Db, before: number): Promise<Map<string, number>> {
  const rows = (await db('jobs')
    .select('task')
    .count({ n: '*' })
    .where({ status: 'queued' })
    .whereNotNull('dispatched_at')
    .where('dispatched_at', '<=', before)
    .groupBy('task')) as Row[];
  return new Map(rows.map((r) => [String(r.task), Number(r.n)]));
}

/** The oldest (by id) queued jobs of a task confirmed at or before `before`, to publish again. */
export async function waitingDispatched(
  db: Db,
  task: string,
  before: number,
  afterId: number,
  limit: number,
): Promise<Array<{ id: number; task: string; priority: number; attempt: number }>> {
  const rows = (await db('jobs')
    .select('id', 'task', 'priority', 'attempt')
    .where({ status: 'queued', task })
    .whereNotNull('dispatched_at')
    .where('dispatched_at', '<=', before)
    .where('id', '>', afterId)
    .orderBy('id', 'asc')
    .limit(limit)) as Row[];
  return rows.map((r) => ({ id: Number(r.id), task: String(r.task), priority: Number(r.priority), attempt: Number(r.attempt) }));
}

/**
 * Jobs published again: their confirm time moves to now, so that the next comparison
 * counts them against the new messages and does not publish them a third time.
 */
export async function markRedispatched(db: Db, ids: number[], now: number): Promise<void> {
  if (ids.length === 0) return;
  for (let i = 0; i < ids.length; i += 1000) {
    await db('jobs').whereIn('id', ids.slice(i, i + 1000)).where({ status: 'queued' }).whereNotNull('dispatched_at').update({ dispatched_at: now });
  }
}
