/**
 * Every SQL statement about jobs, their events and their output. Routes, workers and
 * the CLI call these named functions and never build SQL of their own. Each state
 * change is a conditional UPDATE, so two processes racing for one job cannot both win.
 */
import { isSqlite, writeTransaction, type Db } from '../db.js';
import { marks, rawTransaction, type RawQuery } from './raw.js';
import type {
  Job,
  JobEvent,
  JobEventType,
  JobOrigin,
  JobStatus,
  JobSummary,
  OutputChunk,
  OutputStream,
} from '../types.js';

type Row = Record<string, unknown>;

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function rowToJob(r: Row): Job {
  return {
    id: Number(r.id),
    task: String(r.task),
    params: typeof r.params === 'string' ? (JSON.parse(r.params) as Record<string, unknown>) : {},
    status: r.status as JobStatus,
    priority: Number(r.priority),
    userId: num(r.user_id),
    username: (r.username as string | null) ?? null,
    origin: r.origin as JobOrigin,
    uniqueKey: (r.unique_key as string | null) ?? null,
    attempt: Number(r.attempt),
    maxAttempts: Number(r.max_attempts),
    workerId: (r.worker_id as string | null) ?? null,
    leaseExpiresAt: num(r.lease_expires_at),
    queuedAt: Number(r.queued_at),
    dispatchedAt: num(r.dispatched_at),
    runAfter: num(r.run_after),
    startedAt: num(r.started_at),
    finishedAt: num(r.finished_at),
    progressCurrent: num(r.progress_current),
    progressTotal: num(r.progress_total),
    progressText: (r.progress_text as string | null) ?? null,
    resultSummary: (r.result_summary as string | null) ?? null,
    resultFile: (r.result_file as string | null) ?? null,
    resultName: (r.result_name as string | null) ?? null,
    objectRef: (r.object_ref as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    cancelRequestedBy: (r.cancel_requested_by as string | null) ?? null,
    outputBytes: Number(r.output_bytes ?? 0),
    outputTruncated: Boolean(Number(r.output_truncated ?? 0)),
  };
}

/** The light columns of the jobs page: never params or output. */
export const SUMMARY_COLUMNS = [
  'id',
  'task',
  'status',
  'priority',
  'user_id',
  'username',
  'origin',
  'attempt',
  'queued_at',
  'started_at',
  'finished_at',
  'progress_current',
  'progress_total',
  'progress_text',
  'result_summary',
  'result_file',
  'object_ref',
  'error',
] as const;

export function rowToSummary(r: Row): JobSummary {
  return {
    id: Number(r.id),
    task: String(r.task),
    status: r.status as JobStatus,
    priority: Number(r.priority),
    userId: num(r.user_id),
    username: (r.username as string | null) ?? null,
    origin: r.origin as JobOrigin,
    attempt: Number(r.attempt),
    queuedAt: Number(r.queued_at),
    startedAt: num(r.started_at),
    finishedAt: num(r.finished_at),
    progressCurrent: num(r.progress_current),
    progressTotal: num(r.progress_total),
    progressText: (r.progress_text as string | null) ?? null,
    resultSummary: (r.result_summary as string | null) ?? null,
    resultFile: (r.result_file as string | null) ?? null,
    objectRef: (r.object_ref as string | null) ?? null,
    error: (r.error as string | null) ?? null,
  };
}

export interface InsertJob {
  task: string;
  params: Record<string, unknown>;
  priority: number;
  userId: number | null;
  username: string | null;
  origin: JobOrigin;
  uniqueKey: string | null;
  maxAttempts: number;
  objectRef: string | null;
  now: number;
}

/** The `jobs` row of a new, queued job. */
function jobRow(j: InsertJob): Row {
  return {
    task: j.task,
    params: JSON.stringify(j.params),
    status: 'queued',
    priority: j.priority,
    user_id: j.userId,
    username: j.username,
    origin: j.origin,
    unique_key: j.uniqueKey,
    attempt: 0,
    max_attempts: j.maxAttempts,
    queued_at: j.now,
    object_ref: j.objectRef,
  };
}

/** Inserts a queued job and its `queued` event in one transaction; returns the id. */
export async function insertJob(db: Db, j: InsertJob, actor: string): Promise<number> {
  // Plain SQL (raw.ts): every single enqueue pays for this before its job is published.
  const row = jobRow(j);
  const cols = Object.keys(row);
  return rawTransaction(db, async (q) => {
    const { insertId } = await q(`insert into jobs (${cols.join(', ')}) values (${marks(cols.length)})`, Object.values(row));
    await insertEventsRaw(q, [[insertId, j.now, 'queued', 0, actor, null]]);
    return insertId;
  });
}

export async function getJob(db: Db, id: number): Promise<Job | null> {
  const r = (await db('jobs').where({ id }).first()) as Row | undefined;
  return r ? rowToJob(r) : null;
}

/** An unfinished job with this unique key, if any (Gearman's unique-key coalescing). */
export async function findActiveByUniqueKey(db: Db, key: string): Promise<Job | null> {
  const r = (await db('jobs')
    .where({ unique_key: key })
    .whereIn('status', ['queued', 'running'])
    .orderBy('id', 'asc')
    .first()) as Row | undefined;
  return r ? rowToJob(r) : null;
}

export async function addEvent(
  db: Db,
  e: { jobId: number; type: JobEventType; attempt: number; actor: string; message?: string | null; at: number },
): Promise<void> {
  await db('job_events').insert({
    job_id: e.jobId,
    at: e.at,
    type: e.type,
    attempt: e.attempt,
    actor: e.actor,
    message: e.message ?? null,
  });
}

export async function listEvents(db: Db, jobId: number): Promise<JobEvent[]> {
  const rows = (await db('job_events').where({ job_id: jobId }).orderBy('id', 'asc')) as Row[];
  return rows.map((r) => ({
    id: Number(r.id),
    jobId: Number(r.job_id),
    at: Number(r.at),
    type: r.type as JobEventType,
    attempt: Number(r.attempt),
    actor: String(r.actor),
    message: (r.message as string | null) ?? null,
  }));
}

/** A confirmed publish: the job, and its attempt when it was published (null: unknown). */
export interface DispatchMark {
  id: number;
  attempt: number | null;
}

/**
 * Marks jobs as handed to the broker (the dispatcher skips them from then on). Not only
 * queued ones: a fast worker may have claimed the job before this write. But a job that
 * was claimed since this publish (its attempt went up) and is queued again (a retry
 * with backoff) has no message in the broker: marking it would leave it waiting forever.
 */
export async function markDispatched(db: Db, marks: DispatchMark[], now: number): Promise<void> {
  if (marks.length === 0) return;
  const byAttempt = new Map<number | null, number[]>();
  for (const m of marks) {
    const ids = byAttempt.get(m.attempt) ?? [];
    ids.push(m.id);
    byAttempt.set(m.attempt, ids);
  }
  await db('jobs')
    .whereNull('dispatched_at')
    .where((q) => {
      for (const [attempt, ids] of byAttempt) {
        q.orWhere((one) => {
          one.whereIn('id', ids);
          if (attempt !== null) one.where((a) => a.where('attempt', attempt).orWhereNot('status', 'queued'));
        });
      }
    })
    .update({ dispatched_at: now });
}

/** Queued jobs no broker has confirmed yet, whose time has come. */
export async function undispatched(
  db: Db,
  now: number,
  olderThan: number,
  limit: number,
): Promise<Array<{ id: number; task: string; priority: number; attempt: number }>> {
  const rows = (await db('jobs')
    .select('id', 'task', 'priority', 'attempt')
    .where({ status: 'queued' })
    .whereNull('dispatched_at')
    .where('queued_at', '<=', olderThan)
    .where((q) => q.whereNull('run_after').orWhere('run_after', '<=', now))
    .orderBy('id', 'asc')
    .limit(limit)) as Row[];
  return rows.map((r) => ({ id: Number(r.id), task: String(r.task), priority: Number(r.priority), attempt: Number(r.attempt) }));
}

/** Ids of queued jobs of these tasks that may start now, best first (the db transport). */
export async function claimableIds(db: Db, tasks: string[], now: number, limit: number): Promise<number[]> {
  if (tasks.length === 0 || limit <= 0) return [];
  const rows = (await db('jobs')
    .select('id')
    .where({ status: 'queued' })
    .whereIn('task', tasks)
    .where((q) => q.whereNull('run_after').orWhere('run_after', '<=', now))
    .orderBy([
      { column: 'priority', order: 'desc' },
      { column: 'id', order: 'asc' },
    ])
    .limit(limit)) as Row[];
  return rows.map((r) => Number(r.id));
}

/**
 * Claim: queued → running, attempt + 1, with the worker and its lease. One conditional
 * UPDATE; a duplicate or stale delivery matches no row and returns null.
 */
export async function claimJob(
  db: Db,
  id: number,
  workerId: string,
  now: number,
  leaseMs: number,
): Promise<Job | null> {
  return (await claimJobs(db, [id], workerId, now, leaseMs))[0] ?? null;
}

/**
 * Claims several jobs in one transaction: one UPDATE for all, one SELECT, one multi-row
 * INSERT of their `started` events. Ids another worker took first (or duplicates) are
 * simply not in the result.
 */
export async function claimJobs(
  db: Db,
  ids: number[],
  workerId: string,
  now: number,
  leaseMs: number,
): Promise<Job[]> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return [];
  // One transaction: one commit (one fsync on InnoDB) for the whole batch. Plain SQL on
  // a pooled connection (raw.ts): this runs for every job a worker takes.
  return rawTransaction(db, async (q) => {
    const { affected } = await q(
      `update jobs set status = 'running', attempt = attempt + 1, worker_id = ?, lease_expires_at = ?,
         started_at = ?, finished_at = null, error = null,
         progress_current = null, progress_total = null, progress_text = null
       where id in (${marks(unique.length)}) and status = 'queued' and (run_after is null or run_after <= ?)`,
      [workerId, now + leaseMs, now, ...unique, now],
    );
    if (affected === 0) return [];
    // Ours are the ones running for this worker since this very claim.
    const { rows } = await q(
      `select * from jobs where id in (${marks(unique.length)}) and status = 'running' and worker_id = ? and started_at = ?
       order by priority desc, id asc`,
      [...unique, workerId, now],
    );
    const jobs = rows.map(rowToJob);
    if (jobs.length) await insertEventsRaw(q, jobs.map((j) => [j.id, now, 'started', j.attempt, workerId, null]));
    return jobs;
  });
}

