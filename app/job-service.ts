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
import { rm } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Config } from './config.js';
import type { Db } from './db.js';
import { BadRequestError, ConflictError, NotFoundError } from './errors.js';
import { afterEnded, afterRetried } from './groups/chains.js';
import type { Logger } from './logger.js';
import { assertMayRun, mayJoin } from './policy.js';
import { clearInactive, type ClearedJobs } from './store/job-list.js';
import { findJoinable } from './store/job-unique.js';
import * as store from './store/jobs.js';
import { capOptional, capText, TEXT_LIMITS } from './store/limits.js';
import { getSetting, setSetting } from './store/settings.js';
import * as workerRows from './store/workers.js';
import { getTask, listTasks, requireTask, validateParams } from './tasks/index.js';
import type { Transport } from './transports/transport.js';
import { PRIORITIES, type Job, type NewJob, type ProgressStep } from './types.js';

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

export interface FailureInfo {
  message: string;
  /** Fail now, whatever attempts remain. */
  unrecoverable?: boolean;
  /** The worker vanished (lease expired or broker saw it die): retry if attempts remain. */
  lost?: boolean;
  /** Retry this failure after this many ms (the task's retry policy), if attempts remain. */
  retryBackoffMs?: number | null;
}

/** Jobs not confirmed by the broker within this long are published again by the dispatcher. */
const DISPATCH_GRACE_MS = 3000;
/** Publishing one message must not hold a web request longer than this. */
const PUBLISH_TIMEOUT_MS = 2000;

export class JobService {
  readonly actorName = `${hostname()}:${process.pid}`;
  /** Jobs this process's dispatcher published again since it started (GET /metrics). */
  republished = 0;

  constructor(
    readonly db: Db,
    readonly config: Config,
    readonly transport: Transport | null,
    readonly log: Logger,
  ) {}

  now(): number {
    return Date.now();
  }

  // ---- creating jobs -------------------------------------------------------------

