/**
 * The jobs page's own reads. They never count or sort a whole table: keyset pages on
 * `id` (which follows queue order), light columns only, and counts capped at 10,000.
 */
import type { Knex } from 'knex';
import type { Db } from '../db.js';
import { FINAL_STATUSES, TAB_STATUSES, type JobStatus, type JobSummary, type Tab } from '../types.js';
import { SUMMARY_COLUMNS, rowToSummary } from './jobs.js';
import { deleteFinalJobs, emptyCleared, type ClearedJobs } from './job-delete.js';
import { clearableCounts } from './job-subjects.js';

export type { ClearedJobs } from './job-delete.js';

export const COUNT_CAP = 10_000;

export interface ListQuery {
  tab: Tab;
  /** Only this owner's jobs (an archivist); null for everyone's. */
  userId: number | null;
  /** Administrators' filter by owner; `Command line` means jobs without a user. */
  username?: string | null;
  task?: string | null;
  status?: JobStatus | null;
  /** Newest first (default) or oldest first. */
  order?: 'desc' | 'asc';
  /** Keyset cursor: the last id of the previous page. */
  after?: number | null;
  /** Keyset cursor backwards: the first id of the page after the one wanted. */
  before?: number | null;
  /** Default 50; 0 means no limit (CLI). */
  limit?: number;
}

function scoped(db: Db, q: Omit<ListQuery, 'order' | 'after' | 'limit'>): Knex.QueryBuilder {
  const b = db('jobs');
  if (q.userId !== null) b.where('user_id', q.userId);
  const tabStatuses = TAB_STATUSES[q.tab];
  if (q.status) {
    if (tabStatuses && !tabStatuses.includes(q.status)) b.whereRaw('1 = 0');
    else b.where('status', q.status);
  } else if (tabStatuses) {
    if (tabStatuses.length === 1) b.where('status', tabStatuses[0]);
    else b.whereIn('status', tabStatuses as JobStatus[]);
  }
  if (q.task) b.where('task', q.task);
  if (q.username) {
    if (q.username === 'Command line') b.whereNull('user_id');
    else b.where('username', q.username);
  }
  return b;
}

export interface JobPage {
  jobs: JobSummary[];
  /** Cursor for the next page (`after`), or null on the last one. */
  next: number | null;
  /** Cursor for the previous page (`before`), or null on the first one. */
  prev: number | null;
}

export const EMPTY_PAGE: JobPage = { jobs: [], next: null, prev: null };

/**
 * One keyset page. `before` reads the page that precedes a cursor: the same index walked
 * the other way, then put back in the page's order.
 */
export async function listJobs(db: Db, q: ListQuery): Promise<JobPage> {
  const order = q.order ?? 'desc';
  const limit = q.limit ?? 50;
  const back = Boolean(q.before) && !q.after;
  const b = scoped(db, q).select(...SUMMARY_COLUMNS);
  if (q.after) b.where('id', order === 'desc' ? '<' : '>', q.after);
  else if (q.before) b.where('id', order === 'desc' ? '>' : '<', q.before);
  b.orderBy('id', back ? (order === 'desc' ? 'asc' : 'desc') : order);
  if (limit > 0) b.limit(limit + 1);
  const rows = (await b) as Array<Record<string, unknown>>;
  const more = limit > 0 && rows.length > limit;
  const jobs = (more ? rows.slice(0, limit) : rows).map(rowToSummary);
  if (back) {
    jobs.reverse();
    // The page read backwards ends where the cursor's page began: that one follows it.
    return { jobs, next: jobs.length ? jobs[jobs.length - 1].id : null, prev: more ? jobs[0].id : null };
  }
  // A page reached with `after` has the pages it came from before it.
  return { jobs, next: more ? jobs[jobs.length - 1].id : null, prev: q.after && jobs.length ? jobs[0].id : null };
}

/** What the CSV export writes of a job: the columns it reads, nothing more. */
export type ExportJob = Pick<
  JobSummary,
  'id' | 'task' | 'status' | 'username' | 'queuedAt' | 'startedAt' | 'finishedAt' | 'progressText' | 'resultSummary' | 'error'
