/**
 * Retention: finished jobs past DOCKET_RETENTION_DAYS (failed ones past
 * DOCKET_RETENTION_FAILED_DAYS) go with their output, events, notifications and files, and
 * audit entries past DOCKET_AUDIT_DAYS. The maintenance sweep of every process ticks it.
 *
 * One process at a time runs a round: the shared due time in `settings` is a lease. The
 * process that moves it on (a conditional update) runs the round, and keeps moving it on
 * while the round lasts, so that a backlog that takes longer than `every` is never
 * removed by two processes side by side; if that process dies, the due time lapses and
 * another one takes over within `every`.
 *
 * A round deletes 1,000 jobs per transaction (found through the (status, finished_at)
 * index, deleted by id from every table that names them), then rests half as long as the
 * batch took: each transaction holds its locks for a fraction of a second, the database
 * serves pages between batches, and a backlog goes at a few thousand jobs a second
 * (benchmark scenario 10 measures the jobs page while a million old jobs go).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { recordAudit } from './audit.js';
import type { JobService } from './job-service.js';
import { pruneAudit } from './store/audit.js';
import { getOrCreateSetting, replaceSetting } from './store/settings.js';

/** How often a round starts (a round runs until nothing is left to remove). */
export const RETENTION_EVERY_MS = 10 * 60 * 1000;
/** Jobs per transaction: a batch holds its row locks about a tenth of a second. */
export const RETENTION_BATCH = 1000;
/** The least rest between batches; they also rest half as long as the last one took. */
const PAUSE_MS = 20;
/** How often a running round moves the shared due time on (its lease). */
const RENEW_MS = 30_000;
const DAY_MS = 24 * 3600 * 1000;
const DUE = 'retention_due';

export interface RetentionRound {
  jobs: number;
  audit: number;
}

export class Retention {
  private round: Promise<RetentionRound> | null = null;
  private stopped = false;
  /** The due time this process last wrote while it holds the round (null: it holds none). */
  private held: string | null = null;
  private heldAt = 0;
  /** Written after the due time (`<ms>:<token>`), so that two processes never write the same value. */
  private readonly token = randomBytes(4).toString('hex');

  constructor(
    private readonly service: JobService,
    private readonly every = RETENTION_EVERY_MS,
  ) {}

  private enabled(): boolean {
    const c = this.service.config;
    return c.retentionDays > 0 || c.retentionFailedDays > 0 || c.auditDays > 0;
  }

  /** Starts a round in the background when one is due and this process wins it; never waits. */
  tick(): void {
    if (this.round || this.stopped || !this.enabled()) return;
    this.round = this.claim()
      .then((won) => (won ? this.run() : { jobs: 0, audit: 0 }))
      .catch((err: unknown) => {
        this.service.log.warn(`retention round failed: ${String(err)}`);
        return { jobs: 0, audit: 0 };
      })
      .finally(() => {
        this.round = null;
        this.held = null;
      });
  }

  /** Takes the next round if it is due: moves the shared due time on, or leaves it to another process. */
  private async claim(): Promise<boolean> {
    const db = this.service.db;
    const now = this.service.now();
    const due = await getOrCreateSetting(db, DUE, () => '0');
    if (parseInt(due, 10) > now) return false;
    const next = `${now + this.every}:${this.token}`;
    if (!(await replaceSetting(db, DUE, due, next))) return false;
    this.held = next;
    this.heldAt = Date.now();
    return true;
  }

  /**
   * Moves the due time on while a round runs (at most every RENEW_MS). False when this
   * process lost it (it stalled past `every` and another process took the round over):
   * the round then stops.
   */
  private async renew(): Promise<boolean> {
    if (this.held === null || Date.now() - this.heldAt < RENEW_MS) return true;
    const next = `${this.service.now() + this.every}:${this.token}`;
    if (!(await replaceSetting(this.service.db, DUE, this.held, next))) return false;
    this.held = next;
    this.heldAt = Date.now();
    return true;
  }

  /** One full round, whoever is due; also what tests and `tick` call. */
  async run(): Promise<RetentionRound> {
    const s = this.service;
    let jobs = 0;
    while (!this.stopped) {
      const t0 = Date.now();
      const cleared = await s.cleanup.removeExpired(RETENTION_BATCH);
      jobs += cleared.cleared;
      // A short batch means nothing older is left; the rest waits for the next round.
      if (cleared.cleared < RETENTION_BATCH) break;
      if (!(await this.renew())) {
        s.log.warn('retention: another process took the round over; this one stops');
        break;
      }
      // Rest half as long as the batch took: a backlog takes at most two thirds of one
      // connection's time, and pages read between batches.
      await sleep(Math.max(PAUSE_MS, (Date.now() - t0) / 2));
    }
    let audit = 0;
    if (s.config.auditDays > 0) {
      const before = s.now() - s.config.auditDays * DAY_MS;
      for (let n = -1; n !== 0 && !this.stopped; ) {
        n = await pruneAudit(s.db, before, 1000);
        audit += n;
      }
    }
    if (jobs > 0) {
      s.log.info(`retention removed ${jobs} finished job(s)`);
      await recordAudit(s.db, s.log, { actor: 'Retention', action: 'jobs.expire', target: `${jobs} job(s)` });
    }
    return { jobs, audit };
  }

  /** Stops after the batch in hand; resolves when the round has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.round;
  }
}
