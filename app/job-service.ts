/**
 * The one state machine of a job. Every status change goes through here; task handlers
 * only return, throw, print and report progress.
 *
 *   queued ──claim──► running ──► completed | failed | cancelled
 *     ▲  │                │
 *     │  └─cancel─► cancelled
 *     └──retry / recovery (lost worker, retryable error, hand-back)
 */
import { hostname } from 'node:os';
import type { Config } from './config.js';
import { Dispatcher } from './dispatcher.js';
import type { Db } from './db.js';
import { createFileStore, type FileStore } from './files/index.js';
import { BadRequestError, ConflictError, NotFoundError } from './errors.js';
import { JobCleanup } from './job-cleanup.js';
import { afterEnded, afterRetried } from './groups/chains.js';
import type { Logger } from './logger.js';
import { assertMayRun, mayJoin } from './policy.js';
import { findJoinable } from './store/job-unique.js';
import * as store from './store/jobs.js';
import { capOptional, capText, TEXT_LIMITS } from './store/limits.js';
import { getSetting, setSetting } from './store/settings.js';
import { addSubscriptions } from './store/job-subscriptions.js';
import { requestSubscriptions } from './notify/subscribe.js';
import { listTasks, requireTask, validateParams } from './tasks/index.js';
import type { Transport } from './transports/transport.js';
import { WorkerPresence } from './worker-presence.js';
import { NO_RETRY_TEXT, PRIORITIES, type Job, type NewJob, type ProgressStep } from './types.js';

export interface EnqueueResult {
  job: Job;
  /**
   * True when a unique key matched an unfinished job of the same owner, which is returned
   * instead; never another user's job.
   */
  joined: boolean;
  /** False when the broker did not confirm; the dispatcher will try again. */
  dispatched: boolean;
}

/** How long a job waits before its retry after a passing database failure (doubled per attempt). */
export const TRANSIENT_RETRY_MS = 1000;

export interface FailureInfo {
  message: string;
  /** Fail now, whatever attempts remain. */
  unrecoverable?: boolean;
  /**
   * The job's own input was refused (its file, its parameters, a record it names): fail
   * now and mark it so that nobody retries it (Job.failureKind `input`).
   */
  permanent?: boolean;
  /** The worker vanished (lease expired or broker saw it die): retry if attempts remain. */
  lost?: boolean;
  /**
   * Not the job's fault: the worker could not store its output while the database was
   * away. Retried after TRANSIENT_RETRY_MS if attempts remain, like a lost worker.
   */
  transient?: boolean;
  /** Retry this failure after this many ms (the task's retry policy), if attempts remain. */
  retryBackoffMs?: number | null;
  /**
   * What the task left although it failed (a failed import's CSV of the rows it did not
   * import): the job's result when the failure is final, removed otherwise (a retry or a
   * cancel makes its own, and nobody would find this one).
   */
  result?: { summary?: string; file?: { stored: string; downloadName: string } };
}

export class JobService {
  readonly actorName = `${hostname()}:${process.pid}`;

  constructor(
    readonly db: Db,
    readonly config: Config,
    readonly transport: Transport | null,
    readonly log: Logger,
  ) {
    this.files = createFileStore(config, db);
    this.dispatcher = new Dispatcher(db, transport, log, () => this.now());
    this.cleanup = new JobCleanup(this);
    this.presence = new WorkerPresence(this);
  }

  /** Where uploads and results live, reached from every host (DOCKET_FILE_STORE). */
  readonly files: FileStore;
  /** Publishing jobs, and the round that publishes again what the broker never confirmed. */
  readonly dispatcher: Dispatcher;
  /** Clear inactive, discard and retention: finished jobs removed with what they leave. */
  readonly cleanup: JobCleanup;
  /** Workers' rows and leases (workers/ calls these; nothing else does). */
  readonly presence: WorkerPresence;

  /** Publishes and records the confirmed ones; never throws (the dispatcher retries). */
  dispatch(items: Array<{ id: number; task: string; priority: number; attempt?: number }>): Promise<number[]> {
    return this.dispatcher.dispatch(items);
  }

  now(): number {
    return Date.now();
  }

  // ---- creating jobs -------------------------------------------------------------

