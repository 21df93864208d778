import { advancePendingChains } from './groups/chains.js';
import type { JobService } from './job-service.js';
import { reapExpired, recoverWorkers } from './recovery.js';
import { Retention } from './retention.js';
import { Notifier } from './notify/notifier.js';
import { checkLostMessagesIfDue } from './lost-messages.js';
import { pruneFailures } from './store/login-failures.js';
import { pruneExpiredSessions } from './store/sessions.js';
import { lastHeartbeats, workersWithRunningJobs } from './store/workers.js';

/** How often any process sweeps for expired leases and undispatched jobs. */
const SWEEP_MS = 1000;
/** How often (amqp) it looks for workers whose broker connection died. */
const PRESENCE_MS = 250;
/** How often expired sessions and ended failed-login windows are deleted. */
const PRUNE_MS = 10 * 60 * 1000;
/** After the broker comes back, give other workers this long to reconnect before judging them gone. */
const RECONNECT_GRACE_MS = 8000;

/**
 * The sweep every Docket process runs (web and workers alike), so that recovery needs
 * no special process: reap expired leases, publish jobs the broker never confirmed or
 * whose messages it lost (app/lost-messages.ts), (amqp) recover jobs of workers whose
 * broker connection died, and start retention rounds (retention.ts). All of it is conditional
 * SQL, safe to run in many processes at once.
 */
export class Maintenance {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** When the broker came back after an outage (null: no outage seen, no grace needed). */
  private backSince: number | null = null;
  private sawDown = false;
  /** When the database answered again after failing (null: no outage seen). */
  private dbBackSince: number | null = null;
  private dbFailed = false;
  private stopped = false;
  private lastSweep = 0;
  private lastPrune = Date.now();
  /** Old jobs and audit entries; runs its rounds beside the sweep, never inside it. */
  readonly retention: Retention;
  /** Sends the outbox's notifications; started by the sweep, never awaited by it. */
  readonly notifier: Notifier;