/** One multi-row INSERT of events: [job_id, at, type, attempt, actor, message] each. */
async function insertEventsRaw(q: RawQuery, events: Array<[number, number, JobEventType, number, string, string | null]>): Promise<void> {
  const values = events.map(() => '(?, ?, ?, ?, ?, ?)').join(', ');
  await q(`insert into job_events (job_id, at, type, attempt, actor, message) values ${values}`, events.flat());
}

export interface Completion {
  id: number;
  attempt: number;
  resultSummary: string | null;
  resultFile: string | null;
  resultName: string | null;
  objectRef: string | null;
}

/**
 * Completes several running attempts in one transaction (one commit), each with the
 * same fencing as `finishJob`. Returns the ids that were completed; a stale one is left out.
 */
export async function completeJobs(db: Db, items: Completion[], now: number, actor: string): Promise<Set<number>> {
  if (items.length === 0) return new Set();
  // Most completions carry no result (noop-like jobs never do): one UPDATE for all of
  // them. If any turns out stale, the whole transaction is rolled back and redone row by
  // row below, which tells exactly which ones were refused.
  if (items.every((c) => !c.resultSummary && !c.resultFile && !c.resultName && !c.objectRef)) {
    const ids = items.map((c) => c.id);
    const all = await rawTransaction(db, async (q) => {
      // `id IN (...)` keeps the statement on the primary key (MariaDB does not
      // range-optimise a row-constructor IN); the CASE fences each row to its attempt.
      const { affected } = await q(
        `update jobs set status = 'completed', finished_at = ?, lease_expires_at = null, error = null,
           result_summary = null, result_file = null, result_name = null,
           progress_current = coalesce(progress_total, progress_current)
         where id in (${marks(ids.length)}) and status = 'running'
           and attempt = case id ${items.map(() => 'when ? then ?').join(' ')} end`,
        [now, ...ids, ...items.flatMap((c) => [c.id, c.attempt])],
      );
      if (affected !== items.length) throw new StaleInBatch();
      await insertEventsRaw(q, items.map((c) => [c.id, now, 'completed', c.attempt, actor, null]));
      return new Set(ids);
    }).catch((err: unknown) => {
      if (err instanceof StaleInBatch) return null;
      throw err;
    });
    if (all) return all;
  }
  return db.transaction(async (trx) => {
    const done = new Set<number>();
    for (const c of items) {
      const patch: Row = {
        status: 'completed',
        finished_at: now,
        lease_expires_at: null,
        error: null,
        result_summary: c.resultSummary,
        result_file: c.resultFile,
        result_name: c.resultName,
        progress_current: db.raw('coalesce(progress_total, progress_current)'),
      };
      if (c.objectRef) patch.object_ref = c.objectRef;
      const n = await trx('jobs').where({ id: c.id, attempt: c.attempt, status: 'running' }).update(patch);
      if (n === 1) done.add(c.id);
    }
    const events = items
      .filter((c) => done.has(c.id))
      .map((c) => ({ job_id: c.id, at: now, type: 'completed', attempt: c.attempt, actor, message: c.resultSummary }));
    if (events.length) await trx('job_events').insert(events);
    return done;
  });
}

