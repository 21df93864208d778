/**
 * Retention: finished jobs past DOCKET_RETENTION_DAYS (failed ones past
 * DOCKET_RETENTION_FAILED_DAYS) go with their output, events and files, and audit
 * entries past DOCKET_AUDIT_DAYS. The maintenance sweep of every process ticks it; one
 * process at a time runs a round (a shared due time, taken with a conditional update), so
 * that many processes do not delete the same rows side by side.
 *
 * A round deletes 500 jobs per transaction with a short pause between them: each
 * transaction holds its locks for a few milliseconds, and pages read between them
 * (benchmark scenario 10 measures the jobs page while a million old jobs go).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { recordAudit } from './audit.js';
import type { JobService } from './job-service.js';
import { pruneAudit } from './store/audit.js';
import { getOrCreateSetting, replaceSetting } from './store/settings.js';

/** How often a round starts (a round runs until nothing is left to remove). */
export const RETENTION_EVERY_MS = 10 * 60 * 1000;
/** Jobs per transaction: small enough that one batch holds its locks a few milliseconds. */
export const RETENTION_BATCH = 500;
/** The least rest between batches (they also rest as long as the last one took). */
const PAUSE_MS = 10;
const DAY_MS = 24 * 3600 * 1000;
const DUE = 'retention_due';

export interface RetentionRound {
  jobs: number;
  audit: number;
}

export class Retention {
  private round: Promise<RetentionRound> | null = null;
  private stopped = false;

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
      });
  }

  /** Takes the next round if it is due: moves the shared due time on, or leaves it to another process. */
  private async claim(): Promise<boolean> {
    const db = this.service.db;
    const now = this.service.now();
    const due = await getOrCreateSetting(db, DUE, () => '0');
    if (Number(due) > now) return false;
    return replaceSetting(db, DUE, due, String(now + this.every));
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
      // Rest as long as the batch took: a backlog takes at most half the database's time.
      await sleep(Math.max(PAUSE_MS, Date.now() - t0));
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