  constructor(
    private readonly service: JobService,
    private readonly selfWorkerId: string | null = null,
  ) {
    this.retention = new Retention(service);
    this.notifier = new Notifier(service.db, service.config, service.log, service.actorName);
  }

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    // Jitter keeps many processes from sweeping in lockstep.
    const every = this.service.transport?.kind === 'amqp' ? PRESENCE_MS : SWEEP_MS;
    this.timer = setTimeout(() => void this.sweep(), every * (0.75 + Math.random() / 2));
    this.timer.unref();
  }

  async sweep(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const s = this.service;
    try {
      // After a database outage every lease may have run out while heartbeats failed:
      // give live workers two heartbeats to renew them before judging anyone lost.
      if (this.dbFailed) {
        this.dbFailed = false;
        this.dbBackSince = Date.now();
      }
      const full = Date.now() - this.lastSweep >= SWEEP_MS * 0.75;
      if (full) this.lastSweep = Date.now();
      if (full && this.dbSettled()) this.reapAt((await reapExpired(s, SWEEP_MS * 1.25)).next);
      if (full) this.notifier.kick();
      // A chain whose step ended in a process that died before releasing the next one.
      if (full) await advancePendingChains(s);
      // Expired sessions and failed-login counts go on a timer, not only at a login: the
      // tables would otherwise grow for as long as nobody logs in.
      if (Date.now() - this.lastPrune >= PRUNE_MS) {
        this.lastPrune = Date.now();
        await pruneExpiredSessions(s.db, Date.now());
        await pruneFailures(s.db, Date.now());
        // Files a crashed process left half-written, and uploads whose job was never made.
        const swept = await s.files.sweepAbandoned();
        if (swept) s.log.info(`removed ${swept} abandoned file(s) from the file store`);
      }
      // A round may take minutes (a backlog of old jobs): the sweep only starts it.
      if (full) this.retention.tick();
      const t = s.transport;
      if (t && t.state() === 'up') {
        if (this.sawDown) {
          this.backSince = Date.now();
          this.sawDown = false;
        }
        if (full) await s.dispatcher.pending();
        const settled = this.backSince === null || Date.now() - this.backSince > RECONNECT_GRACE_MS;
        // Messages the broker lost (a purge, a node's disk): compared at most every few
        // seconds by one process; not right after an outage, while consumers return.
        if (t.kind === 'amqp' && settled && full) await checkLostMessagesIfDue(s);
        if (t.kind === 'amqp' && settled) {
          const holders = (await workersWithRunningJobs(s.db)).filter((w) => w !== this.selfWorkerId);
          const gone = await this.confirmGone(await t.goneWorkers(holders));
          if (gone.length) {
            const n = await recoverWorkers(s, gone);
            if (n) s.log.warn(`recovered ${n} job(s) of disconnected worker(s) ${gone.join(', ')}`);
          }
        }
      } else {
        this.sawDown = true;
      }
    } catch (err) {
      this.dbFailed = true;
      s.log.warn(`maintenance sweep failed: ${(err as Error).message}`);
    } finally {
      this.running = false;
      this.schedule();
    }
  }

  /** Since when each worker's presence queue has been seen missing (several nodes only). */
  private missingSince = new Map<string, number>();

  /**
   * With several broker nodes, a worker whose node died loses its presence queue while
   * it reconnects to another node: it is judged gone only when its heartbeat to the
   * database has stopped too (three heartbeats: 9 s by default, within the lease), or when its queue stayed missing for the reconnect grace.
   * With one node, a missing queue is enough (the checker's own connection would have
   * died with the node, and the grace after an outage covers it).
   */
  private async confirmGone(missing: string[]): Promise<string[]> {
    const s = this.service;
    if (missing.length === 0 || !(s.config.amqpUrl ?? '').includes(',')) {
      this.missingSince.clear();
      return missing;
    }
    const now = Date.now();
    for (const id of [...this.missingSince.keys()]) if (!missing.includes(id)) this.missingSince.delete(id);
    const beats = await lastHeartbeats(s.db, missing);
    return missing.filter((id) => {
      const since = this.missingSince.get(id) ?? now;
      this.missingSince.set(id, since);
      // Three heartbeats, as `docket workers` calls a worker lost: beats are not regular
      // (one is skipped while the previous is still writing).
      const silent = now - (beats.get(id) ?? 0) > s.config.heartbeatMs * 3;
      return silent || now - since > RECONNECT_GRACE_MS;
    });
  }

  /** False for two heartbeats after a database outage, while live workers renew leases that ran out meanwhile. */
  private dbSettled(): boolean {
    return this.dbBackSince === null || Date.now() - this.dbBackSince > this.service.config.heartbeatMs * 2 + 500;
  }

  /** The timer for a lease that runs out before the next sweep. */
  private reapTimer: NodeJS.Timeout | null = null;
  private reaping = false;

  /**
   * Comes back when a lease runs out (`until`, read by the sweep) rather than up to a
   * sweep later: a dead worker's job is retried within tens of milliseconds of its
   * lease's end, whatever the sweep's jitter. Live workers renew their leases long
   * before, so the timer is set only for a worker that has stopped renewing (or a
   * heartbeat that is late, and then it finds nothing to reap, which costs one read).
   */
  private reapAt(until: number | null): void {
    if (until === null || this.stopped) return;
    if (this.reapTimer) clearTimeout(this.reapTimer);
    // A few milliseconds past the end, spread so that processes do not all write at once.
    const wait = Math.max(0, until - this.service.now()) + 10 + Math.random() * 60;
    this.reapTimer = setTimeout(() => void this.reapDue(), wait);
    this.reapTimer.unref();
  }

  private async reapDue(): Promise<void> {
    this.reapTimer = null;
    if (this.stopped || this.reaping || this.dbFailed || !this.dbSettled()) return;
    this.reaping = true;
    try {
      await reapExpired(this.service);
    } catch (err) {
      // The sweep notices the database failing too, and reaps again once it is back.
      this.service.log.warn(`reaping expired leases failed: ${(err as Error).message}`);
    } finally {
      this.reaping = false;
    }
  }

  stop(): void {
    this.stopped = true;
    void this.retention.stop();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.reapTimer) clearTimeout(this.reapTimer);
    this.reapTimer = null;
  }
}