  /** Checks a request (task, permission, parameters, size, priority) into a row to insert. */
  prepare(req: NewJob, now: number, upload: string | null = null) {
    const def = requireTask(req.task);
    assertMayRun(def, req.origin === 'cli' ? null : (req.user ?? null));
    const params = validateParams(def, req.params);
    // A file parameter from the web or the API is the upload of that very request: naming
    // a stored file otherwise would read, and on a clear remove, somebody else's upload.
    for (const [name, spec] of Object.entries(def.params)) {
      if (spec.upload && params[name] !== undefined && params[name] !== upload && req.origin !== 'cli') {
        throw new BadRequestError(
          `"${name}" is a file: send it as the "file" part of a multipart/form-data request (the import form, or POST /api/jobs)`,
        );
      }
    }
    const size = JSON.stringify(params).length;
    if (size > 64 * 1024) throw new BadRequestError(`params are ${size} bytes; the limit is 65536`);
    // An own property only: "toString" names no priority (an inherited lookup was a 500).
    const name = req.priority ?? 'normal';
    const priority = Object.hasOwn(PRIORITIES, name) ? PRIORITIES[name] : undefined;
    if (priority === undefined) throw new BadRequestError('priority must be high, normal or low');
    const row: store.InsertJob = {
      task: def.name,
      params,
      priority,
      userId: req.user?.id ?? null,
      username: req.user?.username ?? null,
      origin: req.origin,
      uniqueKey: null,
      maxAttempts: def.maxAttempts ?? 3,
      objectRef: def.objectRef?.(params) ?? null,
      now,
    };
    return { def, params, row, actor: req.user?.username ?? 'Command line' };
  }

  async enqueue(req: NewJob, upload: string | null = null): Promise<EnqueueResult> {
    const { def, params, row, actor } = this.prepare(req, this.now(), upload);
    const uniqueKey = (await def.uniqueKey?.(params, this.db)) ?? null;
    row.uniqueKey = uniqueKey;
    row.subscriptions = await requestSubscriptions(this.db, this.config, req);
    if (uniqueKey) {
      // Only the owner's own job is joined: the answer is the job, which another user may
      // not see (policy.mayJoin).
      const existing = await findJoinable(this.db, uniqueKey, row.userId);
      if (existing && mayJoin(row, existing)) {
        await store.addEvent(this.db, {
          jobId: existing.id,
          type: 'joined',
          attempt: existing.attempt,
          actor,
          message: capText(`a request by ${actor} joined this job (unique key ${uniqueKey})`, TEXT_LIMITS.message),
          at: this.now(),
        });
        // The joining request is told about the job it joined, as it asked.
        if (row.subscriptions.length) await addSubscriptions(this.db, existing.id, row.subscriptions);
        return { job: existing, joined: true, dispatched: existing.dispatchedAt !== null };
      }
    }
    const id = await store.insertJob(this.db, row, actor);
    const dispatched = await this.dispatch([{ id, task: def.name, priority: row.priority, attempt: 0 }]);
    const job = (await store.getJob(this.db, id)) as Job;
    return { job, joined: false, dispatched: dispatched.length === 1 };
  }

  // ---- a worker's side -----------------------------------------------------------

  /**
   * queued → running for this worker, several in one transaction (a worker with several
   * free slots); a job someone else has, or that is gone, is left out.
   */
  async claimMany(ids: number[], workerId: string): Promise<Job[]> {
    return store.claimJobs(this.db, ids, workerId, this.now(), this.config.leaseMs);
  }

  /** `claimMany` for a worker, saying whether a pause refused the claim (it then claims nothing). */
  async claim(ids: number[], workerId: string): Promise<store.ClaimResult> {
    return store.claimBatch(this.db, ids, workerId, this.now(), this.config.leaseMs);
  }

  /** Several completions in one transaction; returns the ids completed (stale ones are refused). */
  async completeMany(
    items: Array<{ job: Pick<Job, 'id' | 'attempt'>; result: { summary?: string; file?: { stored: string; downloadName: string }; objectRef?: string } }>,
    workerId: string,
  ): Promise<Set<number>> {
    const done = await store.completeJobs(
      this.db,
      items.map(({ job, result }) => ({
        id: job.id,
        attempt: job.attempt,
        resultSummary: capOptional(result.summary, TEXT_LIMITS.resultSummary),
        resultFile: result.file?.stored ?? null,
        resultName: result.file?.downloadName ?? null,
        objectRef: result.objectRef ?? null,
      })),
      this.now(),
      workerId,
    );
    await afterEnded(this, items.filter((i) => done.has(i.job.id)).map((i) => i.job));
    return done;
  }

