/**
 * The worker supervisor: takes deliveries from the transport, claims jobs, runs each in
 * a reusable child process, captures its output, renews leases, and reports the end of
 * every attempt to the JobService. It never decides a job's status by itself.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobService } from '../app/job-service.js';
import type { Logger } from '../app/logger.js';
import { Maintenance } from '../app/maintenance.js';
import { RUNNING_FROM_SOURCE } from '../app/paths.js';
import * as jobsStore from '../app/store/jobs.js';
import { getTask, listTasks } from '../app/tasks/index.js';
import { heartbeatWorker, registerWorker, stopWorker } from '../app/store/workers.js';
import type { Delivery, Transport } from '../app/transports/transport.js';
import type { Job } from '../app/types.js';
import { OutputCapture } from './output.js';
import type { ChildMessage, ParentMessage } from './protocol.js';
import { sentinel, sentinelStart } from './protocol.js';
import type { TaskResult } from './tasks/types.js';

export interface WorkerOptions {
  /** Tasks this worker runs. Default: every task. */
  abilities?: string[];
  /** Jobs at once, each in its own child process. Default 2. */
  concurrency?: number;
  /** Recycle a child after this many jobs. Default 10,000 (memory is watched after every job). */
  maxJobs?: number;
  /** Recycle a child whose memory passed this many MB after a job. Default 512. */
  maxMemoryMb?: number;
  /** On stop, how long running jobs may take to finish before they are handed back. Default 30 s. */
  stopTimeoutMs?: number;
  /** After SIGTERM, how long a cancelled job's child has before SIGKILL. Default 5 s. */
  cancelGraceMs?: number;
  /** A delivery waiting for a free slot this long goes back to the queue. Default 10 s. */
  holdMs?: number;
  /** Run the recovery sweep in this process too. Default true. */
  maintenance?: boolean;
}

interface Slot {
  proc: ChildProcess;
  ready: Promise<void>;
  jobs: number;
  current: Running | null;
  retired: boolean;
  exited: boolean;
}

interface Running {
  job: Job;
  slot: Slot;
  capture: OutputCapture;
  /** The end-of-job sentinel, as bytes. */
  mark: Buffer;
  /** A possible start of the sentinel at the end of the last read, held back. */
  carry: { stdout: Buffer | null; stderr: Buffer | null };
  ended: { stdout: boolean; stderr: boolean };
  reply: Extract<ChildMessage, { type: 'done' | 'error' }> | null;
  exit: { code: number | null; signal: string | null } | null;
  cancelBy: string | null;
  timeLimit: string | null;
  taken: boolean;
  timers: NodeJS.Timeout[];
  progress: { current: number | null; total: number | null; text: string | null } | null;
  progressTimer: NodeJS.Timeout | null;
  /** When the child was handed the job (performance.now()). */
  began: number;
  settle: () => void;
  /** The child is done with the job (replied, or exited). */
  done: Promise<void>;
  /** The job's end is recorded (or given up on). */
  recorded: Promise<void>;
}

/** A task whose recent runs took less than this (ms) may have jobs claimed ahead behind it. */
const SHORT_JOB_MS = 50;

const childPath = (): string =>
  join(fileURLToPath(new URL('.', import.meta.url)), RUNNING_FROM_SOURCE ? 'child.ts' : 'child.js');