> & {
  /** The job's group (envelope), if it was submitted in one. */
  group: { id: number; name: string } | null;
};

const EXPORT_COLUMNS = ['id', 'task', 'status', 'username', 'queued_at', 'started_at', 'finished_at', 'progress_text', 'result_summary', 'error', 'group_id'];

const orNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * One keyset page of the CSV export: the same jobs, order and cursor as `listJobs`, with
 * only the exported columns read (fewer values for the driver to parse and keep).
 */
export async function exportPage(db: Db, q: Omit<ListQuery, 'limit'>, limit: number): Promise<{ jobs: ExportJob[]; next: number | null }> {
  const order = q.order ?? 'desc';
  const b = scoped(db, q).select(EXPORT_COLUMNS);
  if (q.after) b.where('id', order === 'desc' ? '<' : '>', q.after);
  const rows = (await b.orderBy('id', order).limit(limit + 1)) as Array<Record<string, unknown>>;
  const more = rows.length > limit;
  const n = more ? limit : rows.length;
  const jobs: ExportJob[] = new Array<ExportJob>(n);
  // The groups' names in one read per page, for the pages that hold grouped jobs only:
  // a join would put job_groups in the export's keyset plan.
  const groupIds = new Set<number>();
  for (let i = 0; i < n; i++) if (rows[i].group_id !== null && rows[i].group_id !== undefined) groupIds.add(Number(rows[i].group_id));
  const names = new Map<number, string>();
  if (groupIds.size > 0) {
    for (const g of (await db('job_groups').select('id', 'name').whereIn('id', [...groupIds])) as Array<Record<string, unknown>>) names.set(Number(g.id), String(g.name));
  }
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    const gid = r.group_id === null || r.group_id === undefined ? null : Number(r.group_id);
    jobs[i] = {
      id: Number(r.id),
      task: String(r.task),
      status: r.status as JobStatus,
      username: (r.username as string | null) ?? null,
      queuedAt: Number(r.queued_at),
      startedAt: orNull(r.started_at),
      finishedAt: orNull(r.finished_at),
      progressText: (r.progress_text as string | null) ?? null,
      resultSummary: (r.result_summary as string | null) ?? null,
      error: (r.error as string | null) ?? null,
      // A group removed since (its jobs cleared one by one) still shows its number.
      group: gid === null ? null : { id: gid, name: names.get(gid) ?? '' },
    };
  }
  return { jobs, next: more ? jobs[n - 1].id : null };
}

/** A count that stops at `cap` (shown as "10,000+"). */
export async function countJobs(
  db: Db,
  q: Omit<ListQuery, 'order' | 'after' | 'limit'>,
  cap = COUNT_CAP,
): Promise<{ count: number; capped: boolean }> {
  const inner = scoped(db, q).select(db.raw('1 as x')).limit(cap + 1);
  const r = (await db.count({ n: '*' }).from(inner.as('t')).first()) as { n: number | string };
  const n = Number(r.n);
  return { count: Math.min(n, cap), capped: n > cap };
}

export interface Summary {
  all: { count: number; capped: boolean };
  active: { count: number; capped: boolean };
  failed: { count: number; capped: boolean };
}

/** How long a scope's summary counts are reused: the auto-refresh period's worth. */
export const SUMMARY_TTL_MS = 3000;
const summaries = new WeakMap<Db, Map<string, { at: number; value: Promise<Summary> }>>();

/**
 * "12 jobs: 2 active, 1 failed" for one owner or everyone. The three capped counts are
 * most of a page's database time (each may read 10,001 index entries), so a scope's
 * counts are computed once per few seconds and shared by every request in between,
 * including concurrent ones; the list itself is always read fresh.
 */
