/** New jobs: a queued row and its `queued` event, alone or in bulk. */
import type { Db } from '../db.js';
import { firstInsertedId, insertIdsConsecutive } from '../dialect.js';
import { insertEventsRaw } from './job-events.js';
import { marks, rawTransaction, type RawQuery, type Row } from './raw.js';
import type { JobOrigin } from '../types.js';
import type { Subscription } from '../notify/events.js';
import { insertSubscriptions, knexQuery, queueNotifications } from './job-subscriptions.js';

export interface InsertJob {
  task: string;
  params: Record<string, unknown>;
  priority: number;
  userId: number | null;
  username: string | null;
  origin: JobOrigin;
  uniqueKey: string | null;
  maxAttempts: number;
  objectRef: string | null;
  now: number;
  /** Mail and webhooks the job asked for; none by default. */
  subscriptions?: Subscription[];
}

/** The `jobs` row of a new, queued job. */
export function jobRow(j: InsertJob): Row {
  return {
    task: j.task,
    params: JSON.stringify(j.params),
    status: 'queued',
    priority: j.priority,
    user_id: j.userId,
    username: j.username,
    origin: j.origin,
    unique_key: j.uniqueKey,
    attempt: 0,
    max_attempts: j.maxAttempts,
    queued_at: j.now,
    object_ref: j.objectRef,
  };
}

/** Inserts a queued job and its `queued` event in one transaction; returns the id. */
export async function insertJob(db: Db, j: InsertJob, actor: string): Promise<number> {
  // Plain SQL (raw.ts): every single enqueue pays for this before its job is published.
  const row = jobRow(j);
  const cols = Object.keys(row);
  return rawTransaction(db, async (q) => {
    const { insertId } = await q(`insert into jobs (${cols.join(', ')}) values (${marks(cols.length)})`, Object.values(row));
    await insertEventsRaw(q, [[insertId, j.now, 'queued', 0, actor, null]]);
    await subscribe(q, insertId, j);
    return insertId;
  });
}

/**
 * Inserts many queued jobs and their `queued` events in one transaction (bulk enqueue):
 * one multi-row INSERT per table and per slice, one commit. Returns the ids in order.
 *
 * The ids of a multi-row INSERT are read back as first id + i where the engine hands
 * out consecutive ids (see `insertIdsConsecutive` in dialect.ts); elsewhere each row is
 * inserted alone, still inside the one transaction.
 */
export async function insertJobs(db: Db, jobs: InsertJob[], actor: string): Promise<number[]> {
  if (jobs.length === 0) return [];
  const consecutive = await insertIdsConsecutive(db);
  return db.transaction(async (trx) => {
    const ids: number[] = [];
    // Keeps each statement well under max_allowed_packet and SQLite's variable limit.
    const slice = consecutive ? 500 : 1;
    for (let i = 0; i < jobs.length; i += slice) {
      const part = jobs.slice(i, i + slice);
      const rows = part.map(jobRow);
      const [first] = await trx('jobs').insert(rows);
      const base = firstInsertedId(db, Number(first), part.length);
      const partIds = part.map((_, k) => base + k);
      await trx('job_events').insert(
        part.map((j, k) => ({ job_id: partIds[k], at: j.now, type: 'queued', attempt: 0, actor, message: null })),
      );
      for (let k = 0; k < part.length; k++) await subscribe(knexQuery(trx), partIds[k], part[k]);
      ids.push(...partIds);
    }
    return ids;
  });
}

/** A new job's subscriptions, and the `queued` notifications they ask for at once. */
async function subscribe(q: RawQuery, id: number, j: InsertJob): Promise<void> {
  if (!j.subscriptions?.length) return;
  await insertSubscriptions(q, id, j.subscriptions);
  await queueNotifications(q, [id], 'queued', j.now);
}
