/**
 * The worker supervisor: starts and stops its parts, and follows each attempt from its
 * claim to its recorded end. The parts: the child pool (pool.ts), the claimer
 * (claimer.ts), an attempt per running job (attempt.ts) whose end outcome.ts decides,
 * batched completions (completions.ts), the heartbeat (heartbeat.ts). It never decides
 * a job's status by itself: the JobService does.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { JobService } from '../app/job-service.js';
import type { Logger } from '../app/logger.js';
import { Maintenance } from '../app/maintenance.js';
import { withTimeout } from '../app/timeout.js';
import type { Transport } from '../app/transports/transport.js';
import type { Job } from '../app/types.js';
import { Attempt, type AttemptContext } from './attempt.js';
import { Claimer } from './claimer.js';
import { CompletionBatch } from './completions.js';
import { Heartbeat } from './heartbeat.js';
import { ChildPool } from './pool.js';
import { getTask, listTasks } from '../app/tasks/index.js';

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

export class Worker {
  readonly id: string;
  readonly abilities: string[];
  readonly concurrency: number;
  /** Completed attempts, for tests and benchmarks. */
  completed = 0;
  /** The attempts under way, by job id (until their end is recorded). */
  private readonly running = new Map<number, Attempt>();
  private readonly opts: Required<Omit<WorkerOptions, 'abilities' | 'concurrency'>>;
  private readonly pool: ChildPool;
  private readonly claimer: Claimer;
  private readonly heartbeat: Heartbeat;
  private readonly attemptContext: AttemptContext;
  /** Jobs whose child is done and free again while their end is being written. */
  private finishing = 0;
  private maintenance: Maintenance | null = null;
  private stopping = false;
  /** Every line carries `worker=<id>`; job lines add `job=<id>`. */
  private readonly log: Logger;

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
    this.log = service.log.child({ worker: this.id });
    const cfg = service.config;
    const limits = { maxJobs: this.opts.maxJobs, maxMemoryMb: this.opts.maxMemoryMb };
    // The child opens the database this worker was configured with, which may differ
    // from the process environment (an in-process worker in tests, say).
    const env = { DATABASE_URL: cfg.database.url, DOCKET_RESULTS_DIR: cfg.resultsDir, DOCKET_JOB_LOG_DIR: cfg.jobLogDir, DOCKET_EXTRA_TASKS: cfg.extraTasks.join(',') };
    this.pool = new ChildPool({ size: this.concurrency, env, ...limits }, this.log);
    const host = {
      id: this.id,
      abilities: this.abilities,
      concurrency: this.concurrency,
      log: this.log,
      running: this.running,
      freeChildren: () => this.concurrency - (this.running.size - this.finishing),
      run: (job: Job) => this.run(job),
    };
    this.claimer = new Claimer(host, service, transport, this.opts.holdMs);
    this.heartbeat = new Heartbeat(host, service, this.claimer);
    const completions = new CompletionBatch(service, this.id);
    this.attemptContext = {
      service,
      workerId: this.id,
      log: this.log,
      pool: this.pool,
      complete: (job, result) => completions.add(job, result),
      cancelGraceMs: this.opts.cancelGraceMs,
      limits,
    };
  }

  get runningCount(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    await this.service.presence.register({ id: this.id, abilities: this.abilities, concurrency: this.concurrency });
    await this.pool.start();
    await this.transport.announce(this.id);
    const paused = await this.service.isPaused();
    await this.claimer.start(paused);
    this.heartbeat.start();
    if (this.opts.maintenance) {
      this.maintenance = new Maintenance(this.service, this.id);
      this.maintenance.start();
    }
    this.log.info(
      `worker ${this.id} started: ${this.abilities.join(', ')}; concurrency ${this.concurrency}; transport ${this.transport.kind}`,
    );
  }

  /** Checks for cancel requests and pause now instead of at the next heartbeat. */
  async poke(): Promise<void> {
    await this.heartbeat.beat();
  }

  // ---- one attempt, from claim to recorded end ---------------------------------------

  /** Starts a claimed job in a free child (the claimer calls this). */
  private run(job: Job): void {
    const cfg = this.service.config;
    const a = new Attempt(job, this.attemptContext, cfg.outputCapBytes, cfg.jobLogDir);
    this.running.set(job.id, a);
    a.start(cfg.resultsDir);
    a.recorded = a.done.then(() => this.finish(a));
  }

  private async finish(a: Attempt): Promise<void> {
    let freed = false;
    const kind = await a.end((tookMs) => {
      // The child is free while the end is written: the next job may start in it.
      freed = true;
      this.claimer.noteDuration(a.job.task, tookMs);
      this.finishing++;
      this.claimer.pump();
    });
    if (kind === 'completed') this.completed++;
    if (freed) this.finishing--;
    this.running.delete(a.job.id);
    // Keep the pool warm for the next job.
    if (!this.stopping) this.pool.fill();
    this.claimer.pump();
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
    await this.claimer.stop();
    const pending = [...this.running.values()];
    if (pending.length) {
      this.log.info(`waiting up to ${Math.round(timeoutMs / 1000)} s for ${pending.length} running job(s)`);
      await withTimeout(Promise.all(pending.map((a) => a.done)), timeoutMs, []);
      for (const a of this.running.values()) if (a.busy) await a.handBack();
      // Let the finish handlers record the ends (a job that finished is written as such;
      // one handed back is seen as taken and written no more), retrying through a short
      // database outage as they do, or its job would stay running until its lease ran out.
      await withTimeout(Promise.all(pending.map((a) => a.recorded)), this.service.config.leaseMs / 2 + 1000, []);
    }
    this.heartbeat.stop();
    this.pool.stop();
    await this.service.presence.unregister(this.id).catch(() => undefined);
    this.log.info(`worker ${this.id} stopped`);
  }
}