export class Worker {
  readonly id: string;
  readonly abilities: string[];
  readonly concurrency: number;
  private readonly opts: Required<Omit<WorkerOptions, 'abilities' | 'concurrency'>>;
  private slots: Slot[] = [];
  private held: Array<{ d: Delivery; at: number }> = [];
  private running = new Map<number, Running>();
  /**
   * Jobs claimed ahead of a free child (claim-ahead): only as many as children running
   * short jobs, so that a claimed job waits for at most one short job to end.
   */
  private waiting: Job[] = [];
  /** Deliveries in the claim transaction under way (one at a time: batches form behind it). */
  private claiming = 0;
  private claim: Promise<void> | null = null;
  /** Recent run time per task, ms (moving average): which jobs count as short. */
  private durations = new Map<string, number>();
  /** Jobs whose child is done and free again while their end is being written. */
  private finishing = 0;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private holdTimer: NodeJS.Timeout | null = null;
  private maintenance: Maintenance | null = null;
  private paused = false;
  private consuming = false;
  private stopping = false;
  private stopped = false;
  /** Completed attempts, for tests and benchmarks. */
  completed = 0;

  constructor(
    private readonly service: JobService,
    private readonly transport: Transport,
    options: WorkerOptions = {},
  ) {
    const all = listTasks().map((t) => t.name);
    const abilities = options.abilities?.length ? options.abilities : all;
    for (const a of abilities) {
      if (!getTask(a)) throw new Error(`unknown ability "${a}"; tasks: ${all.join(', ')}`);
    }
    this.abilities = abilities;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.opts = {
      maxJobs: options.maxJobs ?? 10_000,
      maxMemoryMb: options.maxMemoryMb ?? 512,
      stopTimeoutMs: options.stopTimeoutMs ?? 30_000,
      cancelGraceMs: options.cancelGraceMs ?? 5000,
      holdMs: options.holdMs ?? 10_000,
      maintenance: options.maintenance ?? true,
    };
    this.id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  }

  private logger: Logger | null = null;

  /** The worker's logger: every line carries `worker=<id>`; job lines add `job=<id>`. */
  private get log(): Logger {
    this.logger ??= this.service.log.child({ worker: this.id });
    return this.logger;
  }

  private get cfg() {
    return this.service.config;
  }

