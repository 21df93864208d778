/** Handing queued jobs to the broker: what still needs a publish, and what was confirmed. */
import type { Db } from '../db.js';
import type { Row } from './raw.js';

/** A confirmed publish: the job, and its attempt when it was published (null: unknown). */
export interface DispatchMark {
  id: number;
  attempt: number | null;
}

/**
 * Marks jobs as handed to the broker (the dispatcher skips them from then on). Not only
 * queued ones: a fast worker may have claimed the job before this write. But a job that
 * was claimed since this publish (its attempt went up) and is queued again (a retry
 * with backoff) has no message in the broker: marking it would leave it waiting forever.
 */
export async function markDispatched(db: Db, marks: DispatchMark[], now: number): Promise<void> {
  if (marks.length === 0) return;
  const byAttempt = new Map<number | null, number[]>();
  for (const m of marks) {
    const ids = byAttempt.get(m.attempt) ?? [];
    ids.push(m.id);
    byAttempt.set(m.attempt, ids);
  }
  await db('jobs')
    .whereNull('dispatched_at')
    .where((q) => {
      for (const [attempt, ids] of byAttempt) {
        q.orWhere((one) => {
          one.whereIn('id', ids);
          if (attempt !== null) one.where((a) => a.where('attempt', attempt).orWhereNot('status', 'queued'));
        });
      }
    })
    .update({ dispatched_at: now });
}

/**
 * Queued jobs no broker has confirmed yet, whose time has come. `undispatched` is 1 for
 * a queued job with no `dispatched_at` (and for a held chain step, which `run_after`
 * leaves out here) and null otherwise (a virtual column, migration 20261208000000),
 * indexed with the id: the round reads the jobs it may publish, not every queued one.
 */
export async function undispatched(
  db: Db,
  now: number,
  olderThan: number,
  limit: number,
): Promise<Array<{ id: number; task: string; priority: number; attempt: number }>> {
  const rows = (await db('jobs')
    .select('id', 'task', 'priority', 'attempt')
    .where({ undispatched: 1 })
    .where('queued_at', '<=', olderThan)
    .where((q) => q.whereNull('run_after').orWhere('run_after', '<=', now))
    .orderBy('id', 'asc')
    .limit(limit)) as Row[];
  return rows.map((r) => ({ id: Number(r.id), task: String(r.task), priority: Number(r.priority), attempt: Number(r.attempt) }));
}
