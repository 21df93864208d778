/**
 * One attempt of a job in one of the worker's children: its output, progress, time limits
 * and cancel, and at its end the verdict (decideOutcome) reported to the JobService.
 */
import { join } from 'node:path';
import type { JobService } from '../app/job-service.js';
import type { Logger } from '../app/logger.js';
import type { Job, ProgressStep } from '../app/types.js';
import { decideOutcome, endedCleanly, slotFate, type Reply, type Verdict } from './outcome.js';
import { OutputCapture } from './output.js';
import type { ChildPool, ChildStream, Slot, Tenant } from './pool.js';
import type { ChildMessage } from './protocol.js';
import { sentinel } from './protocol.js';
import { retryWrite } from './retry-write.js';
import { getTask } from '../app/tasks/index.js';
import type { TaskResult } from './tasks/types.js';

/** What every attempt of one worker shares. */
export interface AttemptContext {
  service: JobService;
  workerId: string;
  log: Logger;
  pool: ChildPool;
  /** Records a completion (in a batch with others); false when the attempt was stale. */
  complete(job: Job, result: TaskResult): Promise<boolean>;
  /** After SIGTERM, how long a cancelled job's child has before SIGKILL. */
  cancelGraceMs: number;
  limits: { maxJobs: number; maxMemoryMb: number };
}

/** Progress is written at most this often per job (ms). */
const PROGRESS_MS = 500;

export class Attempt implements Tenant {
  readonly slot: Slot;
  readonly capture: OutputCapture;
  readonly mark: Buffer;
  reply: Reply | null = null;
  exit: { code: number | null; signal: string | null } | null = null;
  cancelBy: string | null = null;
  timeLimit: string | null = null;
  /** Taken from this worker (recovered elsewhere, or handed back): nothing more is written. */
  taken = false;
  /** When the child was handed the job (performance.now()). */
  readonly began = performance.now();
  /** The child is done with the job (replied with all output in, or exited). */
  readonly done: Promise<void>;
  /** The job's end is recorded (or given up on). */
  recorded: Promise<void> = Promise.resolve();
  private outputIn = false;
  private timers: NodeJS.Timeout[] = [];
  private progress: { current: number | null; total: number | null; text: string | null; steps?: ProgressStep[] } | null = null;
  private progressTimer: NodeJS.Timeout | null = null;
  private settle!: () => void;

  constructor(
    readonly job: Job,
    private readonly ctx: AttemptContext,
    outputCapBytes: number,
    jobLogDir: string,
  ) {
    this.done = new Promise<void>((resolve) => (this.settle = resolve));
    this.capture = new OutputCapture(
      // Retried through a short database outage rather than failing the job.
      { write: (chunks, truncated) => this.retry(() => ctx.service.appendOutputParts(job, chunks, { truncated })) },
      outputCapBytes,
      join(jobLogDir, `${job.id}.log`),
    );
    this.mark = Buffer.from(sentinel(job.id, job.attempt));
    this.slot = ctx.pool.take(this);
  }

  get jobId(): number {
    return this.job.id;
  }

  /** The child is still at the job: no reply and no exit yet. */
  get busy(): boolean {
    return !this.reply && !this.exit;
  }

  /** Sets the time limits and hands the job to the child once it is ready. */
  start(resultsDir: string): void {
    const { job, slot } = this;
    if (job.attempt > 1) this.capture.push('system', `[attempt ${job.attempt} of ${job.maxAttempts} on ${this.ctx.workerId}]\n`);
    this.capture.startTimer();
    const limits = getTask(job.task)?.timeLimitMs;
    const soft = limits?.soft;
    const hard = limits?.hard;
    if (soft) {
      this.timers.push(
        setTimeout(() => {
          this.timeLimit ??= `soft time limit of ${soft / 1000} s reached`;
          slot.send({ type: 'abort', jobId: job.id, reason: this.timeLimit });
        }, soft),
      );
    }
    if (hard) {
      this.timers.push(
        setTimeout(() => {
          this.timeLimit = `hard time limit of ${hard / 1000} s reached; the job was killed`;
          slot.kill('SIGKILL');
        }, hard),
      );
    }
    void slot.ready.then(() =>
      slot.send({ type: 'run', job: { id: job.id, attempt: job.attempt, task: job.task, params: job.params }, resultsDir }),
    );
  }

  // ---- what the child says (called by the pool) ------------------------------------

  output(stream: ChildStream, bytes: Buffer): void {
    this.capture.push(stream, bytes);
  }

  outputEnded(): void {
    this.outputIn = true;
    if (this.reply) this.settle();
  }

  message(m: Exclude<ChildMessage, { type: 'ready' }>): void {
    if (m.type === 'progress') {
      // Steps stay with the progress until the next step list: a plain report between two
      // step reports must not drop them from the throttled write.
      this.progress = { current: m.current, total: m.total, text: m.text, steps: m.steps ?? this.progress?.steps };
      this.progressTimer ??= setTimeout(() => {
        this.progressTimer = null;
        void this.writeProgress();
      }, PROGRESS_MS);
      return;
    }
    this.reply = m;
    if (this.outputIn) this.settle();
  }

