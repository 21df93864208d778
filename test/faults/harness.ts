/**
 * What every fault scenario needs: workers as separate processes (killed and replaced
 * at will), a steady submitter that survives outages, and the count at the end, read
 * from the jobs database (the truth) and from the probe's marks (what really ran).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../../app/context.js';
import type { Db } from '../../app/db.js';
import type { NewJob } from '../../app/types.js';
import { PROBE_MARKS } from './tasks.js';

export const ROOT = join(import.meta.dirname, '..', '..');
const DOCKET = join(ROOT, 'cli', 'docket.ts');

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every process the suite started and that still runs: killed if the suite is interrupted. */
export const started = new Set<ChildProcess>();

/** Remembers a process until it exits. */
export function track(proc: ChildProcess): ChildProcess {
  started.add(proc);
  proc.once('exit', () => started.delete(proc));
  return proc;
}

/** Runs `fn` until it succeeds (e.g. through a database restart), for up to `ms`. */
export async function persist<T>(fn: () => Promise<T>, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > end) throw err;
      await sleep(250);
    }
  }
}

/** One scenario's one check, beyond the four common counts. */
export interface Check {
  what: string;
  ok: boolean;
  detail?: string;
}

/** A row of a scenario's table: one backend's run. */
export interface Row {
  backend: string;
  submitted: number;
  completed: number;
  failed: number;
  cancelled: number;
  lost: number;
  completedTwice: number;
  /** Longest a job stayed `running` after its worker (or child) died; null when none died. */
  maxStuckMs: number | null;
  /** Jobs that stayed `running` longer than the limit after their worker died. */
  stuck: number;
  /** Attempts whose work ran to its end but whose job then ran again (at-least-once). */
  reran: number;
  seconds: number;
  checks: Check[];
  error?: string;
  /** Why it did not run, when that is allowed (no cluster here, services not required). */
  skipped?: string;
  /** Cluster scenarios: from the fault (a node's death, the cluster back) to the first job completed after it. */
  deathToFirstMs?: number | null;
  /** Cluster scenarios: jobs the lost-message check published again. */
  republished?: number;
}

export function missed(r: Row): string[] {
  const m: string[] = [];
  if (r.skipped) return m;
  if (r.error) m.push(r.error);
  if (r.lost) m.push(`${r.lost} lost`);
  if (r.completedTwice) m.push(`${r.completedTwice} completed twice`);
  if (r.stuck) m.push(`${r.stuck} stuck`);
  for (const c of r.checks) if (!c.ok) m.push(`${c.what}${c.detail ? ` (${c.detail})` : ''}`);
  return m;
}

// ---- workers as processes ----------------------------------------------------------

interface WorkerProc {
  proc: ChildProcess;
  pid: number;
  ready: boolean;
  exited: boolean;
}

/** When each worker process (by pid) and child process was SIGKILLed. */
export interface KillLog {
  workers: Map<number, number>;
  children: Array<{ workerPid: number; at: number }>;
}

/**
 * Worker processes as an operator runs them (`docket worker --concurrency N`), with the
 * scenario's environment. Their stderr goes to a log file in the scenario's folder.
 */
