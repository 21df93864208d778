/**
 * From delivery to a job in a child: takes deliveries from the transport, holds them
 * until a child is free, claims them in batches (one transaction for all that arrived
 * together), acks them right after the claim, and starts the claimed jobs. With short
 * jobs it claims ahead: a job may wait, claimed, for one short job to end.
 *
 * It takes no more deliveries than it can start soon (its credit, the transport's
 * prefetch): one per free child, or twice the children while short jobs run. A worker
 * busy with long jobs takes none, so a job never waits on it while another worker has a
 * free slot. A claim refused for a pause gives its deliveries back and pauses the worker.
 */
import type { JobService } from '../app/job-service.js';
import type { Logger } from '../app/logger.js';
import type { Delivery, Transport } from '../app/transports/transport.js';
import type { Job } from '../app/types.js';
import type { Attempt } from './attempt.js';

/** A task whose recent runs took less than this (ms) may have jobs claimed ahead behind it. */
const SHORT_JOB_MS = 50;

/** What the claimer needs of the worker. */
export interface ClaimerHost {
  readonly id: string;
  readonly abilities: string[];
  readonly concurrency: number;
  readonly log: Logger;
  /** Children with no job (a job whose end is being written no longer holds its child). */
  freeChildren(): number;
  /** The attempts under way, by job id. */
  readonly running: ReadonlyMap<number, Attempt>;
  /** Starts a claimed job in a free child. */
  run(job: Job): void;
}

export class Claimer {
  /** Deliveries waiting for a free child, and since when. */
  private held: Array<{ d: Delivery; at: number }> = [];
  /**
   * Jobs claimed ahead of a free child (claim-ahead): only as many as children running
   * short jobs, so that a claimed job waits for at most one short job to end.
   */
  private waiting: Job[] = [];
  /**
   * Deliveries in the claim transactions under way. Batches form behind a claim, except
   * for deliveries a free child could start at once: they get a claim of their own.
   */
  private claiming = 0;
  private claims = new Set<Promise<void>>();
  /** Recent run time per task, ms (moving average): which jobs count as short. */
  private durations = new Map<string, number>();
  private pumpQueued = false;
  private holdTimer: NodeJS.Timeout | null = null;
  private consuming = false;
  private paused = false;
  /** Counts pauses and resumes, so that a heartbeat's older reading of the switch is not applied. */
  private switches = 0;
  /** The prefetch last given to the transport. */
  private credit = -1;
  /** The last prefetch change, settled once it holds. */
  private creditChange: Promise<void> = Promise.resolve();
  private stopping = false;

  constructor(
    private readonly host: ClaimerHost,
    private readonly service: JobService,
    private readonly transport: Transport,
    private readonly holdMs: number,
  ) {}

  async start(paused: boolean): Promise<void> {
    this.paused = paused;
    if (!paused) await this.startConsuming();
    this.holdTimer = setInterval(() => this.releaseStale(), 1000);
  }

  /** The pause switch as this worker last saw it. */
  get isPaused(): boolean {
    return this.paused;
  }

  /** Changes with every pause and resume (see Heartbeat). */
  get switchCount(): number {
    return this.switches;
  }

  /** Pause: no new job starts; claimed ones go back. Resume: deliveries come again. */
  async setPaused(paused: boolean): Promise<void> {
    this.paused = paused;
    this.switches++;
    if (paused) {
      await this.stopConsuming();
      await this.claimsSettled();
      await this.handBack(this.waiting.splice(0), 'was paused');
    } else {
      await this.startConsuming();
    }
  }

  /** No more deliveries; claimed jobs that did not start go back to the queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.stopConsuming().catch(() => undefined);
    await this.claimsSettled();
    await this.handBack(this.waiting.splice(0), 'is stopping');
    if (this.holdTimer) clearInterval(this.holdTimer);
  }

  /** Waits for the claims under way, and for any that started meanwhile. */
  private async claimsSettled(): Promise<void> {
    while (this.claims.size > 0) await Promise.all([...this.claims]);
  }

  /** Jobs claimed and not started yet (their leases are renewed too). */
  claimedAhead(): readonly Job[] {
    return this.waiting;
  }

  /** Takes back a claimed job that has not started; false if it started meanwhile. */
  drop(job: Job): boolean {
    const at = this.waiting.indexOf(job);
    if (at < 0) return false;
    this.waiting.splice(at, 1);
    return true;
  }

  /** A job ended cleanly after `ms`: its task's moving average decides claim-ahead. */
  noteDuration(task: string, ms: number): void {
    const avg = this.durations.get(task);
    this.durations.set(task, avg === undefined ? ms : avg * 0.8 + ms * 0.2);
  }

  private async startConsuming(): Promise<void> {
    if (this.consuming || this.stopping) return;
    this.consuming = true;
    this.credit = this.wantedCredit();
    await this.transport.consume({
      abilities: this.host.abilities,
      prefetch: this.credit,
      onDelivery: (d) => {
        // One that arrives as consuming stops goes straight back.
        if (!this.consuming) return d.release();
        this.held.push({ d, at: Date.now() });
        this.schedulePump();
      },
    });
  }

  private async stopConsuming(): Promise<void> {
    if (!this.consuming) return;
    this.consuming = false;
    for (const h of this.held.splice(0)) h.d.release();
    await this.transport.stopConsuming();
  }

  /** Deliveries waiting too long for a slot go back, so a busy worker hoards nothing. */
  private releaseStale(): void {
    const limit = Date.now() - this.holdMs;
    const keep: typeof this.held = [];
    for (const h of this.held) {
      if (h.at < limit) h.d.release();
      else keep.push(h);
    }
    this.held = keep;
  }

