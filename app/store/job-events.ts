/**
 * A job's history a page at a time. A job retried or reporting progress for days can
 * gather thousands of events; the details page and the API read them by keyset on the
 * (job_id, id) index, never all at once.
 */
import type { Db } from '../db.js';
import type { JobEvent, JobEventType } from '../types.js';

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
    .limit(limit + 1)) as Array<Record<string, unknown>>;
  const events = rows.slice(0, limit).map((r) => ({
    id: Number(r.id),
    jobId: Number(r.job_id),
    at: Number(r.at),
    type: r.type as JobEventType,
    attempt: Number(r.attempt),
    actor: String(r.actor),
    message: (r.message as string | null) ?? null,
  }));
  return { events, next: rows.length > limit ? events[events.length - 1].id : null };
}
