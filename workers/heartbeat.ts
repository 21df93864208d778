/**
 * The worker's heartbeat, every `heartbeatMs`: renews the leases of its jobs and its own
 * presence row, then reads which jobs the database still gives it. A job missing there
 * was recovered elsewhere (our lease ran out): its child is a zombie and is killed. A job
 * with a cancel request is cancelled. A change of the pause switch stops or resumes
 * deliveries. (A pause is also seen at once by the claim it refuses: claimer.ts. A resume
 * is seen here, within a heartbeat.)
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

export class Heartbeat {
  private timer: NodeJS.Timeout | null = null;
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
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.stopped = true;
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