/** A batch held a stale completion: redo it row by row. */
class StaleInBatch extends Error {}

export interface Finish {
  status: 'completed' | 'failed' | 'cancelled';
  error?: string | null;
  resultSummary?: string | null;
  resultFile?: string | null;
  resultName?: string | null;
  objectRef?: string | null;
}

/**
 * running → final, only for the attempt that is running: a zombie's finish (an older
 * attempt, or a job already recovered) changes nothing and returns false.
 */
export async function finishJob(
  db: Db,
  id: number,
  attempt: number,
  f: Finish,
  now: number,
  actor: string,
  message: string | null,
): Promise<boolean> {
  return db.transaction(async (trx) => {
    const patch: Row = {
      status: f.status,
      finished_at: now,
      lease_expires_at: null,
      error: f.error ?? null,
    };
    if (f.resultSummary !== undefined) patch.result_summary = f.resultSummary;
    if (f.resultFile !== undefined) patch.result_file = f.resultFile;
    if (f.resultName !== undefined) patch.result_name = f.resultName;
    if (f.objectRef !== undefined && f.objectRef !== null) patch.object_ref = f.objectRef;
    if (f.status === 'completed') {
      // A completed job's progress is complete, whatever the task last reported.
      patch.progress_current = db.raw('coalesce(progress_total, progress_current)');
    }
    const n = await trx('jobs').where({ id, attempt, status: 'running' }).update(patch);
    if (n !== 1) return false;
    await trx('job_events').insert({ job_id: id, at: now, type: f.status, attempt, actor, message });
    return true;
  });
}

