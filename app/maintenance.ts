import { advancePendingChains } from './groups/chains.js';
import type { JobService } from './job-service.js';
import { pruneFailures } from './store/login-failures.js';
import { pruneExpiredSessions } from './store/sessions.js';
import { workersWithRunningJobs } from './store/workers.js';

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
 * no special process: reap expired leases, publish jobs the broker never confirmed, and
 * (amqp) recover jobs of workers whose broker connection died. All of it is conditional
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

  constructor(
    private readonly service: JobService,
    private readonly selfWorkerId: string | null = null,
  ) {}

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
      const dbSettled = this.dbBackSince === null || Date.now() - this.dbBackSince > s.config.heartbeatMs * 2 + 500;
      if (full && dbSettled) await s.reapExpired();
      // A chain whose step ended in a process that died before releasing the next one.
      if (full) await advancePendingChains(s);
      // Expired sessions and failed-login counts go on a timer, not only at a login: the
      // tables would otherwise grow for as long as nobody logs in.
      if (Date.now() - this.lastPrune >= PRUNE_MS) {
        this.lastPrune = Date.now();
        await pruneExpiredSessions(s.db, Date.now());
        await pruneFailures(s.db, Date.now());
      }
      const t = s.transport;
      if (t && t.state() === 'up') {
        if (this.sawDown) {
          this.backSince = Date.now();
          this.sawDown = false;
        }
        if (full) await s.dispatchPending();
        const settled = this.backSince === null || Date.now() - this.backSince > RECONNECT_GRACE_MS;
        if (t.kind === 'amqp' && settled) {
          const holders = (await workersWithRunningJobs(s.db)).filter((w) => w !== this.selfWorkerId);
          const gone = await t.goneWorkers(holders);
          if (gone.length) {
            const n = await s.recoverWorkers(gone);
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

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
