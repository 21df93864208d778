/**
 * The worker's heartbeat, every `heartbeatMs`: renews the leases of its jobs and its own
 * presence row, then reads which jobs the database still gives it. A job missing there
 * was recovered elsewhere (our lease ran out): its child is a zombie and is killed. A job
 * with a cancel request is cancelled. A change of the pause switch stops or resumes
 * deliveries. (A pause is also seen at once by the claim it refuses: claimer.ts. A resume
 * is seen by a paused worker within RESUME_POLL_MS.)
 */
import type { JobService } from '../app/job-service.js';
import type { Logger } from '../app/logger.js';
import type { Attempt } from './attempt.js';
import type { Claimer } from './claimer.js';

/** What the heartbeat needs of the worker. */
export interface HeartbeatHost {
  readonly id: string;
  readonly log: Logger;
  /** The attempts under way, by job id. */
  readonly running: ReadonlyMap<number, Attempt>;
}

/**
 * While paused, how often the worker reads the switch. Seen at each worker's own
 * heartbeat, a resume reached one worker up to a heartbeat (3 s) before the other, and
 * the first took most of the backlog (85 % of 40 short jobs in bench scenario 11). Read
 * this often, every worker starts within about this of the others, each taking only
 * what its free children can start, so the backlog spreads over them. One small read a
 * tenth of a second, and only while paused.
 */
export const RESUME_POLL_MS = 100;

export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
  private resumeTimer: NodeJS.Timeout | null = null;
  private readingSwitch = false;
  private beating = false;
  private stopped = false;

  constructor(
    private readonly host: HeartbeatHost,
    private readonly service: JobService,
    private readonly claimer: Claimer,
  ) {}

  /** Beats every `heartbeatMs`. */
  start(): void {
    this.timer = setInterval(() => void this.beat(), this.service.config.heartbeatMs);
    this.resumeTimer = setInterval(() => void this.watchResume(), RESUME_POLL_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.resumeTimer) clearInterval(this.resumeTimer);
    this.stopped = true;
  }

  /** A paused worker resumes as soon as the switch says so, not at its next heartbeat. */
  private async watchResume(): Promise<void> {
    if (this.stopped || this.readingSwitch || !this.claimer.isPaused) return;
    this.readingSwitch = true;
    try {
      // As in beat(): a pause or resume applied while the switch is read wins over this reading.
      const switches = this.claimer.switchCount;
      const paused = await this.service.isPaused();
      if (!paused && this.claimer.isPaused && switches === this.claimer.switchCount && !this.stopped) {
        await this.claimer.setPaused(false);
        this.host.log.info('processing resumed');
      }
    } catch {
      // The database is away: the heartbeat says so, and reads the switch again.
    } finally {
      this.readingSwitch = false;
    }
  }

  async beat(): Promise<void> {
    // A slow database must not stack heartbeats on top of each other.
    if (this.stopped || this.beating) return;
    this.beating = true;
    const { id, log, running } = this.host;
    try {
      // Leases first: they are what keeps our jobs from being recovered elsewhere.
      const ids = [...running.keys(), ...this.claimer.claimedAhead().map((j) => j.id)];
      await this.service.presence.heartbeat(id, ids, running.size);
      // Only the jobs we held before reading: one claimed while the read is under way is
      // missing from it, and would be taken for a zombie, killed, and left running.
      const known = [...running.values()];
      const waiting = [...this.claimer.claimedAhead()];
      const held = await this.service.presence.jobsHeldBy(id);
      const byId = new Map(held.map((h) => [h.id, h]));
      for (const job of waiting) {
        const row = byId.get(job.id);
        const gone = !row || row.attempt !== job.attempt;
        if (!gone && !row.cancelRequestedBy) continue;
        // Not started yet: dropped if taken, finished as cancelled if asked to cancel.
        if (!this.claimer.drop(job)) continue; // started meanwhile: the checks below see it next time
        if (!gone) {
          const by = row.cancelRequestedBy!;
          log.info(`cancelling job ${job.id} before it started (asked by ${by})`, { job: job.id });
          await this.service.finishCancelled(job, by).catch(() => false);
        }
      }
      for (const a of known) {
        const row = byId.get(a.job.id);
        if (!row || row.attempt !== a.job.attempt) a.takenElsewhere();
        else if (row.cancelRequestedBy && !a.cancelBy && a.busy) {
          // (An attempt that already ended is past cancelling: its child may be running the next job.)
          a.cancel(row.cancelRequestedBy);
        }
      }
      // A claim may pause the worker while the switch is being read: an older reading
      // must not undo it.
      const switches = this.claimer.switchCount;
      const paused = await this.service.isPaused();
      if (paused !== this.claimer.isPaused && switches === this.claimer.switchCount) {
        await this.claimer.setPaused(paused);
        log.info(paused ? 'processing paused: running jobs finish, no new job starts' : 'processing resumed');
      }
    } catch (err) {
      log.warn(`heartbeat failed: ${(err as Error).message}`);
    } finally {
      this.beating = false;
    }
  }
}