/**
 * running → queued again (retry after a failure, a lost worker, or a worker handing its
 * job back on shutdown). `runAfter` delays the next attempt (backoff).
 */
export async function requeueRunning(
  db: Db,
  id: number,
  attempt: number,
  opts: { runAfter: number | null; error: string | null; extraAttempt?: boolean },
  now: number,
  type: JobEventType,
  actor: string,
  message: string,
): Promise<boolean> {
  return db.transaction(async (trx) => {
    const patch: Row = {
      status: 'queued',
      worker_id: null,
      lease_expires_at: null,
      dispatched_at: null,
      run_after: opts.runAfter,
      error: opts.error,
    };
    if (opts.extraAttempt) patch.max_attempts = db.raw('max_attempts + 1');
    const n = await trx('jobs').where({ id, attempt, status: 'running' }).update(patch);
    if (n !== 1) return false;
    await trx('job_events').insert({ job_id: id, at: now, type, attempt, actor, message });
    return true;
  });
}

/** A final job back to queued for a new attempt (manual retry); history is kept. */
export async function requeueFinal(db: Db, id: number, now: number, actor: string): Promise<boolean> {
  return writeTransaction(db, async (trx) => {
    const job = (await trx('jobs').where({ id }).first()) as Row | undefined;
    if (!job || !['failed', 'cancelled'].includes(String(job.status))) return false;
    const attempt = Number(job.attempt);
    const n = await trx('jobs')
      .where({ id })
      .whereIn('status', ['failed', 'cancelled'])
      .update({
        status: 'queued',
        worker_id: null,
        lease_expires_at: null,
        dispatched_at: null,
        run_after: null,
        finished_at: null,
        error: null,
        cancel_requested_by: null,
        // A manual retry always gets at least one more attempt.
        max_attempts: db.raw('case when max_attempts > attempt then max_attempts else attempt + 1 end'),
      });
    if (n !== 1) return false;
    await trx('job_events').insert({
      job_id: id,
      at: now,
      type: 'retried',
      attempt,
      actor,
      message: `retried by ${actor}`,
    });
    return true;
  });
}