export class Fleet {
  readonly procs = new Map<number, WorkerProc>();
  readonly kills: KillLog = { workers: new Map(), children: [] };
  private log: WriteStream;
  private spawned = 0;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly args: string[],
    logFile: string,
  ) {
    this.log = createWriteStream(logFile, { flags: 'a' });
  }

  /** Starts one worker; resolves when it takes jobs (or rejects if it exits first). */
  spawnWorker(timeoutMs = 60_000): Promise<WorkerProc> {
    const proc = track(
      spawn(process.execPath, ['--import', 'tsx', DOCKET, 'worker', ...this.args], {
        env: this.env,
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const n = ++this.spawned;
    const w: WorkerProc = { proc, pid: proc.pid as number, ready: false, exited: false };
    this.procs.set(w.pid, w);
    proc.stderr!.on('data', (b: Buffer) => this.log.write(`[worker ${n} pid ${w.pid}] ${b.toString()}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker ${w.pid} did not start within ${timeoutMs / 1000} s`)), timeoutMs);
      proc.stdout!.on('data', (b: Buffer) => {
        if (!w.ready && b.toString().includes('is taking')) {
          w.ready = true;
          clearTimeout(timer);
          resolve(w);
        }
      });
      proc.once('exit', (code, signal) => {
        w.exited = true;
        this.procs.delete(w.pid);
        this.log.write(`[worker ${n} pid ${w.pid}] exited (${signal ?? code})\n`);
        clearTimeout(timer);
        if (!w.ready) reject(new Error(`worker ${w.pid} exited (${signal ?? code}) before it took jobs`));
      });
    });
  }

  async start(count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, () => this.spawnWorker()));
  }

  get ready(): WorkerProc[] {
    return [...this.procs.values()].filter((w) => w.ready && !w.exited);
  }

  /** SIGKILLs a random ready worker and starts a replacement; false when none is ready. */
  killWorker(replace = true): boolean {
    const live = this.ready;
    if (live.length === 0) return false;
    return this.killPid(live[Math.floor(Math.random() * live.length)].pid, replace);
  }

  /** SIGKILLs the ready worker `pid` and starts a replacement; false when it is not one. */
  killPid(pid: number, replace = true): boolean {
    const w = this.procs.get(pid);
    if (!w || !w.ready || w.exited) return false;
    this.kills.workers.set(w.pid, Date.now());
    w.proc.kill('SIGKILL');
    if (replace) this.spawnWorker().catch((e: Error) => this.log.write(`replacement failed: ${e.message}\n`));
    return true;
  }

  /** SIGKILLs a random child process of a random worker; false when none was found. */
  killChild(): boolean {
    const live = this.ready;
    for (const w of live.sort(() => Math.random() - 0.5)) {
      const kids = childPids(w.pid);
      if (kids.length === 0) continue;
      const pid = kids[Math.floor(Math.random() * kids.length)];
      try {
        process.kill(pid, 'SIGKILL');
        this.kills.children.push({ workerPid: w.pid, at: Date.now() });
        return true;
      } catch {
        // It ended on its own meanwhile.
      }
    }
    return false;
  }

  /** Graceful stop (SIGTERM: running jobs finish or are handed back), SIGKILL after `ms`. */
  async stop(ms = 20_000): Promise<void> {
    const all = [...this.procs.values()].filter((w) => !w.exited);
    await Promise.all(
      all.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exited) return resolve();
            const timer = setTimeout(() => w.proc.kill('SIGKILL'), ms);
            w.proc.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            w.proc.kill('SIGTERM');
          }),
      ),
    );
    await new Promise((r) => this.log.end(r));
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The process id inside a worker id (`host-pid-hex`). */
export function pidOfWorker(workerId: string | null): number | null {
  const m = workerId ? /-(\d+)-[0-9a-f]{6}$/.exec(workerId) : null;
  return m ? Number(m[1]) : null;
}

// ---- submitting ---------------------------------------------------------------------

export interface Submitter {
  /** Ids the service returned (the client's view of what it submitted). */
  ids: number[];
  /** Submissions refused with an error and tried again (e.g. while the database was down). */
  refused: number;
  done: Promise<void>;
  stop(): void;
}

/**
 * Submits `count` jobs at `perSecond`, one request each, as clients would. A refused
 * submission (the database is down) is tried again after a pause, like a client that
 * got an error page. `onEach` runs after each accepted job.
 */
export function submit(
  ctx: Context,
  count: number,
  perSecond: number,
  make: (i: number) => NewJob,
  onEach?: (i: number, id: number) => void | Promise<void>,
): Submitter {
  const s: Submitter = { ids: [], refused: 0, done: Promise.resolve(), stop: () => (stopped = true) };
  let stopped = false;
  const started = Date.now();
  s.done = (async () => {
    for (let i = 0; i < count && !stopped; i++) {
      const due = started + (i * 1000) / perSecond;
      if (due > Date.now()) await sleep(due - Date.now());
      for (;;) {
        try {
          const { job } = await ctx.service.enqueue(make(i));
          s.ids.push(job.id);
          await onEach?.(i, job.id);
          break;
        } catch {
          s.refused++;
          if (stopped) return;
          await sleep(500);
        }
      }
    }
  })();
  return s;
}

