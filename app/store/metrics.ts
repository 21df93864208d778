/**
 * The operators' figures (GET /metrics), each from a cheap query: the unfinished jobs
 * through the (status, task, ...) index, and what happened since the last scrape from
 * the job_events primary key, never a count over the whole history.
 */
import type { Db } from '../db.js';
import type { Row } from './raw.js';

/** Queued and running jobs per task and status (the jobs_claim index). */
export async function activeCounts(db: Db): Promise<Array<{ task: string; status: string; n: number }>> {
  const rows = (await db('jobs').select('task', 'status').count({ n: '*' }).whereIn('status', ['queued', 'running']).groupBy('task', 'status')) as Row[];
  return rows.map((r) => ({ task: String(r.task), status: String(r.status), n: Number(r.n) }));
}

/**
 * The oldest queued job per task that may start now: one waiting out a retry's backoff
 * or a held chain step is not late.
 */
export async function oldestQueued(db: Db, now: number): Promise<Array<{ task: string; queuedAt: number }>> {
  const rows = (await db('jobs')
    .select('task')
    .min({ q: 'queued_at' })
    .where({ status: 'queued' })
    .where((q) => q.whereNull('run_after').orWhere('run_after', '<=', now))
    .groupBy('task')) as Row[];
  return rows.map((r) => ({ task: String(r.task), queuedAt: Number(r.q) }));
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