/**
 * Lease renewal for the running jobs a worker holds; returns how many were renewed.
 * By primary key: a range over the worker's index entries takes next-key locks on
 * InnoDB that the same worker's claims and completions wait on (and deadlock with),
 * and it would keep renewing a job the worker no longer runs, which then never ends.
 */
export async function renewLeases(db: Db, workerId: string, ids: number[], until: number): Promise<number> {
  if (ids.length === 0) return 0;
  return db('jobs').whereIn('id', ids).where({ worker_id: workerId, status: 'running' }).update({ lease_expires_at: until });
}

export async function runningOfWorker(
  db: Db,
  workerId: string,
): Promise<Array<{ id: number; attempt: number; cancelRequestedBy: string | null }>> {
  const rows = (await db('jobs')
    .select('id', 'attempt', 'cancel_requested_by')
    .where({ worker_id: workerId, status: 'running' })) as Row[];
  return rows.map((r) => ({
    id: Number(r.id),
    attempt: Number(r.attempt),
    cancelRequestedBy: (r.cancel_requested_by as string | null) ?? null,
  }));
}

/** Running jobs whose lease ran out (their worker is gone or hung). */
export async function expiredLeases(db: Db, now: number, limit: number): Promise<Job[]> {
  const rows = (await db('jobs')
    .where({ status: 'running' })
    .where('lease_expires_at', '<', now)
    .orderBy('lease_expires_at', 'asc')
    .limit(limit)) as Row[];
  return rows.map(rowToJob);
}

/** Running jobs held by any of these workers (for recovery of a worker known dead). */
export async function runningOfWorkers(db: Db, workerIds: string[]): Promise<Job[]> {
  if (workerIds.length === 0) return [];
  const rows = (await db('jobs').where({ status: 'running' }).whereIn('worker_id', workerIds)) as Row[];
  return rows.map(rowToJob);
}

export async function setProgress(
  db: Db,
  id: number,
  attempt: number,
  p: { current: number | null; total: number | null; text: string | null },
): Promise<boolean> {
  const n = await db('jobs')
    .where({ id, attempt, status: 'running' })
    .update({
      progress_current: p.current,
      progress_total: p.total,
      progress_text: p.text === null ? null : p.text.slice(0, 255),
    });
  return n === 1;
}

