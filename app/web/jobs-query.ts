/**
 * Reading the jobs page's query (tab, filters, sort, cursor) the same way for the page,
 * its CSV export and the API, and turning it into a `ListQuery` that respects the
 * permission policy. Also the job lookup every job route uses: another user's job is a
 * 404 for an archivist, never a 403.
 */
import type { Request } from 'express';
import type { Context } from '../context.js';
import type { Db } from '../db.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import { assertMayRun, canDiscard, canSee, isAdmin, listScope, type Actor } from '../policy.js';
import type { ListQuery } from '../store/job-list.js';
import { getJob } from '../store/jobs.js';
import { getSetting } from '../store/settings.js';
import { findUser } from '../store/users.js';
import { listWorkers } from '../store/workers.js';
import { JOB_STATUSES, STATUS_LABELS, TABS, TAB_STATUSES, type Job, type JobStatus, type Tab } from '../types.js';
import { getTask } from '../tasks/index.js';
import { cursorParam, queryValue } from './http.js';
import type { QueueState } from './present.js';
import { ShortCache } from './short-cache.js';

export const PAGE_SIZE = 50;
export const COMMAND_LINE = 'Command line';

export interface JobFilter {
  tab: Tab;
  task: string | null;
  status: JobStatus | null;
  /** Administrators only: a username, or "Command line". */
  user: string | null;
  order: 'desc' | 'asc';
  /** Keyset cursors: the page after one id, or the page before one. */
  after: number | null;
  before: number | null;
}

function pick<T extends string>(raw: string | null, allowed: readonly T[], name: string, fallback: T): T {
  if (raw === null || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new BadRequestError(`${name} must be one of ${allowed.join(', ')}, not "${raw.slice(0, 40)}"`);
  }
  return raw as T;
}

/**
 * A status by its name or by the label the pages show ("Error" is `failed`), in any
 * case; empty means any status.
 */
function statusParam(raw: string | null): JobStatus | null {
  const v = raw?.trim().toLowerCase() ?? '';
  if (v === '') return null;
  const found = JOB_STATUSES.find((s) => s === v || STATUS_LABELS[s].toLowerCase() === v);
  if (found) return found;
  const labels = JOB_STATUSES.map((s) => (STATUS_LABELS[s].toLowerCase() === s ? s : `${s} (${STATUS_LABELS[s]})`));
  throw new BadRequestError(`status must be one of ${labels.join(', ')}, not "${raw?.slice(0, 40)}"`);
}

/** The filter from `?tab=&task=&status=&user=&order=&after=|before=`; bad values are a 400. */
export function parseJobFilter(req: Request, actor: Actor): JobFilter {
  const tab = pick(queryValue(req, 'tab'), TABS, 'tab', 'all');
  const task = queryValue(req, 'task')?.trim() || null;
  if (task && task.length > 64) throw new BadRequestError('task must be at most 64 characters');
  let status = statusParam(queryValue(req, 'status'));
  // A status outside the tab (e.g. Completed on Failed) would only ever show nothing.
  const inTab = TAB_STATUSES[tab];
  if (status && inTab && !inTab.includes(status)) status = null;
  const user = isAdmin(actor) ? queryValue(req, 'user')?.trim() || null : null;
  if (user && user.length > 100) throw new BadRequestError('user must be at most 100 characters');
  const order = pick(queryValue(req, 'order'), ['desc', 'asc'] as const, 'order', 'desc');
  const after = cursorParam(queryValue(req, 'after'));
  const before = cursorParam(queryValue(req, 'before'), 'before');
  if (after && before) throw new BadRequestError('give "after" or "before", not both');
  return { tab, task, status, user, order, after, before };
}

/**
 * The list query for this actor, or null when the filter can match nothing (an unknown
 * user). The owner filter goes through the user's id, which is indexed with the status
 * and id, rather than the username column, which is not.
 */
export async function listQueryFor(
  ctx: Context,
  f: JobFilter,
  actor: Actor,
): Promise<Omit<ListQuery, 'after' | 'before' | 'limit'> | null> {
  let { userId } = listScope(actor);
  let username: string | null = null;
  if (userId === null && f.user) {
    if (f.user.toLowerCase() === COMMAND_LINE.toLowerCase()) username = COMMAND_LINE;
    else {
      const u = await findUser(ctx.db, f.user);
      if (!u) return null;
      userId = u.id;
    }
  }
  return { tab: f.tab, userId, username, task: f.task, status: f.status, order: f.order };
}