  exited(code: number | null, signal: string | null): void {
    this.exit = { code, signal };
    this.settle();
  }

  // ---- what is done to it ----------------------------------------------------------

  /** SIGTERM, then SIGKILL after the grace period. */
  cancel(by: string): void {
    this.cancelBy = by;
    this.ctx.log.info(`cancelling job ${this.job.id} (asked by ${by})`, { job: this.job.id });
    this.capture.push('system', `\n[cancelled by ${by}]\n`);
    if (this.slot.exited) return;
    this.slot.kill('SIGTERM');
    this.timers.push(setTimeout(() => this.slot.kill('SIGKILL'), this.ctx.cancelGraceMs));
  }

  /** The job was recovered elsewhere (our lease ran out): stop the zombie. */
  takenElsewhere(): void {
    if (!this.busy || this.taken) return;
    this.taken = true;
    this.ctx.log.warn(`job ${this.job.id} attempt ${this.job.attempt} was taken from this worker; stopping it`);
    this.slot.kill('SIGKILL');
  }

  /** A stopping worker gives the job back to the queue (no attempt used) and kills its child. */
  async handBack(): Promise<void> {
    const { service, workerId, log } = this.ctx;
    this.taken = true;
    const ok = await service.handBack(this.job, workerId, `handed back: worker ${workerId} is stopping`).catch(() => false);
    log.info(`job ${this.job.id} ${ok ? 'handed back to the queue' : 'could not be handed back'}`);
    this.slot.kill('SIGKILL');
  }

  // ---- the end ---------------------------------------------------------------------

  /**
   * Records the attempt's end once the child is done with it. A child that finished its
   * job cleanly is free at once (`freed` is called): the next job may start in it while
   * this one's end is written, batched with others. After a cancel, a time limit or a
   * take-over the child stays this job's until its fate is decided: handed to another
   * job meanwhile, it would get this job's SIGKILL in its place.
   * Returns the verdict's kind, or null when the database stayed away.
   */
  async end(freed: (tookMs: number) => void): Promise<Verdict['kind'] | null> {
    for (const t of this.timers) clearTimeout(t);
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.progressTimer = null;
    // The last progress report must not be lost to the throttle; it is written beside
    // the rest of the output, not before it.
    const progressed = this.writeProgress();
    const clean = endedCleanly(this);
    if (clean) {
      this.releaseSlot();
      freed(performance.now() - this.began);
    }
    await Promise.all([progressed, this.capture.finish()]);
    const verdict = decideOutcome({
      taken: this.taken,
      outputError: this.capture.error?.message ?? null,
      outputTransient: this.capture.errorIsTransient,
      cancelBy: this.cancelBy,
      timeLimit: this.timeLimit,
      reply: this.reply,
      exit: this.exit,
      retryBackoffMs: getTask(this.job.task)?.retryOnError?.backoffMs ?? null,
    });
    let kind: Verdict['kind'] | null = null;
    let outcome = 'stale';
    try {
      outcome = await this.record(verdict);
      kind = verdict.kind;
    } catch (err) {
      // The database stayed away: the lease runs out and another process recovers the job.
      this.ctx.log.error(`could not record the end of job ${this.job.id}: ${(err as Error).message}`, { job: this.job.id });
    }
    // Per job: built only when someone reads debug lines (winston formats before filtering).
    if (this.ctx.log.isDebugEnabled()) this.ctx.log.debug(`job ${this.job.id} attempt ${this.job.attempt}: ${outcome}`, { job: this.job.id });
    if (!clean) this.releaseSlot();
    return kind;
  }

  /** Writes the verdict; returns what became of the job (retried, failed, stale, ...). */
  private async record(v: Verdict): Promise<string> {
    const { service, workerId } = this.ctx;
    const job = this.job;
    switch (v.kind) {
      case 'taken':
        return 'taken';
      case 'cancelled':
        return (await this.retry(() => service.finishCancelled(job, v.by))) ? 'cancelled' : 'stale';
      case 'completed':
        return (await this.ctx.complete(job, v.result)) ? 'completed' : 'stale';
      case 'failed':
        return this.retry(() =>
          service.fail(job, workerId, {
            message: v.message,
            unrecoverable: v.unrecoverable,
            permanent: v.permanent,
            transient: v.transient,
            retryBackoffMs: v.retryBackoffMs,
            result: v.result,
          }),
        );
    }
  }

  private releaseSlot(): void {
    this.ctx.pool.release(this.slot, slotFate(this, this.slot.jobs, this.ctx.limits), this.reply?.rss ?? 0);
  }

  private async writeProgress(): Promise<void> {
    const p = this.progress;
    if (!p) return;
    this.progress = null;
    await this.ctx.service.progress(this.job, p.current, p.total, p.text, p.steps).catch(() => undefined);
  }

  private retry<T>(fn: () => Promise<T>): Promise<T> {
    return retryWrite(fn, this.ctx.service.config.leaseMs / 2);
  }
}
