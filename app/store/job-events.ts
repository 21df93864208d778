/** A job's history: one `job_events` row per event, appended, never changed. */
import type { Db } from '../db.js';
import type { Row, RawQuery } from './raw.js';
import type { JobEvent, JobEventType } from '../types.js';

export async function addEvent(
  db: Db,
  e: { jobId: number; type: JobEventType; attempt: number; actor: string; message?: string | null; at: number },
): Promise<void> {
  await db('job_events').insert({
    job_id: e.jobId,
    at: e.at,
    type: e.type,
    attempt: e.attempt,
    actor: e.actor,
    message: e.message ?? null,
  });
}

function rowToEvent(r: Row): JobEvent {
  return {
    id: Number(r.id),
    jobId: Number(r.job_id),
    at: Number(r.at),
    type: r.type as JobEventType,
    attempt: Number(r.attempt),
    actor: String(r.actor),
    message: (r.message as string | null) ?? null,
  };
}

export async function listEvents(db: Db, jobId: number): Promise<JobEvent[]> {
  const rows = (await db('job_events').where({ job_id: jobId }).orderBy('id', 'asc')) as Row[];
  return rows.map(rowToEvent);
}

/**
 * One multi-row INSERT of events, [job_id, at, type, attempt, actor, message] each, inside
 * a plain-SQL transaction (raw.ts). For the store's own use; not part of `jobs.ts`.
 */
export async function insertEventsRaw(q: RawQuery, events: Array<[number, number, JobEventType, number, string, string | null]>): Promise<void> {
  const values = events.map(() => '(?, ?, ?, ?, ?, ?)').join(', ');
  await q(`insert into job_events (job_id, at, type, attempt, actor, message) values ${values}`, events.flat());
}

/*
 * A job's history a page at a time. A job retried or reporting progress for days can
 * gather thousands of events; the details page and the API read them by keyset on the
 * (job_id, id) index, never all at once.
 */
export interface EventPage {
  events: JobEvent[];
  /** The cursor for the next page (the last event's id), or null when this was the last. */
  next: number | null;
}

/** Events of a job after the event id `after` (0: from the first), oldest first. */
export async function eventsPage(db: Db, jobId: number, after: number, limit: number): Promise<EventPage> {
  const rows = (await db('job_events')
    .where({ job_id: jobId })
    .where('id', '>', after)
    .orderBy('id', 'asc')
    .limit(limit + 1)) as Row[];
  const events = rows.slice(0, limit).map(rowToEvent);
  return { events, next: rows.length > limit ? events[events.length - 1].id : null };
}