/**
 * The filter as a query string, with some values changed (links for tabs, sort, pages).
 * The page cursors are kept only when the change names one.
 */
export function filterQuery(f: JobFilter, change: Partial<JobFilter> = {}): string {
  const cursor = 'after' in change || 'before' in change;
  const v = { ...f, ...(cursor ? { after: null, before: null } : {}), ...change };
  const p = new URLSearchParams();
  p.set('tab', v.tab);
  if (v.task) p.set('task', v.task);
  if (v.status) p.set('status', v.status);
  if (v.user) p.set('user', v.user);
  if (v.order !== 'desc') p.set('order', v.order);
  if (v.after) p.set('after', String(v.after));
  else if (v.before) p.set('before', String(v.before));
  return p.toString();
}

/**
 * How long the pause switch and the list of active workers are reused by this process.
 * Every jobs page (and its auto refresh) shows them, and they are the same for everyone;
 * a pause or resume through this process is shown at once (`forgetQueueState`), one
 * made elsewhere (the command line, another web process, a worker pausing on failure)
 * within this time.
 */
export const QUEUE_STATE_TTL_MS = 1000;
const queueStates = new WeakMap<Db, ShortCache<'queue', Omit<QueueState, 'brokerUp'>>>();

async function readQueueState(ctx: Context): Promise<Omit<QueueState, 'brokerUp'>> {
  const [paused, reason, workers] = await Promise.all([
    ctx.service.isPaused(),
    getSetting(ctx.db, 'paused_reason'),
    listWorkers(ctx.db, Date.now(), ctx.config.heartbeatMs),
  ]);
  const abilities = new Set<string>();
  for (const w of workers) if (w.state === 'active') for (const a of w.abilities) abilities.add(a);
  return { paused, pausedReason: paused ? reason || null : null, abilities };
}

/** Paused? Broker up? Which tasks have a worker? (Explains why queued jobs wait.) */
export async function queueState(ctx: Context): Promise<QueueState> {
  let cache = queueStates.get(ctx.db);
  if (!cache) queueStates.set(ctx.db, (cache = new ShortCache(QUEUE_STATE_TTL_MS)));
  const s = await cache.get('queue', () => readQueueState(ctx));
  // The transport's own state costs nothing to read: always the current one.
  return { ...s, brokerUp: ctx.transport.state() === 'up' };
}

/** After a pause or resume: the next page reads the switch again. */
export function forgetQueueState(ctx: Context): void {
  queueStates.get(ctx.db)?.forget();
}

/** The job, if this actor may see it; otherwise 404, whether it exists or not. */
export async function visibleJob(ctx: Context, actor: Actor, id: number): Promise<Job> {
  const job = await getJob(ctx.db, id);
  if (!job || !canSee(actor, job)) throw new NotFoundError('No such job');
  return job;
}

/**
 * A retry starts the task again, so it needs the same permission as starting it: an
 * archivist may not retry an administrators-only task's job run in her name from the
 * command line (403). A task no longer registered is left to the service to refuse.
 */
export function assertMayRetryTask(actor: Actor, job: Pick<Job, 'task'>): void {
  const def = getTask(job.task);
  if (def) assertMayRun(def, actor);
}

/** Whether the retry button is shown: the same check, as a yes or no. */
export function mayRetryTask(actor: Actor, job: Pick<Job, 'task'>): boolean {
  try {
    assertMayRetryTask(actor, job);
    return true;
  } catch {
    return false;
  }
}

/**
 * Discarding a visible job (the caller has checked that): a queued or running job is a
 * conflict (409); a finished job outside the user's clear scope (an administrator and
 * another user's job) is forbidden (403).
 */
export function assertMayDiscard(actor: Actor, job: Pick<Job, 'id' | 'userId' | 'status'>): void {
  if (job.status === 'queued' || job.status === 'running') {
    throw new ConflictError(`Job ${job.id} is ${STATUS_LABELS[job.status]}; cancel it first: only finished jobs can be discarded.`);
  }
  if (!canDiscard(actor, job)) throw new ForbiddenError(`Job ${job.id} belongs to another user; only they may discard it.`);
}