  /**
   * A failed attempt: retried (queued again, with backoff) while attempts remain and the
   * failure allows it, otherwise failed with the reason. A cancel request wins.
   */
  async fail(job: Pick<Job, 'id' | 'attempt'>, actor: string, f: FailureInfo): Promise<'retried' | 'failed' | 'cancelled' | 'stale'> {
    const outcome = await this.recordFailure(job, actor, f);
    const left = f.result?.file?.stored;
    if (left && outcome !== 'failed') await this.files.delete(left).catch(() => undefined);
    return outcome;
  }

  private async recordFailure(job: Pick<Job, 'id' | 'attempt'>, actor: string, f: FailureInfo): Promise<'retried' | 'failed' | 'cancelled' | 'stale'> {
    // Cut to fit its column with room for what is added below ("; retrying (attempt ...)"),
    // so that the failure is always recorded, however long the task's error.
    f = { ...f, message: capText(f.message, TEXT_LIMITS.error - 200) };
    const current = await store.getJob(this.db, job.id);
    if (!current || current.status !== 'running' || current.attempt !== job.attempt) return 'stale';
    const now = this.now();
    if (current.cancelRequestedBy) {
      const ok = await store.finishJob(
        this.db,
        job.id,
        job.attempt,
        { status: 'cancelled', error: null },
        now,
        current.cancelRequestedBy,
        `cancelled by ${current.cancelRequestedBy}${f.lost ? ' (its worker was lost)' : ''}`,
      );
      if (ok) await afterEnded(this, [job]);
      return ok ? 'cancelled' : 'stale';
    }
    const attemptsLeft = current.attempt < current.maxAttempts;
    const retryable = !f.unrecoverable && !f.permanent && (f.lost || f.transient || (f.retryBackoffMs ?? null) !== null);
    if (attemptsLeft && retryable) {
      const base = f.lost ? 0 : f.transient ? TRANSIENT_RETRY_MS : (f.retryBackoffMs as number);
      const delay = base * 2 ** (current.attempt - 1);
      const ok = await store.requeueRunning(
        this.db,
        job.id,
        job.attempt,
        { runAfter: delay > 0 ? now + delay : null, error: f.message },
        now,
        'retried',
        actor,
        `${f.message}; retrying (attempt ${current.attempt + 1} of ${current.maxAttempts})` +
          (delay > 0 ? ` in ${Math.round(delay / 100) / 10} s` : ''),
      );
      if (ok && delay === 0) await this.dispatch([{ id: job.id, task: current.task, priority: current.priority, attempt: current.attempt }]);
      return ok ? 'retried' : 'stale';
    }
    const reason =
      (f.lost || f.transient) && !attemptsLeft
        ? `${f.message} (attempt ${current.attempt} of ${current.maxAttempts}; no attempts left)`
        : f.message;
    const finish = {
      status: 'failed' as const,
      error: reason,
      failureKind: f.permanent ? ('input' as const) : null,
      // Set, or cleared: an earlier attempt's result is not this failure's.
      resultSummary: capOptional(f.result?.summary, TEXT_LIMITS.resultSummary) ?? null,
      resultFile: f.result?.file?.stored ?? null,
      resultName: f.result?.file?.downloadName ?? null,
    };
    // Pause on failure is decided in the failure's own transaction (and audited there).
    const ok = await store.finishJob(this.db, job.id, job.attempt, finish, now, actor, reason, { task: current.task });
    if (ok) await afterEnded(this, [job]);
    if (ok === 'paused') this.log.warn(`processing paused automatically after job ${job.id} failed`);
    return ok ? 'failed' : 'stale';
  }

  /** A stopping worker gives its job back; the hand-back does not use up an attempt. */
  async handBack(job: Pick<Job, 'id' | 'attempt' | 'task' | 'priority'>, workerId: string, reason: string): Promise<boolean> {
    const ok = await store.requeueRunning(
      this.db,
      job.id,
      job.attempt,
      { runAfter: null, error: null, extraAttempt: true },
      this.now(),
      'requeued',
      workerId,
      reason,
    );
    if (ok) await this.dispatch([{ id: job.id, task: job.task, priority: job.priority, attempt: job.attempt }]);
    return ok;
  }

  /** A cancelled running job, once its child has stopped. */
  async finishCancelled(job: Pick<Job, 'id' | 'attempt'>, by: string): Promise<boolean> {
    const ok = (await store.finishJob(this.db, job.id, job.attempt, { status: 'cancelled' }, this.now(), by, `cancelled by ${by}`)) !== false;
    if (ok) await afterEnded(this, [job]);
    return ok;
  }