export async function summarize(db: Db, userId: number | null, now = Date.now()): Promise<Summary> {
  let cache = summaries.get(db);
  if (!cache) summaries.set(db, (cache = new Map()));
  const key = String(userId);
  const hit = cache.get(key);
  if (hit && now - hit.at < SUMMARY_TTL_MS) return hit.value;
  const value = Promise.all([
    countJobs(db, { tab: 'all', userId }),
    countJobs(db, { tab: 'active', userId }),
    countJobs(db, { tab: 'failed', userId }),
  ]).then(([all, active, failed]) => ({ all, active, failed }));
  cache.set(key, { at: now, value });
  // A failed count is not kept.
  value.catch(() => cache.delete(key));
  if (cache.size > 1000) cache.delete(cache.keys().next().value as string);
  return value;
}

type Clearable = { jobs: number; files: number; capped: boolean };
const clearables = new WeakMap<Db, Map<string, { at: number; value: Promise<Clearable> }>>();

/**
 * The jobs page's "Clear inactive jobs" figures for a scope, capped at COUNT_CAP and
 * shared for SUMMARY_TTL_MS like the summary (the confirmation page counts exactly).
 */
export async function clearableSummary(db: Db, scope: ClearScope, now = Date.now()): Promise<Clearable> {
  let cache = clearables.get(db);
  if (!cache) clearables.set(db, (cache = new Map()));
  const key = `${scope.userId}:${scope.includeCommandLine}`;
  const hit = cache.get(key);
  if (hit && now - hit.at < SUMMARY_TTL_MS) return hit.value;
  const value = clearableCounts(db, scope, COUNT_CAP);
  cache.set(key, { at: now, value });
  value.catch(() => cache.delete(key));
  if (cache.size > 1000) cache.delete(cache.keys().next().value as string);
  return value;
}

/** Forgets cached counts (after a clear, so the page that follows shows the new figures). */
export function forgetSummaries(db: Db): void {
  summaries.delete(db);
  clearables.delete(db);
}

/**
 * Deletes inactive (completed, failed, cancelled) jobs of an owner, and command-line
 * jobs when asked, with their events and output, 1,000 at a time. Running and queued jobs
 * are never touched. Returns the count and the files to remove (see `deleteFinalJobs`).
 */
type ClearScope = { userId: number | null; includeCommandLine: boolean };

/** The jobs a clear in `scope` may remove (see `clearScope` in policy.ts). */
function inClearScope(w: Knex.QueryBuilder, scope: ClearScope): void {
  if (scope.userId !== null) w.where('user_id', scope.userId);
  else if (!scope.includeCommandLine) w.whereNotNull('user_id');
  else w.whereRaw('1 = 1');
  if (scope.userId !== null && scope.includeCommandLine) w.orWhereNull('user_id');
}

/**
 * The result files a clear in `scope` would remove (finding aids, exports), newest first,
 * at most `limit`, and how many there are in all: the confirmation names them.
 */
export async function clearableResults(
  db: Db,
  scope: ClearScope,
  limit = 20,
): Promise<{ total: number; items: Array<{ id: number; task: string; name: string }> }> {
  const base = () => db('jobs').whereIn('status', FINAL_STATUSES as JobStatus[]).whereNotNull('result_file').where((w) => inClearScope(w, scope));
  const rows = (await base().orderBy('id', 'desc').limit(limit).select('id', 'task', 'result_name', 'result_file')) as Array<{
    id: number;
    task: string;
    result_name: string | null;
    result_file: string;
  }>;
  const [count] = (await base().count({ n: '*' })) as Array<{ n: number | string }>;
  return { total: Number(count.n), items: rows.map((r) => ({ id: Number(r.id), task: r.task, name: r.result_name ?? r.result_file })) };
}

export async function clearInactive(
  db: Db,
  scope: { userId: number | null; includeCommandLine: boolean },
  ownsFiles: (task: string) => boolean = () => false,
): Promise<ClearedJobs> {
  const out = emptyCleared();
  for (;;) {
    const b = db('jobs').whereIn('status', FINAL_STATUSES as JobStatus[]);
    b.where((w) => inClearScope(w, scope));
    const ids = (await b.orderBy('id', 'asc').limit(1000).pluck('id')).map(Number);
    if (ids.length === 0) break;
    await deleteFinalJobs(db, ids, ownsFiles, out);
    forgetSummaries(db);
    if (ids.length < 1000) break;
  }
  return out;
}