  get runningCount(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    await registerWorker(this.service.db, {
      id: this.id,
      host: hostname(),
      pid: process.pid,
      abilities: this.abilities,
      concurrency: this.concurrency,
      now: Date.now(),
    });
    // Warm children first: the first job should not pay for a process start.
    for (let i = 0; i < this.concurrency; i++) this.slots.push(this.spawn());
    await Promise.all(this.slots.map((s) => s.ready));
    await this.transport.announce(this.id);
    this.paused = await this.service.isPaused();
    if (!this.paused) await this.startConsuming();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.cfg.heartbeatMs);
    this.holdTimer = setInterval(() => this.releaseStale(), 1000);
    if (this.opts.maintenance) {
      this.maintenance = new Maintenance(this.service, this.id);
      this.maintenance.start();
    }
    this.log.info(
      `worker ${this.id} started: ${this.abilities.join(', ')}; concurrency ${this.concurrency}; transport ${this.transport.kind}`,
    );
  }

  private async startConsuming(): Promise<void> {
    if (this.consuming || this.stopping) return;
    this.consuming = true;
    await this.transport.consume({
      abilities: this.abilities,
      // Twice the children: deliveries gather while a claim is under way, and the next
      // claim takes them together.
      prefetch: this.concurrency * 2,
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
    const limit = Date.now() - this.opts.holdMs;
    const keep: typeof this.held = [];
    for (const h of this.held) {
      if (h.at < limit) h.d.release();
      else keep.push(h);
    }
    this.held = keep;
  }

  /** Children with no job (a job being finished no longer holds its child). */
  private freeChildren(): number {
    return this.concurrency - (this.running.size - this.finishing);
  }

  /**
   * How many jobs may be claimed ahead of a free child: one per child running a short
   * job (a task whose recent runs took under SHORT_JOB_MS). A long job never has a job
   * claimed behind it, so no job shows as running while it waits for a long one.
   */
  private aheadAllowance(): number {
    let n = 0;
    for (const r of this.running.values()) {
      if (r.reply || r.exit) continue;
      const d = this.durations.get(r.job.task);
      if (d !== undefined && d < SHORT_JOB_MS) n++;
    }
    return n;
  }

  private pumpQueued = false;

  /** Pumps on the next turn, so that deliveries arriving together are claimed together. */
  private schedulePump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    setImmediate(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.stopping || this.paused) return;
    // Claimed jobs first: a free child starts one with no database round trip.
    while (this.waiting.length > 0 && this.freeChildren() > 0) this.run(this.waiting.shift()!);
    if (this.claiming > 0 || this.held.length === 0) return;
    const room = this.freeChildren() + this.aheadAllowance() - this.waiting.length;
    const n = Math.min(room, this.held.length);
    if (n <= 0) return;
    const batch = this.held.splice(0, n).map((h) => h.d);
    this.claiming = n;
    const claim: Promise<void> = this.claimAndRun(batch).finally(() => {
      // (The claim's own last pump may have started the next one.)
      if (this.claim === claim) this.claim = null;
    });
    this.claim = claim;
  }

  /** Claims a batch in one transaction, acks the deliveries right after, runs what is ours. */
  private async claimAndRun(batch: Delivery[]): Promise<void> {
    let jobs: Job[];
    try {
      jobs = await this.service.claimMany(
        batch.map((d) => d.jobId),
        this.id,
      );
    } catch (err) {
      // The database is unreachable: give the deliveries back rather than lose them.
      // Wait a moment first, or the broker would redeliver them to us at once, in a tight loop.
      this.log.warn(`claim of job(s) ${batch.map((d) => d.jobId).join(', ')} failed: ${(err as Error).message}`);
      setTimeout(() => {
        this.claiming = 0;
        for (const d of batch) d.release();
        this.pump();
      }, 1000).unref();
      return;
    }
    // Ack right after the claim: no message stays unacked while the job runs.
    for (const d of batch) d.ack();
    this.claiming = 0;
    // Stopped or paused meanwhile: stop() and the pause wait for this claim, then give
    // back whatever is waiting.
    this.waiting.push(...jobs);
    this.pump();
  }

  /** Claimed jobs that never started go back to the queue without using up an attempt. */
  private async handBackWaiting(jobs: Job[], why: string): Promise<void> {
    for (const job of jobs) {
      const ok = await this.service.handBack(job, this.id, `handed back: worker ${this.id} ${why}`).catch(() => false);
      if (!ok) this.log.warn(`claimed job ${job.id} could not be handed back; its lease will run out`);
    }
  }

  // ---- children ------------------------------------------------------------------

  private spawn(): Slot {
    const proc = fork(childPath(), [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: RUNNING_FROM_SOURCE ? ['--import', 'tsx'] : [],
      // The child opens the database this worker was configured with, which may differ
      // from the process environment (an in-process worker in tests, say).
      env: {
        ...process.env,
        DATABASE_URL: this.cfg.database.url,
        DOCKET_RESULTS_DIR: this.cfg.resultsDir,
        DOCKET_JOB_LOG_DIR: this.cfg.jobLogDir,
        DOCKET_EXTRA_TASKS: this.cfg.extraTasks.join(','),
      },
    });
    let readyResolve!: () => void;
    const slot: Slot = {
      proc,
      ready: new Promise((r) => (readyResolve = r)),
      jobs: 0,
      current: null,
      retired: false,
      exited: false,
    };
    // Output stays in bytes until it is written; the capture decodes it once per write.
    proc.stdout!.on('data', (b: Buffer) => this.onData(slot, 'stdout', b));
    proc.stderr!.on('data', (b: Buffer) => this.onData(slot, 'stderr', b));
    proc.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') readyResolve();
      else this.onMessage(slot, m);
    });
    proc.on('error', (err) => this.log.error(`child process error: ${err.message}`));
    // 'close' comes after both pipes have ended: all output is in by then.
    proc.on('close', (code, signal) => {
      slot.exited = true;
      readyResolve();
      this.slots = this.slots.filter((s) => s !== slot);
      const r = slot.current;
      if (r) {
        r.exit = { code, signal };
        r.settle();
      }
    });
    return slot;
  }

  private takeSlot(): Slot {
    let slot = this.slots.find((s) => !s.current && !s.retired && !s.exited);
    if (!slot) {
      slot = this.spawn();
      this.slots.push(slot);
    }
    return slot;
  }

  private retire(slot: Slot, signal: NodeJS.Signals = 'SIGTERM'): void {
    slot.retired = true;
    this.slots = this.slots.filter((s) => s !== slot);
    if (!slot.exited) slot.proc.kill(signal);
  }

  private onData(slot: Slot, stream: 'stdout' | 'stderr', chunk: Buffer): void {
    const r = slot.current;
    if (!r || r.ended[stream] || chunk.length === 0) return;
    const held = r.carry[stream];
    const buf = held ? Buffer.concat([held, chunk]) : chunk;
    r.carry[stream] = null;
    const at = buf.indexOf(r.mark);
    if (at >= 0) {
      r.capture.push(stream, buf.subarray(0, at));
      r.ended[stream] = true;
      if (r.reply && r.ended.stdout && r.ended.stderr) r.settle();
      return;
    }
    // Hold back a possible start of the sentinel split across reads.
    const from = sentinelStart(buf, r.mark);
    if (from < buf.length) {
      r.capture.push(stream, buf.subarray(0, from));
      r.carry[stream] = buf.subarray(from);
    } else {
      r.capture.push(stream, buf);
    }
  }

  private onMessage(slot: Slot, m: ChildMessage): void {
    const r = slot.current;
    if (!r || m.type === 'ready' || m.jobId !== r.job.id) return;
    if (m.type === 'progress') {
      r.progress = { current: m.current, total: m.total, text: m.text };
      if (!r.progressTimer) {
        // Progress is written at most twice a second per job.
        r.progressTimer = setTimeout(() => {
          r.progressTimer = null;
          void this.writeProgress(r);
        }, 500);
      }
      return;
    }
    r.reply = m;
    if (r.ended.stdout && r.ended.stderr) r.settle();
  }

  private async writeProgress(r: Running): Promise<void> {
    const p = r.progress;
    if (!p) return;
    r.progress = null;
    await this.service.progress(r.job, p.current, p.total, p.text).catch(() => undefined);
  }

  // ---- one attempt ---------------------------------------------------------------

  private run(job: Job): void {
    const slot = this.takeSlot();
    const def = getTask(job.task);
    let settle!: () => void;
    const r: Running = {
      job,
      slot,
      capture: new OutputCapture(
        {
          // Retried through a short database outage rather than failing the job.
          write: (chunks, truncated) => this.retryWrite(() => this.service.appendOutputParts(job, chunks, { truncated })),
        },
        this.cfg.outputCapBytes,
        join(this.cfg.jobLogDir, `${job.id}.log`),
      ),
      mark: Buffer.from(sentinel(job.id, job.attempt)),
      carry: { stdout: null, stderr: null },
      ended: { stdout: false, stderr: false },
      reply: null,
      exit: null,
      cancelBy: null,
      timeLimit: null,
      taken: false,
      timers: [],
      progress: null,
      progressTimer: null,
      began: performance.now(),
      settle: () => settle(),
      done: new Promise<void>((resolve) => (settle = resolve)),
      recorded: Promise.resolve(),
    };
    slot.current = r;
    slot.jobs++;
    this.running.set(job.id, r);
    if (job.attempt > 1) r.capture.push('system', `[attempt ${job.attempt} of ${job.maxAttempts} on ${this.id}]\n`);
    r.capture.startTimer();
    const soft = def?.timeLimitMs?.soft;
    const hard = def?.timeLimitMs?.hard;
    if (soft) {
      r.timers.push(
        setTimeout(() => {
          r.timeLimit ??= `soft time limit of ${soft / 1000} s reached`;
          this.send(slot, { type: 'abort', jobId: job.id, reason: r.timeLimit });
        }, soft),
      );
    }
    if (hard) {
      r.timers.push(
        setTimeout(() => {
          r.timeLimit = `hard time limit of ${hard / 1000} s reached; the job was killed`;
          slot.proc.kill('SIGKILL');
        }, hard),
      );
    }
    void slot.ready.then(() =>
      this.send(slot, {
        type: 'run',
        job: { id: job.id, attempt: job.attempt, task: job.task, params: job.params },
        resultsDir: this.cfg.resultsDir,
      }),
    );
    r.recorded = r.done.then(() => this.finish(r));
  }

  private send(slot: Slot, msg: ParentMessage): void {
    if (slot.exited || !slot.proc.connected) return;
    try {
      slot.proc.send(msg);
    } catch {
      // The child is gone; its 'close' handler settles the job.
    }
  }

  private async finish(r: Running): Promise<void> {
    for (const t of r.timers) clearTimeout(t);
    if (r.progressTimer) clearTimeout(r.progressTimer);
    r.progressTimer = null;
    // The last progress report must not be lost to the throttle; it is written beside
    // the rest of the output, not before it.
    const progressed = this.writeProgress(r);
    const { job } = r;
    // A child that finished its job cleanly is free at once: the next job may start in
    // it while this one's end is written (batched with others). After a cancel, a time
    // limit or a take-over the slot stays this job's until its fate is decided below:
    // handed to another job meanwhile, it would get this job's SIGKILL in its place.
    const clean = r.reply?.type === 'done' && !r.cancelBy && !r.timeLimit && !r.taken;
    if (clean) {
      const took = performance.now() - r.began;
      const avg = this.durations.get(job.task);
      this.durations.set(job.task, avg === undefined ? took : avg * 0.8 + took * 0.2);
      this.releaseSlot(r);
      this.finishing++;
      this.pump();
    }
    await Promise.all([progressed, r.capture.finish()]);
    const def = getTask(job.task);
    let outcome = 'stale';
    try {
      if (r.taken) {
        outcome = 'taken';
      } else if (r.capture.error) {
        outcome = await this.retryWrite(() =>
          this.service.fail(job, this.id, { message: r.capture.error!.message, unrecoverable: true }),
        );
      } else if (r.cancelBy) {
        outcome = (await this.retryWrite(() => this.service.finishCancelled(job, r.cancelBy!))) ? 'cancelled' : 'stale';
      } else if (r.timeLimit && (!r.reply || r.reply.type === 'error')) {
        outcome = await this.retryWrite(() => this.service.fail(job, this.id, { message: r.timeLimit!, unrecoverable: true }));
      } else if (r.reply?.type === 'done') {
        outcome = (await this.completeBatched(job, r.reply.result)) ? 'completed' : 'stale';
        this.completed++;
      } else {
        const message =
          r.reply?.type === 'error'
            ? r.reply.message
            : r.exit?.signal
              ? `the job's process was killed by ${r.exit.signal}`
              : `the job's process exited with code ${r.exit?.code ?? 'unknown'} before finishing`;
        outcome = await this.retryWrite(() =>
          this.service.fail(job, this.id, {
            message,
            unrecoverable: r.reply?.type === 'error' ? r.reply.unrecoverable : false,
            retryBackoffMs: def?.retryOnError?.backoffMs ?? null,
          }),
        );
      }
    } catch (err) {
      // The database stayed away: the lease runs out and another process recovers the job.
      this.log.error(`could not record the end of job ${job.id}: ${(err as Error).message}`, { job: job.id });
    }
    // Per job: built only when someone reads debug lines (winston formats before filtering).
    if (this.log.isDebugEnabled()) this.log.debug(`job ${job.id} attempt ${job.attempt}: ${outcome}`, { job: job.id });
    if (clean) this.finishing--;
    this.running.delete(job.id);
    if (!clean) this.releaseSlot(r);
    // Keep the pool warm for the next job.
    while (!this.stopping && this.slots.filter((s) => !s.retired && !s.exited).length < this.concurrency) {
      this.slots.push(this.spawn());
    }
    this.pump();
  }

  /** The job's child is free again: kept for the next job, or recycled. */
  private releaseSlot(r: Running): void {
    const slot = r.slot;
    slot.current = null;
    if (slot.exited) return;
    const rss = r.reply?.rss ?? 0;
    if (r.cancelBy || r.timeLimit || r.taken) this.retire(slot, 'SIGKILL');
    else if (slot.jobs >= this.opts.maxJobs || rss > this.opts.maxMemoryMb * 1024 * 1024) {
      this.log.info(`recycling child ${slot.proc.pid} after ${slot.jobs} jobs (${Math.round(rss / 1048576)} MB)`);
      this.retire(slot);
    }
  }

  private completions: Array<{
    job: Job;
    result: TaskResult;
    resolve: (ok: boolean) => void;
    reject: (err: unknown) => void;
  }> = [];
  private completing = false;

  /**
   * Completions are written in batches: while one transaction is in flight, the next
   * completions gather and go together in the following one (one commit for many jobs).
   */
  private completeBatched(job: Job, result: TaskResult): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.completions.push({ job, result, resolve, reject });
      if (!this.completing) setImmediate(() => void this.flushCompletions());
    });
  }

  private async flushCompletions(): Promise<void> {
    if (this.completing) return;
    this.completing = true;
    while (this.completions.length > 0) {
      const batch = this.completions.splice(0, 200);
      try {
        const done = await this.retryWrite(() => this.service.completeMany(batch, this.id));
        for (const b of batch) b.resolve(done.has(b.job.id));
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.completing = false;
  }

  /** Retries a database write for up to half a lease (e.g. through a MariaDB restart). */
  private async retryWrite<T>(fn: () => Promise<T>): Promise<T> {
    const until = Date.now() + this.cfg.leaseMs / 2;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (Date.now() > until) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  // ---- heartbeat -----------------------------------------------------------------

  private beating = false;

  private async heartbeat(): Promise<void> {
    // A slow database must not stack heartbeats on top of each other.
    if (this.stopped || this.beating) return;
    this.beating = true;
    const now = Date.now();
    try {
      // Leases first: they are what keeps our jobs from being recovered elsewhere.
      const ids = [...this.running.keys(), ...this.waiting.map((j) => j.id)];
      await jobsStore.renewLeases(this.service.db, this.id, ids, now + this.cfg.leaseMs);
      await heartbeatWorker(this.service.db, this.id, this.running.size, now);
      // Only the jobs we held before reading: one claimed while the read is under way is
      // missing from it, and would be taken for a zombie, killed, and left running.
      const known = [...this.running.values()];
      const waiting = [...this.waiting];
      const held = await jobsStore.runningOfWorker(this.service.db, this.id);
      const byId = new Map(held.map((h) => [h.id, h]));
      for (const job of waiting) {
        const row = byId.get(job.id);
        const gone = !row || row.attempt !== job.attempt;
        if (!gone && !row.cancelRequestedBy) continue;
        // Not started yet: dropped if taken, finished as cancelled if asked to cancel.
        const at = this.waiting.indexOf(job);
        if (at < 0) continue; // started meanwhile: the checks below see it next time
        this.waiting.splice(at, 1);
        if (!gone) {
          const by = row.cancelRequestedBy!;
          this.log.info(`cancelling job ${job.id} before it started (asked by ${by})`, { job: job.id });
          await this.service.finishCancelled(job, by).catch(() => false);
        }
      }
      for (const r of known) {
        const row = byId.get(r.job.id);
        if (!row || row.attempt !== r.job.attempt) {
          // The job was recovered elsewhere (our lease ran out): stop the zombie.
          if (!r.reply && !r.exit && !r.taken) {
            r.taken = true;
            this.log.warn(`job ${r.job.id} attempt ${r.job.attempt} was taken from this worker; stopping it`);
            if (!r.slot.exited) r.slot.proc.kill('SIGKILL');
          }
        } else if (row.cancelRequestedBy && !r.cancelBy && !r.reply && !r.exit) {
          // (An attempt that already ended is past cancelling: its child may be running the next job.)
          this.cancelRunning(r, row.cancelRequestedBy);
        }
      }
      const paused = await this.service.isPaused();
      if (paused !== this.paused) {
        this.paused = paused;
        if (paused) {
          await this.stopConsuming();
          await this.claim;
          await this.handBackWaiting(this.waiting.splice(0), 'was paused');
        } else {
          await this.startConsuming();
        }
        this.log.info(paused ? 'processing paused: running jobs finish, no new job starts' : 'processing resumed');
      }
    } catch (err) {
      this.log.warn(`heartbeat failed: ${(err as Error).message}`);
    } finally {
      this.beating = false;
    }
  }

  /** SIGTERM, then SIGKILL after the grace period. */
  private cancelRunning(r: Running, by: string): void {
    r.cancelBy = by;
    this.log.info(`cancelling job ${r.job.id} (asked by ${by})`, { job: r.job.id });
    r.capture.push('system', `\n[cancelled by ${by}]\n`);
    if (r.slot.exited) return;
    r.slot.proc.kill('SIGTERM');
    r.timers.push(
      setTimeout(() => {
        if (!r.slot.exited) r.slot.proc.kill('SIGKILL');
      }, this.opts.cancelGraceMs),
    );
  }

  /** Checks for cancel requests and pause now instead of at the next heartbeat. */
  async poke(): Promise<void> {
    await this.heartbeat();
  }

  // ---- stopping ------------------------------------------------------------------

  /**
   * Graceful stop: no new jobs; running jobs get `stopTimeoutMs` to finish, then are
   * handed back to the queue (never left running).
   */
  async stop(timeoutMs = this.opts.stopTimeoutMs): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.maintenance?.stop();
    await this.stopConsuming().catch(() => undefined);
    await this.claim;
    await this.handBackWaiting(this.waiting.splice(0), 'is stopping');
    const pending = [...this.running.values()];
    if (pending.length) {
      this.log.info(`waiting up to ${Math.round(timeoutMs / 1000)} s for ${pending.length} running job(s)`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(pending.map((r) => r.done)),
        new Promise<void>((res) => (timer = setTimeout(res, timeoutMs))),
      ]);
      clearTimeout(timer);
      for (const r of this.running.values()) {
        if (r.reply || r.exit) continue;
        r.taken = true;
        const ok = await this.service
          .handBack(r.job, this.id, `handed back: worker ${this.id} is stopping`)
          .catch(() => false);
        this.log.info(`job ${r.job.id} ${ok ? 'handed back to the queue' : 'could not be handed back'}`);
        if (!r.slot.exited) r.slot.proc.kill('SIGKILL');
      }
      // Let the finish handlers record the ends (a job that finished is written as such;
      // one handed back is seen as taken and written no more), retrying through a short
      // database outage as they do, or its job would stay running until its lease ran out.
      await Promise.race([
        Promise.all(pending.map((r) => r.recorded)),
        new Promise<void>((res) => setTimeout(res, this.cfg.leaseMs / 2 + 1000).unref()),
      ]);
    }
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    if (this.holdTimer) clearInterval(this.holdTimer);
    this.stopped = true;
    for (const s of [...this.slots]) this.retire(s);
    await stopWorker(this.service.db, this.id, Date.now()).catch(() => undefined);
    this.log.info(`worker ${this.id} stopped`);
  }
}
