/**
 * Recovery of running jobs whose worker is gone: an expired lease (any transport), or a
 * worker the broker saw disconnect (amqp). Each job goes through the state machine's
 * `fail` as a lost worker: retried while attempts remain, failed with the reason after.
 * Conditional on the attempt, so many processes may run it at once.
 */
import type { JobService } from './job-service.js';
import * as store from './store/jobs.js';

/**
 * Retries or fails running jobs whose lease ran out. Safe to run in many processes.
 * With `lookAheadMs`, it also reads the leases that run out within that long and returns
 * the first of them (`next`), so that the caller can come back at that moment rather
 * than a whole sweep later; the same query, so it costs nothing more.
 */
export async function reapExpired(s: JobService, lookAheadMs = 0): Promise<{ reaped: number; next: number | null }> {
  const now = s.now();
  const ending = await store.expiredLeases(s.db, now + lookAheadMs, 200);
  let reaped = 0;
  let next: number | null = null;
  for (const job of ending) {
    const until = job.leaseExpiresAt ?? 0;
    if (until >= now) {
      next ??= until;
      continue;
    }
    const outcome = await s.fail(job, s.actorName, {
      message: `worker lost: ${job.workerId ?? 'unknown'} stopped renewing its lease`,
      lost: true,
    });
    if (outcome !== 'stale') {
      reaped++;
      s.log.warn(`recovered job ${job.id} from lost worker ${job.workerId}: ${outcome}`);
    }
  }
  return { reaped, next };
}

/** Recovers the running jobs of workers known to be dead (the broker saw them go). */
export async function recoverWorkers(s: JobService, workerIds: string[]): Promise<number> {
  const jobs = await store.runningOfWorkers(s.db, workerIds);
  let n = 0;
  for (const job of jobs) {
    const outcome = await s.fail(job, s.actorName, {
      message: `worker lost: ${job.workerId ?? 'unknown'} disconnected from the broker`,
      lost: true,
    });
    if (outcome !== 'stale') n++;
  }
  return n;
}
