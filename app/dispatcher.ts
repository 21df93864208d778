/**
 * Dispatch: publishing queued jobs to the transport with publisher confirms, and marking
 * the confirmed ones. A job the broker never confirmed stays undispatched and is
 * published again by the dispatcher's round (`pending`, run by every process's sweep).
 */
import type { Db } from './db.js';
import type { Logger } from './logger.js';
import * as store from './store/jobs.js';
import { withTimeout } from './timeout.js';
import type { Transport } from './transports/transport.js';

/** Jobs not confirmed by the broker within this long are published again by the dispatcher. */
const DISPATCH_GRACE_MS = 3000;
/** Publishing one message must not hold a web request longer than this. */
const PUBLISH_TIMEOUT_MS = 2000;

export class Dispatcher {
  /** Jobs this process's dispatcher published again since it started (GET /metrics). */
  republished = 0;

  constructor(
    private readonly db: Db,
    private readonly transport: Transport | null,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /**
   * Publishes and records the confirmed ones; never throws (the dispatcher retries).
   * `attempt` is the job's attempt as it is published: see `store.markDispatched`.
   */
  async dispatch(items: Array<{ id: number; task: string; priority: number; attempt?: number }>): Promise<number[]> {
    if (!this.transport) return [];
    if (!this.transport.confirmsDispatch) {
      this.transport.nudge();
      return items.map((i) => i.id);
    }
    const confirmed = await withTimeout(this.transport.publish(items), PUBLISH_TIMEOUT_MS, []);
    if (confirmed.length > 0) {
      const attempts = new Map(items.map((i) => [i.id, i.attempt ?? null]));
      this.markLater(confirmed.map((id) => ({ id, attempt: attempts.get(id) ?? null })));
    }
    return confirmed;
  }

  private marks: store.DispatchMark[] = [];
  private markTimer: NodeJS.Timeout | null = null;

  /**
   * Confirmed ids are marked dispatched in one UPDATE every 20 ms rather than one per job:
   * the mark only keeps the dispatcher from publishing a job again, so it is off the
   * request's path. A mark lost with a crash means one duplicate delivery, which the
   * claim drops.
   */
  private markLater(marks: store.DispatchMark[]): void {
    this.marks.push(...marks);
    this.markTimer ??= setTimeout(() => void this.flushMarks(), 20);
  }

  async flushMarks(): Promise<void> {
    if (this.markTimer) clearTimeout(this.markTimer);
    this.markTimer = null;
    const marks = this.marks.splice(0);
    for (let i = 0; i < marks.length; i += 1000) {
      try {
        await store.markDispatched(this.db, marks.slice(i, i + 1000), this.now());
      } catch (err) {
        this.log.warn(`could not mark jobs dispatched: ${String(err)}`);
      }
    }
  }

  /** The dispatcher's round: publish queued jobs the broker never confirmed. */
  async pending(limit = 500): Promise<number> {
    if (!this.transport?.confirmsDispatch || this.transport.state() !== 'up') return 0;
    const now = this.now();
    const items = await store.undispatched(this.db, now, now - DISPATCH_GRACE_MS, limit);
    if (items.length === 0) return 0;
    const done = await this.dispatch(items);
    this.republished += done.length;
    if (done.length) this.log.info(`dispatched ${done.length} waiting job(s)`);
    return done.length;
  }
}