  /**
   * How many jobs may be claimed ahead of a free child: one per child running a short
   * job (a task whose recent runs took under SHORT_JOB_MS). A long job never has a job
   * claimed behind it, so no job shows as running while it waits for a long one.
   */
  private aheadAllowance(): number {
    let n = 0;
    for (const a of this.host.running.values()) {
      if (!a.busy) continue;
      const d = this.durations.get(a.job.task);
      if (d !== undefined && d < SHORT_JOB_MS) n++;
    }
    return n;
  }

  /**
   * How many deliveries this worker should hold: twice the children while a child runs a
   * short job (deliveries gather while a claim is under way and the next claim takes them
   * together, and claim-ahead keeps the children busy: bench scenario 1), otherwise one
   * per free child. Deliveries held beyond what can start soon would wait on this worker
   * while another one may have a free slot (a 1 s job waited 14.5 s behind two 20 s jobs).
   * It stays at twice the children through a stream of short jobs, so the transport is
   * not asked to change it at every job.
   */
  private wantedCredit(): number {
    if (this.paused || this.stopping) return 0;
    if (this.aheadAllowance() > 0) return this.host.concurrency * 2;
    return Math.max(0, this.host.freeChildren() - this.waiting.length);
  }

  /**
   * Tells the transport the credit when it changed. At 0 (every child busy with a long
   * job), what is still held goes back at once, once the transport stopped delivering
   * here, so that it goes to another worker rather than back to this one.
   */
  private updateCredit(): void {
    if (!this.consuming) return;
    const credit = this.wantedCredit();
    if (credit !== this.credit) {
      this.credit = credit;
      this.creditChange = this.transport.setPrefetch(credit).catch((err: Error) => {
        this.host.log.warn(`could not change the prefetch to ${credit}: ${err.message}`);
      });
    }
    if (credit === 0 && this.held.length > 0 && this.claiming === 0) {
      void this.creditChange.then(() => {
        if (this.claiming > 0 || this.wantedCredit() > 0) return;
        for (const h of this.held.splice(0)) h.d.release();
      });
    }
  }

  /** Pumps on the next turn, so that deliveries arriving together are claimed together. */
  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /** Starts claimed jobs in free children, then claims what the room allows. */
  pump(): void {
    if (this.stopping || this.paused) return;
    // Claimed jobs first: a free child starts one with no database round trip.
    while (this.waiting.length > 0 && this.host.freeChildren() > 0) this.host.run(this.waiting.shift()!);
    this.updateCredit();
    if (this.held.length === 0) return;
    const free = this.host.freeChildren() - this.waiting.length - this.claiming;
    const ahead = this.aheadAllowance();
    // While a claim is under way, deliveries gather behind it and are claimed together.
    // Among longer jobs, one a free child could start now gets a claim of its own rather
    // than wait (bench scenario 11 saw a short job wait 63 ms behind a 280 ms claim on a
    // loaded machine, with a child free all along). While short jobs run, the batch pays
    // more (fewer commits: bench scenario 1), and a child frees again within 50 ms.
    const room = this.claiming === 0 ? free + ahead : ahead > 0 ? 0 : free;
    const n = Math.min(room, this.held.length);
    if (n <= 0) return;
    const batch = this.held.splice(0, n).map((h) => h.d);
    this.claiming += n;
    const claim: Promise<void> = this.claimAndRun(batch).finally(() => this.claims.delete(claim));
    this.claims.add(claim);
  }

  /** Claims a batch in one transaction, acks the deliveries right after, runs what is ours. */
  private async claimAndRun(batch: Delivery[]): Promise<void> {
    let jobs: Job[];
    try {
      const claimed = await this.service.claim(
        batch.map((d) => d.jobId),
        this.host.id,
      );
      if (claimed.paused) {
        // Refused: processing was paused after this worker last looked. The deliveries go
        // back unclaimed (the broker requeues them; the db transport leaves them queued),
        // and this worker stops taking deliveries until a heartbeat sees the resume.
        for (const d of batch) d.release();
        this.claiming -= batch.length;
        if (!this.paused && !this.stopping) {
          this.host.log.info('processing paused (seen by a claim): running jobs finish, no new job starts');
          // Not awaited: the pause waits for this very claim to end.
          void this.setPaused(true);
        }
        return;
      }
      jobs = claimed.jobs;
    } catch (err) {
      // The database is unreachable: give the deliveries back rather than lose them.
      // Wait a moment first, or the broker would redeliver them to us at once, in a tight loop.
      this.host.log.warn(`claim of job(s) ${batch.map((d) => d.jobId).join(', ')} failed: ${(err as Error).message}`);
      setTimeout(() => {
        this.claiming -= batch.length;
        for (const d of batch) d.release();
        this.pump();
      }, 1000).unref();
      return;
    }
    // Ack right after the claim: no message stays unacked while the job runs.
    for (const d of batch) d.ack();
    this.claiming -= batch.length;
    // Stopped or paused meanwhile: stop() and the pause wait for this claim, then give
    // back whatever is waiting.
    this.waiting.push(...jobs);
    this.pump();
  }

  /** Claimed jobs that never started go back to the queue without using up an attempt. */
  private async handBack(jobs: Job[], why: string): Promise<void> {
    const { id, log } = this.host;
    for (const job of jobs) {
      const ok = await this.service.handBack(job, id, `handed back: worker ${id} ${why}`).catch(() => false);
      if (!ok) log.warn(`claimed job ${job.id} could not be handed back; its lease will run out`);
    }
  }
}