/** queued → cancelled at once: a queued job never starts. */
export async function cancelQueued(db: Db, id: number, now: number, actor: string): Promise<boolean> {
  return db.transaction(async (trx) => {
    const n = await trx('jobs').where({ id, status: 'queued' }).update({
      status: 'cancelled',
      finished_at: now,
      cancel_requested_by: actor,
      error: null,
    });
    if (n !== 1) return false;
    const r = (await trx('jobs').select('attempt').where({ id }).first()) as Row;
    await trx('job_events').insert({
      job_id: id,
      at: now,
      type: 'cancelled',
      attempt: Number(r.attempt),
      actor,
      message: `cancelled by ${actor} before it started`,
    });
    return true;
  });
}

/** A running job is asked to stop; its worker sees this at its next heartbeat. */
export async function requestCancel(db: Db, id: number, now: number, actor: string): Promise<boolean> {
  const n = await db('jobs').where({ id, status: 'running' }).whereNull('cancel_requested_by').update({
    cancel_requested_by: actor,
  });
  if (n !== 1) return false;
  const r = (await db('jobs').select('attempt').where({ id }).first()) as Row;
  await addEvent(db, {
    jobId: id,
    type: 'cancel-requested',
    attempt: Number(r.attempt),
    actor,
    message: `cancel requested by ${actor}`,
    at: now,
  });
  return true;
}

/** A chunk of a job's output: text (or its UTF-8 bytes), and its size in bytes as printed. */
export interface OutputPart {
  stream: OutputStream;
  text: string | Buffer;
  bytes: number;
}

/** Appends one chunk of output for the running attempt only (see appendOutputParts). */
export async function appendOutput(
  db: Db,
  id: number,
  attempt: number,
  stream: OutputStream,
  text: string,
  bytes: number,
  now: number,
  opts: { truncated?: boolean; allowFinal?: boolean } = {},
): Promise<boolean> {
  return appendOutputParts(db, id, attempt, [{ stream, text, bytes }], now, opts);
}

/**
 * Appends chunks of output, in order, for the running attempt only: one transaction,
 * one commit. The conditional UPDATE of the job's byte count is the fence: for a zombie
 * (an old attempt) or a job no longer running it matches nothing, and the chunks
 * inserted before it are rolled back unseen. It comes last, so the job's row is held
 * only for the commit, not while a megabyte of output goes in: progress, lease renewals
 * and the job's end do not wait for the output. On MySQL the statements are prepared
 * ones: a chunk travels unescaped, as UTF-8 bytes when given so (sent as they are).
 */
export async function appendOutputParts(
  db: Db,
  id: number,
  attempt: number,
  parts: OutputPart[],
  now: number,
  opts: { truncated?: boolean; allowFinal?: boolean } = {},
): Promise<boolean> {
  if (parts.length === 0) return true;
  const bytes = parts.reduce((n, p) => n + p.bytes, 0);
  const insert = 'insert into job_output (job_id, attempt, stream, chunk, at) values (?, ?, ?, ?, ?)';
  const update =
    `update jobs set output_bytes = output_bytes + ?${opts.truncated ? ', output_truncated = 1' : ''} ` +
    `where id = ? and attempt = ?${opts.allowFinal ? '' : " and status = 'running'"}`;
  const sqlite = isSqlite(db);
  try {
    // Prepared statements on MySQL: a megabyte of output travels as it is, unescaped.
    return await rawTransaction(
      db,
      async (q) => {
        for (const p of parts) {
          // A Buffer would be stored as a BLOB: SQLite keeps the type of what it is given.
          await q(insert, [id, attempt, p.stream, sqlite ? p.text.toString() : p.text, now]);
        }
        if ((await q(update, [bytes, id, attempt])).affected !== 1) throw new StaleAttempt();
        return true;
      },
      { prepared: true },
    );
  } catch (err) {
    if (err instanceof StaleAttempt) return false;
    throw err;
  }
}

