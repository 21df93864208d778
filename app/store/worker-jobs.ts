/**
 * The workers page's tallies: per worker the jobs it finished (completed, failed) and
 * the ones it runs now; per task the queued jobs and the oldest of them. Served by the
 * (worker_id, status) and (status, task, ...) indexes.
 */
import type { Db } from '../db.js';
import type { Row } from './raw.js';

export interface WorkerTally {
  completed: number;
  failed: number;
  /** Its running jobs, oldest first. */
  current: Array<{ id: number; task: string }>;
}

/** Running jobs listed per worker at most (a worker runs a handful at once). */
const CURRENT_CAP = 100;

export async function workerTallies(db: Db, workerIds: string[]): Promise<Map<string, WorkerTally>> {
  const out = new Map<string, WorkerTally>(workerIds.map((id) => [id, { completed: 0, failed: 0, current: [] }]));
  if (workerIds.length === 0) return out;
  const [counts, running] = await Promise.all([
    db('jobs')
      .select('worker_id', 'status')
      .count({ n: '*' })
      .whereIn('worker_id', workerIds)
      .whereIn('status', ['completed', 'failed'])
      .groupBy('worker_id', 'status') as Promise<Row[]>,
    db('jobs')
      .select('id', 'task', 'worker_id')
      .whereIn('worker_id', workerIds)
      .where('status', 'running')
      .orderBy('id')
      .limit(CURRENT_CAP * workerIds.length) as Promise<Row[]>,
  ]);
  for (const r of counts) {
    const t = out.get(String(r.worker_id));
    if (t) t[r.status === 'completed' ? 'completed' : 'failed'] = Number(r.n);
  }
  for (const r of running) {
    const t = out.get(String(r.worker_id));
    if (t && t.current.length < CURRENT_CAP) t.current.push({ id: Number(r.id), task: String(r.task) });
  }
  return out;
}

export interface TaskWaiting {
  task: string;
  queued: number;
  /** The oldest queued job (ids follow queue order) and when it was queued. */
  oldestId: number;
  oldestAt: number;
}

export async function waitingByTask(db: Db): Promise<TaskWaiting[]> {
  const rows = (await db('jobs')
    .select('task')
    .count({ queued: '*' })
    .min({ oldestId: 'id' })
    .min({ oldestAt: 'queued_at' })
    .where('status', 'queued')
    .groupBy('task')) as Row[];
  return rows.map((r) => ({ task: String(r.task), queued: Number(r.queued), oldestId: Number(r.oldestId), oldestAt: Number(r.oldestAt) }));
}