  /** Checks a request (task, permission, parameters, size, priority) into a row to insert. */
  prepare(req: NewJob, now: number) {
    const def = requireTask(req.task);
    assertMayRun(def, req.origin === 'cli' ? null : (req.user ?? null));
    const params = validateParams(def, req.params);
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

  async enqueue(req: NewJob): Promise<EnqueueResult> {
    const { def, params, row, actor } = this.prepare(req, this.now());
    const uniqueKey = (await def.uniqueKey?.(params, this.db)) ?? null;
    row.uniqueKey = uniqueKey;
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
        return { job: existing, joined: true, dispatched: existing.dispatchedAt !== null };
      }
    }
    const id = await store.insertJob(this.db, row, actor);
    const dispatched = await this.dispatch([{ id, task: def.name, priority: row.priority, attempt: 0 }]);
    const job = (await store.getJob(this.db, id)) as Job;
    return { job, joined: false, dispatched: dispatched.length === 1 };
  }

  /**
   * Publishes and records the confirmed ones; never throws (the dispatcher retries).
   * `attempt` is the job's attempt as it is published: see `store.markDispatched`.
   */
  async dispatch(items: Array<{ id: number; task: string; priority: number; attempt?: number }>): Promise<number[]> {
    if (!this.transport) return [];
    if (!this.transport.confirmsDispatch) {
      this.transport.nudge();
      return items.map((i) => i.id);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<number[]>((resolve) => {
      timer = setTimeout(() => resolve([]), PUBLISH_TIMEOUT_MS);
    });
    const confirmed = await Promise.race([this.transport.publish(items), timeout]);
    clearTimeout(timer);
    if (confirmed.length > 0) {
      const attempts = new Map(items.map((i) => [i.id, i.attempt ?? null]));
      this.markLater(confirmed.map((id) => ({ id, attempt: attempts.get(id) ?? null })));
    }
    return confirmed;
  }

  private marks: store.DispatchMark[] = [];
  private markTimer: NodeJS.Timeout | null = null;

  /**
   * Confirmed ids are marked dispatched in one UPDATE every 20 ms rather than one per job:
   * the mark only keeps the dispatcher from publishing a job again, so it is off the
   * request's path. A mark lost with a crash means one duplicate delivery, which the
   * claim drops.
   */
  private markLater(marks: store.DispatchMark[]): void {
    this.marks.push(...marks);
    this.markTimer ??= setTimeout(() => void this.flushMarks(), 20);
  }

  async flushMarks(): Promise<void> {
    if (this.markTimer) clearTimeout(this.markTimer);
    this.markTimer = null;
    const marks = this.marks.splice(0);
    for (let i = 0; i < marks.length; i += 1000) {
      try {
        await store.markDispatched(this.db, marks.slice(i, i + 1000), this.now());
      } catch (err) {
        this.log.warn(`could not mark jobs dispatched: ${String(err)}`);
      }
    }
  }

  /** The dispatcher's round: publish queued jobs the broker never confirmed. */
  async dispatchPending(limit = 500): Promise<number> {
    if (!this.transport?.confirmsDispatch || this.transport.state() !== 'up') return 0;
    const now = this.now();
    const items = await store.undispatched(this.db, now, now - DISPATCH_GRACE_MS, limit);
    if (items.length === 0) return 0;
    const done = await this.dispatch(items);
    this.republished += done.length;
    if (done.length) this.log.info(`dispatched ${done.length} waiting job(s)`);
    return done.length;
  }

  /**
   * Bulk enqueue: the jobs and their `queued` events in one transaction, then one
   * publish batch. Unique keys are not coalesced here (a bulk load of distinct work);
   * a task with a unique key must go through `enqueue`. Returns the ids in order and
   * how many the broker confirmed (the dispatcher publishes the rest later).
   */
  async enqueueMany(reqs: NewJob[]): Promise<{ ids: number[]; dispatched: number }> {
    const now = this.now();
    const rows: store.InsertJob[] = [];
    const actors = new Set<string>();
    for (const req of reqs) {
      const { def, row, actor } = this.prepare(req, now);
      if (def.uniqueKey) throw new BadRequestError(`the task "${def.name}" coalesces by unique key; enqueue it alone`);
      actors.add(actor);
      rows.push(row);
    }
    if (actors.size > 1) throw new BadRequestError('a bulk enqueue is on behalf of one user');
    const ids = await store.insertJobs(this.db, rows, [...actors][0] ?? 'Command line');
    let dispatched = 0;
    // Slices keep one publish batch (and its confirms) to a bounded size.
    for (let i = 0; i < ids.length; i += 5000) {
      const items = ids.slice(i, i + 5000).map((id, k) => ({ id, task: rows[i + k].task, priority: rows[i + k].priority, attempt: 0 }));
      dispatched += (await this.dispatch(items)).length;
    }
    return { ids, dispatched };
  }

  // ---- a worker's side -----------------------------------------------------------

  /**
   * queued → running for this worker, several in one transaction (a worker with several
   * free slots); a job someone else has, or that is gone, is left out.
   */
  async claimMany(ids: number[], workerId: string): Promise<Job[]> {
    return store.claimJobs(this.db, ids, workerId, this.now(), this.config.leaseMs);
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
    const retryable = !f.unrecoverable && (f.lost || (f.retryBackoffMs ?? null) !== null);
    if (attemptsLeft && retryable) {
      const base = f.lost ? 0 : (f.retryBackoffMs as number);
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
      f.lost && !attemptsLeft
        ? `${f.message} (attempt ${current.attempt} of ${current.maxAttempts}; no attempts left)`
        : f.message;
    const ok = await store.finishJob(this.db, job.id, job.attempt, { status: 'failed', error: reason }, now, actor, reason);
    if (ok) await afterEnded(this, [job]);
    if (ok && (await this.pauseOnFailure())) {
      await this.setPaused(true, `paused automatically: job ${job.id} failed`);
      this.log.warn(`processing paused automatically after job ${job.id} failed`);
    }
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
    const ok = await store.finishJob(this.db, job.id, job.attempt, { status: 'cancelled' }, this.now(), by, `cancelled by ${by}`);
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

  // ---- recovery ------------------------------------------------------------------

  /** Retries or fails running jobs whose lease ran out. Safe to run in many processes. */
  async reapExpired(): Promise<number> {
    const expired = await store.expiredLeases(this.db, this.now(), 200);
    let n = 0;
    for (const job of expired) {
      const outcome = await this.fail(job, this.actorName, {
        message: `worker lost: ${job.workerId ?? 'unknown'} stopped renewing its lease`,
        lost: true,
      });
      if (outcome !== 'stale') {
        n++;
        this.log.warn(`recovered job ${job.id} from lost worker ${job.workerId}: ${outcome}`);
      }
    }
    return n;
  }

  /** Recovers the running jobs of workers known to be dead (the broker saw them go). */
  async recoverWorkers(workerIds: string[]): Promise<number> {
    const jobs = await store.runningOfWorkers(this.db, workerIds);
    let n = 0;
    for (const job of jobs) {
      const outcome = await this.fail(job, this.actorName, {
        message: `worker lost: ${job.workerId ?? 'unknown'} disconnected from the broker`,
        lost: true,
      });
      if (outcome !== 'stale') n++;
    }
    return n;
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
    if (!(await store.requeueFinal(this.db, id, this.now(), actor))) {
      throw new ConflictError(`job ${id} is ${job.status}; only failed or cancelled jobs can be retried`);
    }
    await this.dispatch([{ id, task: job.task, priority: job.priority, attempt: job.attempt }]);
    await afterRetried(this, job);
    return this.get(id);
  }

  /**
   * Deletes inactive jobs in `scope` (see `clearScope` in policy.ts) and what they leave
   * behind: their result files, and the files their tasks say their parameters own (an
   * import's upload). Returns how many jobs went.
   */
  async clearInactive(scope: { userId: number | null; includeCommandLine: boolean }): Promise<number> {
    const cleared = await clearInactive(this.db, scope, (task) => getTask(task)?.files !== undefined);
    await this.removeClearedFiles(cleared);
    return cleared.cleared;
  }

  /**
   * Removes the files of cleared jobs. Only files under the results folder are removed,
   * whatever a task declares. A file that cannot be removed is logged.
   */
  private async removeClearedFiles(cleared: ClearedJobs): Promise<void> {
    const remove = async (path: string, what: string) => {
      await rm(path, { force: true }).catch((err: unknown) => this.log.warn(`cannot remove ${what} ${path}: ${String(err)}`));
    };
    const results = resolve(this.config.resultsDir);
    for (const file of cleared.files) {
      if (!file.includes('/') && !file.includes('\\')) await remove(join(results, file), 'result');
    }
    for (const job of cleared.owners) {
      for (const file of getTask(job.task)?.files?.(job.params, results) ?? []) {
        const rel = relative(results, resolve(file));
        if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) await remove(resolve(file), `file of a ${job.task} job`);
      }
    }
    // The output mirrored on this host (logs/jobs/<id>.log): a cleared job's output goes
    // with it. Workers on other hosts keep their own copies.
    for (const id of cleared.ids) await remove(join(this.config.jobLogDir, `${id}.log`), 'job log');
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

  // ---- a worker's presence and leases (workers/ calls these; nothing else does) ------

  /** A starting worker's row: what it runs and how many at once (`docket workers` lists it). */
  async registerWorker(w: { id: string; abilities: string[]; concurrency: number }): Promise<void> {
    await workerRows.registerWorker(this.db, { ...w, host: hostname(), pid: process.pid, now: this.now() });
  }

  /**
   * A worker's heartbeat: extends the leases of its jobs (those it runs and those it
   * claimed ahead), then marks it alive with how many jobs it runs. Leases go first:
   * they keep its jobs from being recovered elsewhere.
   */
  async heartbeat(workerId: string, jobIds: number[], running: number): Promise<void> {
    const now = this.now();
    await store.renewLeases(this.db, workerId, jobIds, now + this.config.leaseMs);
    await workerRows.heartbeatWorker(this.db, workerId, running, now);
  }

  /** The jobs the database says this worker runs, with their attempts and cancel requests. */
  async jobsHeldBy(workerId: string): Promise<Array<{ id: number; attempt: number; cancelRequestedBy: string | null }>> {
    return store.runningOfWorker(this.db, workerId);
  }

  /** A worker said goodbye: shown as stopped rather than lost. */
  async unregisterWorker(workerId: string): Promise<void> {
    await workerRows.stopWorker(this.db, workerId, this.now());
  }
}
