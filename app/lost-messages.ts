/**
 * Finding jobs whose message the broker lost, and publishing them again.
 *
 * A confirmed message can still vanish: an operator purges a queue, or a node holding
 * an unreplicated queue loses its disk. Its job would stay `queued` for ever, because
 * the dispatcher only publishes jobs the broker never confirmed. The broker cannot say
 * which messages it holds, only how many; so per task this compares the broker's ready
 * messages with the jobs the database has waiting, and republishes on two rules:
 *
 * - **Empty queue.** The queue holds no message while jobs confirmed at least
 *   EMPTY_GRACE_MS ago wait: each of those messages is gone (or, at most a worker's
 *   prefetch of them, held by a consumer a moment before its claim). All are published
 *   again once, in batches. This is the purge case, and the bound the README gives.
 * - **Fewer messages.** The queue holds fewer messages than waiting jobs, by more than
 *   the live workers' prefetch could hold unacked (RabbitMQ's count leaves those out):
 *   just that deficit is published again, from the oldest job by id (FIFO: the oldest
 *   would have gone first), among jobs confirmed at least DEFICIT_GRACE_MS ago.
 *
 * A republished job's confirm time moves to now, so the next comparison counts it with
 * its new message: a backlog is never published twice over. Duplicates stay harmless,
 * the claim is conditional. One process at a time does it (a turn in `settings`).
 */
import type { JobService } from './job-service.js';
import { markRedispatched, tasksWaiting, waitingDispatched, waitingDispatchedByTask } from './store/jobs.js';
import { setSetting, takeTurn } from './store/settings.js';
import { listWorkers } from './store/workers.js';

/** How often one process (whichever takes the turn) compares the counts. */
export const LOST_CHECK_MS = 5000;
/** A job confirmed this long ago, waiting while its queue is empty, has lost its message. */
export const EMPTY_GRACE_MS = 5000;
/** The deficit rule looks only at jobs confirmed this long ago (counts drift in flow). */
export const DEFICIT_GRACE_MS = 30_000;
/** Publish batches, so a 100,000-job backlog goes out in bounded confirms. */
const BATCH = 5000;
/** A worker's prefetch is twice its concurrency (workers/claimer.ts). */
const PREFETCH_PER_SLOT = 2;
/** The check's count may take at most 1 / DUTY_SPACING of the time between turns. */
export const DUTY_SPACING = 40;
/** The setting holding when the last check began (its turn). */
export const TURN = 'lost_check_at';

export interface LostReport {
  /** Jobs published again, per task. */
  republished: Map<string, number>;
}

/** Whether this process's turn has come; then the check itself. */
export async function checkLostMessagesIfDue(service: JobService): Promise<LostReport | null> {
  if (!(await takeTurn(service.db, TURN, service.now(), LOST_CHECK_MS))) return null;
  return checkLostMessages(service);
}

/** One comparison of broker and database, republishing what is missing. */
export async function checkLostMessages(service: JobService): Promise<LostReport> {
  const t = service.transport;
  const republished = new Map<string, number>();
  if (!t || t.state() !== 'up' || (await service.isPaused())) return { republished };
  // The database is read after the broker, about jobs confirmed before the broker was
  // read: each such message was then in the queue, delivered, or lost; a job claimed
  // meanwhile is no longer queued. So the database never counts a message the broker
  // could not have seen.
  const before = service.now();
  // Which queues to ask about: the tasks with jobs waiting (one index entry per task), not
  // the count itself, which reads every waiting job (167 ms for 200,000 of them).
  const tasks = await tasksWaiting(service.db);
  if (tasks.length === 0) return { republished };
  const depths = await t.queueDepths(tasks);
  if (!depths) return { republished };
  const counting = Date.now();
  const waitingNow = await waitingDispatchedByTask(service.db, before);
  await spaceTurns(service, Date.now() - counting);
  const workers = await listWorkers(service.db, before, service.config.heartbeatMs);
  for (const [task, depth] of depths) {
    const waiting = waitingNow.get(task) ?? 0;
    if (waiting === 0) continue;
    let limit: number;
    let confirmedBy: number;
    if (depth.ready === 0) {
      limit = Number.POSITIVE_INFINITY;
      confirmedBy = before - EMPTY_GRACE_MS;
    } else {
      const inFlight = workers
        .filter((w) => w.state === 'active' && w.abilities.includes(task))
        .reduce((n, w) => n + w.concurrency * PREFETCH_PER_SLOT, 0);
      limit = waiting - depth.ready - inFlight;
      confirmedBy = before - DEFICIT_GRACE_MS;
    }
    if (limit <= 0) continue;
    const n = await republish(service, task, confirmedBy, limit);
    if (n > 0) republished.set(task, n);
  }
  for (const [task, n] of republished) {
    service.log.warn(`published ${n} job(s) of ${task} again: the broker no longer held their messages`);
  }
  return { republished };
}

/**
 * Keeps the check's share of the database's time small behind a large backlog: after a
 * count that took `ms`, the next turn comes no sooner than DUTY_SPACING × `ms` from now
 * (a million jobs waiting: some 0.85 s per count, a turn every 34 s rather than every 5 s).
 */
export async function spaceTurns(service: JobService, ms: number): Promise<void> {
  const extra = ms * DUTY_SPACING - LOST_CHECK_MS;
  if (extra > 0) await setSetting(service.db, TURN, String(service.now() + extra));
}

async function republish(service: JobService, task: string, confirmedBy: number, limit: number): Promise<number> {
  let done = 0;
  let afterId = 0;
  while (done < limit) {
    const items = await waitingDispatched(service.db, task, confirmedBy, afterId, Math.min(BATCH, limit - done));
    if (items.length === 0) break;
    afterId = items[items.length - 1].id;
    const confirmed = await service.transport!.publish(items);
    await markRedispatched(service.db, confirmed, service.now());
    done += confirmed.length;
    // A batch the broker did not confirm: stop here, the next turn tries again.
    if (confirmed.length < items.length) break;
    // A long republish keeps its turn, or another process would start the same work.
    await setSetting(service.db, TURN, String(service.now()));
  }
  return done;
}
