/**
 * The operators' figures (GET /metrics), each from a cheap query: the unfinished jobs
 * through the (status, task, ...) index, and what happened since the last scrape from
 * the job_events primary key, never a count over the whole history.
 */
import type { Db } from '../db.js';
import { isSqlite } from '../dialect.js';
import type { Row } from './raw.js';

/** Queued and running jobs per task and status (the jobs_claim index). */
export async function activeCounts(db: Db): Promise<Array<{ task: string; status: string; n: number }>> {
  const rows = (await db('jobs').select('task', 'status').count({ n: '*' }).whereIn('status', ['queued', 'running']).groupBy('task', 'status')) as Row[];
  return rows.map((r) => ({ task: String(r.task), status: String(r.status), n: Number(r.n) }));
}

/**
 * The oldest queued job of each of these tasks that may start now: one waiting out a
 * retry's backoff or a held chain step is not late. Seeks in the `jobs_waiting
 * (waiting_task, run_after, queued_at)` index rather than a read of every queued row
 * (their `run_after` and `queued_at` are not in `jobs_claim`): per task the smallest
 * `queued_at` of its jobs with no `run_after` (nearly all), and the short range of its
 * backoffs over, one statement for all tasks. `waiting_task` is the task of a queued job,
 * null otherwise (a virtual column, migration 20261207000000): a completion, which moves
 * no job out of `queued`, does not touch that index.
 * `tasks` are those with queued jobs (`activeCounts`, read in the same scrape).
 */
export async function oldestQueued(db: Db, now: number, tasks: string[]): Promise<Array<{ task: string; queuedAt: number }>> {
  if (tasks.length === 0) return [];
  const seek =
    'select ? as task, (select min(queued_at) from jobs where waiting_task = ? and run_after is null) as q' +
    ' union all select ? as task, (select min(queued_at) from jobs where waiting_task = ? and run_after <= ?) as q';
  // A raw statement answers rows on SQLite and [rows, fields] on MySQL.
  const rows = (await db
    .raw(tasks.map(() => seek).join(' union all '), tasks.flatMap((t) => [t, t, t, t, now]))
    .then((r: unknown) => (isSqlite(db) ? r : (r as [Row[]])[0]) as Row[])) as Row[];
  const oldest = new Map<string, number>();
  for (const r of rows) {
    if (r.q === null || r.q === undefined) continue;
    const task = String(r.task);
    const q = Number(r.q);
    if (!oldest.has(task) || q < (oldest.get(task) as number)) oldest.set(task, q);
  }
  return [...oldest].map(([task, queuedAt]) => ({ task, queuedAt }));
}

export async function lastEventId(db: Db): Promise<number> {
  const r = (await db('job_events').max({ m: 'id' }).first()) as Row | undefined;
  return Number(r?.m ?? 0);
}

export interface MetricEvent {
  id: number;
  type: string;
  at: number;
  attempt: number;
  message: string | null;
  /** Null when the job was cleared since. */
  task: string | null;
  queuedAt: number | null;
  startedAt: number | null;
  outputBytes: number;
}

/** Events after `afterId` that the figures count, oldest first, at most `limit`. */
export async function eventsSince(db: Db, afterId: number, limit: number): Promise<MetricEvent[]> {
  const rows = (await db('job_events as e')
    .leftJoin('jobs as j', 'j.id', 'e.job_id')
    .select('e.id', 'e.type', 'e.at', 'e.attempt', 'e.message', 'j.task', 'j.queued_at', 'j.started_at', 'j.output_bytes')
    .where('e.id', '>', afterId)
    .whereIn('e.type', ['started', 'completed', 'failed', 'cancelled', 'retried'])
    .orderBy('e.id', 'asc')
    .limit(limit)) as Row[];
  return rows.map((r) => ({
    id: Number(r.id),
    type: String(r.type),
    at: Number(r.at),
    attempt: Number(r.attempt),
    message: (r.message as string | null) ?? null,
    task: (r.task as string | null) ?? null,
    queuedAt: r.queued_at === null ? null : Number(r.queued_at),
    startedAt: r.started_at === null ? null : Number(r.started_at),
    outputBytes: Number(r.output_bytes ?? 0),
  }));
}

/**
 * Notifications (webhooks, mail) by kind and state. The outbox holds a row per
 * notification of a job still kept, so it stays as small as the jobs with subscribers.
 */
export async function notificationCounts(db: Db): Promise<Array<{ kind: string; state: string; n: number }>> {
  const rows = (await db('outbox').select('kind', 'state').count({ n: '*' }).groupBy('kind', 'state')) as Row[];
  return rows.map((r) => ({ kind: String(r.kind), state: String(r.state), n: Number(r.n) }));
}