  async progress(
    job: Pick<Job, 'id' | 'attempt'>,
    current: number | null,
    total: number | null,
    text: string | null,
    steps?: ProgressStep[],
  ): Promise<boolean> {
    return store.setProgress(this.db, job.id, job.attempt, { current, total, text: capOptional(text, TEXT_LIMITS.progressText), steps });
  }

  /** Several chunks of output at once, in order, in one transaction; false for a stale attempt. */
  async appendOutputParts(
    job: Pick<Job, 'id' | 'attempt'>,
    parts: store.OutputPart[],
    opts: { truncated?: boolean; allowFinal?: boolean } = {},
  ): Promise<boolean> {
    return store.appendOutputParts(this.db, job.id, job.attempt, parts, this.now(), opts);
  }

  // ---- people's actions ----------------------------------------------------------

  async get(id: number): Promise<Job> {
    const job = await store.getJob(this.db, id);
    if (!job) throw new NotFoundError(`job ${id} does not exist`);
    return job;
  }

  /** Cancel: a queued job never starts; a running one is stopped by its worker. */
  async cancel(id: number, actor: string): Promise<'cancelled' | 'cancel-requested'> {
    // A running job may go back to queued between the two updates (retried, recovered
    // from a lost worker, handed back): then the first one matches on the next round.
    for (let round = 0; ; round++) {
      if (await store.cancelQueued(this.db, id, this.now(), actor)) {
        await afterEnded(this, [{ id }]);
        return 'cancelled';
      }
      if (await store.requestCancel(this.db, id, this.now(), actor)) return 'cancel-requested';
      const job = await this.get(id);
      if (job.status === 'running' && job.cancelRequestedBy) return 'cancel-requested';
      if (job.status !== 'queued' || round >= 2) {
        throw new ConflictError(`job ${id} is ${job.status}; only queued or running jobs can be cancelled`);
      }
    }
  }

  /** A new attempt of a failed or cancelled job, its history kept. */
  async retry(id: number, actor: string): Promise<Job> {
    const job = await this.get(id);
    if (job.status === 'failed' && job.failureKind === 'input') {
      throw new ConflictError(`job ${id} cannot be retried: ${NO_RETRY_TEXT}; correct it and run a new job`);
    }
    if (!(await store.requeueFinal(this.db, id, this.now(), actor))) {
      throw new ConflictError(`job ${id} is ${job.status}; only failed or cancelled jobs can be retried`);
    }
    if (job.resultFile) await this.files.delete(job.resultFile).catch(() => undefined);
    await this.dispatch([{ id, task: job.task, priority: job.priority, attempt: job.attempt }]);
    await afterRetried(this, job);
    return this.get(id);
  }

  /**
   * Enqueues a job whose parameters name an upload put in the store with `jobId: null`:
   * the upload becomes the job's (cleared with it). If the job cannot be made, or the
   * request joined another job, the upload is removed rather than left to the sweep.
   */
  async enqueueWithUpload(req: NewJob, fileId: string): Promise<EnqueueResult> {
    let result: EnqueueResult;
    try {
      result = await this.enqueue(req, fileId);
    } catch (err) {
      await this.files.delete(fileId).catch(() => undefined);
      throw err;
    }
    if (result.joined) await this.files.delete(fileId).catch(() => undefined);
    else await this.files.assign(fileId, result.job.id);
    return result;
  }

  /** Cancels every queued job (running ones go on) and empties the broker's queues. */
  async clearQueue(actor: string): Promise<number> {
    let n = 0;
    for (;;) {
      const ids = await store.queuedIds(this.db, 500);
      if (ids.length === 0) break;
      n += await store.cancelQueuedMany(this.db, ids, this.now(), actor);
    }
    if (this.transport) await this.transport.purge(listTasks().map((t) => t.name)).catch(() => undefined);
    return n;
  }

  // ---- processing switches ---------------------------------------------------------

  async isPaused(): Promise<boolean> {
    return (await getSetting(this.db, 'paused')) === '1';
  }

  async setPaused(paused: boolean, why: string): Promise<void> {
    await setSetting(this.db, 'paused', paused ? '1' : '0');
    await setSetting(this.db, 'paused_reason', paused ? why : '');
  }

  async pauseOnFailure(): Promise<boolean> {
    return (await getSetting(this.db, 'pause_on_failure')) === '1';
  }

}