/** Thrown to roll back a write for an attempt that is no longer running. */
class StaleAttempt extends Error {}

export async function readOutput(
  db: Db,
  jobId: number,
  afterId = 0,
  limit = 1000,
): Promise<OutputChunk[]> {
  const rows = (await db('job_output')
    .where({ job_id: jobId })
    .where('id', '>', afterId)
    .orderBy('id', 'asc')
    .limit(limit)) as Row[];
  return rows.map((r) => ({
    id: Number(r.id),
    jobId: Number(r.job_id),
    attempt: Number(r.attempt),
    stream: r.stream as OutputStream,
    text: String(r.chunk),
    at: Number(r.at),
  }));
}

export async function queuedIds(db: Db, limit: number): Promise<number[]> {
  return (await db('jobs').where({ status: 'queued' }).orderBy('id', 'asc').limit(limit).pluck('id')).map(Number);
}

/** Cancels many queued jobs at once; returns how many were still queued. */
export async function cancelQueuedMany(db: Db, ids: number[], now: number, actor: string): Promise<number> {
  return writeTransaction(db, async (trx) => {
    const still = (await trx('jobs').whereIn('id', ids).where({ status: 'queued' }).select('id', 'attempt')) as Row[];
    if (still.length === 0) return 0;
    const n = await trx('jobs')
      .whereIn('id', still.map((r) => Number(r.id)))
      .where({ status: 'queued' })
      .update({ status: 'cancelled', finished_at: now, cancel_requested_by: actor });
    await trx('job_events').insert(
      still.map((r) => ({
        job_id: Number(r.id),
        at: now,
        type: 'cancelled',
        attempt: Number(r.attempt),
        actor,
        message: `cancelled by ${actor} (queue cleared)`,
      })),
    );
    return n;
  });
}

/**
 * Inserts many queued jobs and their `queued` events in one transaction (bulk enqueue):
 * one multi-row INSERT per table and per slice, one commit. Returns the ids in order.
 *
 * The ids of a multi-row INSERT are read back as LAST_INSERT_ID() + i. That holds on
 * SQLite (one writer at a time) and on InnoDB unless `innodb_autoinc_lock_mode` is 2
 * ("interleaved"), where concurrent inserts may interleave ids; there each row is
 * inserted alone, still inside the one transaction.
 */
export async function insertJobs(db: Db, jobs: InsertJob[], actor: string): Promise<number[]> {
  if (jobs.length === 0) return [];
  const consecutive = isSqlite(db) || (await autoincConsecutive(db));
  return db.transaction(async (trx) => {
    const ids: number[] = [];
    // Keeps each statement well under max_allowed_packet and SQLite's variable limit.
    const slice = consecutive ? 500 : 1;
    for (let i = 0; i < jobs.length; i += slice) {
      const part = jobs.slice(i, i + slice);
      const rows = part.map(jobRow);
      const [first] = await trx('jobs').insert(rows);
      // MySQL returns the first id of the statement, SQLite the last.
      const base = isSqlite(db) ? Number(first) - part.length + 1 : Number(first);
      const partIds = part.map((_, k) => base + k);
      await trx('job_events').insert(
        part.map((j, k) => ({ job_id: partIds[k], at: j.now, type: 'queued', attempt: 0, actor, message: null })),
      );
      ids.push(...partIds);
    }
    return ids;
  });
}

let autoincMode: Promise<boolean> | null = null;

/** True unless InnoDB hands out interleaved auto-increment ids (lock mode 2). */
async function autoincConsecutive(db: Db): Promise<boolean> {
  autoincMode ??= db
    .raw('select @@innodb_autoinc_lock_mode as m')
    .then((res: unknown) => Number((res as Array<Array<{ m: number }>>)[0][0].m) !== 2)
    .catch(() => false);
  return autoincMode;
}