/** Waits until every job is in a final state; false if some were not by `deadline`. */
export async function settle(db: Db, deadline: number): Promise<boolean> {
  for (;;) {
    const open = await persist(async () => {
      const r = (await db('jobs').whereIn('status', ['queued', 'running']).count({ n: '*' })) as Array<{ n: number | string }>;
      return Number(r[0].n);
    }).catch(() => -1);
    if (open === 0) return true;
    if (Date.now() > deadline) return false;
    await sleep(500);
  }
}

// ---- counting -------------------------------------------------------------------------

interface EventRow {
  job_id: number;
  at: number;
  type: string;
  attempt: number;
  actor: string;
  message: string | null;
}

export interface Counted {
  submitted: number;
  completed: number;
  failed: number;
  cancelled: number;
  lost: number;
  completedTwice: number;
  maxStuckMs: number | null;
  stuck: number;
  reran: number;
  /** What became of the first few lost jobs (status, attempt, worker, last events). */
  lostDetail: string[];
  /** Job ids in each state, for scenario checks. */
  byStatus: Map<string, number[]>;
  events: Map<number, EventRow[]>;
  jobs: Map<number, { status: string; error: string | null; startedAt: number | null; attempt: number; task: string }>;
}

const END_TYPES = new Set(['retried', 'requeued', 'failed', 'cancelled', 'completed']);

/**
 * The counts of one run. A job is lost when it is neither completed, nor failed with a
 * reason, nor cancelled (still queued or running at the end, or failed without a reason),
 * or when the submitter got its id but the database has no such row. For every attempt
 * whose worker (or child) was killed while it ran, "stuck" is how long the job then
 * stayed `running`: from the kill to the event that ended that attempt (or until now).
 */
