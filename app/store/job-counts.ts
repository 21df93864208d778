/** Queued jobs per task, for `queue:status` beside the broker's own counts. */
import type { Db } from '../db.js';
import type { Row } from './raw.js';

export interface TaskQueued {
  task: string;
  /** Every queued job of the task (retries waiting for their time included). */
  queued: number;
  /** Of those, the ones the broker confirmed: each should have a message in its queue. */
  dispatched: number;
}

/** Per task with queued jobs, by task name. Served by the (status, task, ...) index. */
export async function queuedByTask(db: Db): Promise<TaskQueued[]> {
  const rows = (await db('jobs')
    .select('task')
    .count({ queued: '*' })
    .count({ dispatched: 'dispatched_at' })
    .where({ status: 'queued' })
    .groupBy('task')
    .orderBy('task')) as Row[];
  return rows.map((r) => ({ task: String(r.task), queued: Number(r.queued), dispatched: Number(r.dispatched) }));
}