export async function count(ctx: Context, accepted: number[], kills: KillLog | null, stuckLimitMs: number): Promise<Counted> {
  const db = ctx.db;
  const jobRows = (await persist(() =>
    db('jobs').select('id', 'status', 'error', 'started_at', 'attempt', 'task'),
  )) as Array<{ id: number; status: string; error: string | null; started_at: number | null; attempt: number; task: string }>;
  const eventRows = (await persist(() => db('job_events').select('job_id', 'at', 'type', 'attempt', 'actor', 'message').orderBy('id', 'asc'))) as EventRow[];
  const jobs = new Map(
    jobRows.map((r) => [
      Number(r.id),
      { status: r.status, error: r.error, startedAt: r.started_at === null ? null : Number(r.started_at), attempt: Number(r.attempt), task: r.task },
    ]),
  );
  const events = new Map<number, EventRow[]>();
  for (const e of eventRows) {
    const id = Number(e.job_id);
    const list = events.get(id) ?? [];
    list.push({ ...e, job_id: id, at: Number(e.at), attempt: Number(e.attempt) });
    events.set(id, list);
  }
  const byStatus = new Map<string, number[]>();
  let lost = 0;
  let completed = 0;
  let failed = 0;
  let cancelled = 0;
  for (const [id, j] of jobs) {
    byStatus.set(j.status, [...(byStatus.get(j.status) ?? []), id]);
    if (j.status === 'completed') completed++;
    else if (j.status === 'failed' && j.error) failed++;
    else if (j.status === 'cancelled') cancelled++;
    else lost++;
  }
  const lostDetail: string[] = [];
  for (const [id, j] of jobs) {
    if (j.status === 'completed' || j.status === 'cancelled' || (j.status === 'failed' && j.error)) continue;
    if (lostDetail.length >= 3) break;
    const last = (events.get(id) ?? []).slice(-3).map((e) => `${e.type}#${e.attempt} by ${e.actor}`);
    lostDetail.push(`job ${id} ${j.status} (attempt ${j.attempt}; ${last.join(', ')})`);
  }
  for (const id of accepted) {
    if (jobs.has(id)) continue;
    lost++;
    if (lostDetail.length < 3) lostDetail.push(`job ${id} accepted but not in the database`);
  }

  let completedTwice = 0;
  for (const list of events.values()) if (list.filter((e) => e.type === 'completed').length > 1) completedTwice++;

  // Stuck: per attempt, the kill of its worker (or of a child of its worker) to its end.
  let maxStuckMs: number | null = null;
  let stuck = 0;
  const now = Date.now();
  if (kills && (kills.workers.size > 0 || kills.children.length > 0)) {
    for (const list of events.values()) {
      for (const started of list.filter((e) => e.type === 'started')) {
        const pid = pidOfWorker(started.actor);
        if (pid === null) continue;
        const end = list.find((e) => e.attempt === started.attempt && END_TYPES.has(e.type) && e.at >= started.at);
        const endAt = end?.at ?? now;
        let killedAt = kills.workers.get(pid) ?? null;
        if (killedAt !== null && (killedAt < started.at || killedAt > endAt)) killedAt = null;
        if (killedAt === null && end?.message?.includes('killed by SIGKILL')) {
          // A child killed under a living worker: the latest child kill before the end.
          const k = kills.children.filter((c) => c.workerPid === pid && c.at >= started.at && c.at <= endAt).pop();
          killedAt = k?.at ?? null;
        }
        if (killedAt === null) continue;
        const ms = endAt - killedAt;
        maxStuckMs = Math.max(maxStuckMs ?? 0, ms);
        if (ms > stuckLimitMs) stuck++;
      }
    }
    maxStuckMs ??= 0;
  }

  // Re-runs: the probe's marks show attempts whose work ran to the end.
  let reran = 0;
  const marksDir = join(ctx.config.resultsDir, PROBE_MARKS);
  if (existsSync(marksDir)) {
    const perJob = new Map<number, number>();
    for (const f of readdirSync(marksDir)) {
      const id = Number(f.split('.')[0]);
      perJob.set(id, (perJob.get(id) ?? 0) + 1);
    }
    for (const n of perJob.values()) if (n > 1) reran += n - 1;
  }

  return {
    submitted: Math.max(jobs.size, accepted.length),
    completed,
    failed,
    cancelled,
    lost,
    completedTwice,
    maxStuckMs,
    stuck,
    reran,
    lostDetail,
    byStatus,
    events,
    jobs,
  };
}

/** The common part of a row, from a count. */
export function rowOf(backend: string, c: Counted, startedAt: number, checks: Check[]): Row {
  return {
    backend,
    submitted: c.submitted,
    completed: c.completed,
    failed: c.failed,
    cancelled: c.cancelled,
    lost: c.lost,
    completedTwice: c.completedTwice,
    maxStuckMs: c.maxStuckMs,
    stuck: c.stuck,
    reran: c.reran,
    seconds: Math.round((Date.now() - startedAt) / 1000),
    checks: c.lostDetail.length ? [...checks, { what: 'lost jobs', ok: false, detail: c.lostDetail.join('; ') }] : checks,
  };
}

/** A row for a run that could not run here, and need not. */
export function skippedRow(backend: string, why: string): Row {
  return { ...brokenRow(backend, Date.now(), ''), error: undefined, skipped: why };
}

/** A row for a run that broke, or could not run, before it could count. */
export function brokenRow(backend: string, startedAt: number, why: unknown): Row {
  return {
    backend,
    submitted: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    lost: 0,
    completedTwice: 0,
    maxStuckMs: null,
    stuck: 0,
    reran: 0,
    seconds: Math.round((Date.now() - startedAt) / 1000),
    checks: [],
    error: typeof why === 'string' ? why : `broke: ${(why as Error)?.message ?? String(why)}`,
  };
}
