/**
 * Bulk actions: cancel, retry or clear several jobs at once, for the jobs page and the
 * API. Each job is asked the same policy questions as its single action (policy.ts), so
 * a bulk action can never do what one click could not; a job the user may not act on is
 * skipped with its reason, never an error for the whole batch.
 */
import { auditRequest } from '../audit.js';
import type { Context } from '../context.js';
import { BadRequestError, HttpError } from '../errors.js';
import { canCancel, canDiscard, canRetry, canSee, type Actor } from '../policy.js';
import { listJobs } from '../store/job-list.js';
import { getJob } from '../store/jobs.js';
import { STATUS_LABELS, type Job, type User } from '../types.js';
import { mayRetryTask } from './jobs-query.js';

export const BULK_ACTIONS = ['cancel', 'retry', 'clear'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

/** Ids one request may name: a page holds 50; the API's pages at most 200. */
export const MAX_BULK_IDS = 500;

export interface BulkSkip {
  id: number;
  /** Why, in words that follow "it" ("is running", "is not among your jobs"). */
  reason: string;
}

export interface BulkResult {
  action: BulkAction;
  done: number[];
  skipped: BulkSkip[];
}

export function parseBulkAction(raw: unknown): BulkAction {
  if (typeof raw === 'string' && (BULK_ACTIONS as readonly string[]).includes(raw)) return raw as BulkAction;
  throw new BadRequestError(`action must be one of ${BULK_ACTIONS.join(', ')}`);
}

/** Job ids from a form (strings, one or many) or JSON (numbers or strings); duplicates go. */
export function parseBulkIds(raw: unknown): number[] {
  const list = raw === undefined || raw === null ? [] : Array.isArray(raw) ? (raw as unknown[]) : [raw];
  const ids = new Set<number>();
  for (const v of list) {
    const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim().replace(/^#/, '') : '';
    if (!/^[1-9]\d{0,14}$/.test(s)) throw new BadRequestError(`ids must be job numbers, such as 12; not "${String(v).slice(0, 20)}"`);
    ids.add(Number(s));
  }
  if (ids.size > MAX_BULK_IDS) throw new BadRequestError(`at most ${MAX_BULK_IDS} jobs at once; ${ids.size} were named`);
  return [...ids];
}

/** Why a job that failed on its own input is not retried (Job.failureKind). */
const ON_INPUT = 'failed on its input, which would only fail again';

/** Why `actor` may not do `action` to `job`, or null when they may. */
function refusal(actor: Actor, action: BulkAction, job: Job): string | null {
  const state = `is ${STATUS_LABELS[job.status].toLowerCase()}`;
  if (action === 'cancel') return canCancel(actor, job) ? null : state;
  if (action === 'retry') {
    if (!canRetry(actor, job)) return state;
    if (job.failureKind === 'input') return ON_INPUT;
    return mayRetryTask(actor, job) ? null : 'is a task for administrators only';
  }
  if (job.status === 'queued' || job.status === 'running') return state;
  return canDiscard(actor, job) ? null : "is another user's job";
}

type Request = { ip?: string; user?: { username: string } };

/**
 * Acts on each job in turn (in id order, so the audit trail reads in order). A job that
 * changed between the check and the act (another user cancelled it) is skipped with the
 * service's reason.
 */
export async function bulkAct(ctx: Context, req: Request, actor: User, action: BulkAction, ids: number[]): Promise<BulkResult> {
  const result: BulkResult = { action, done: [], skipped: [] };
  for (const id of [...ids].sort((x, y) => x - y)) {
    const job = await getJob(ctx.db, id);
    // A job the user may not see is "not found", as its single page would say (404).
    if (!job || !canSee(actor, job)) {
      result.skipped.push({ id, reason: 'is not among your jobs' });
      continue;
    }
    const no = refusal(actor, action, job);
    if (no) {
      result.skipped.push({ id, reason: no });
      continue;
    }
    try {
      if (action === 'cancel') {
        const outcome = await ctx.service.cancel(id, actor.username);
        await auditRequest(ctx, req, 'job.cancel', `job ${id}`, { detail: `${outcome}, bulk` });
      } else if (action === 'retry') {
        await ctx.service.retry(id, actor.username);
        await auditRequest(ctx, req, 'job.retry', `job ${id}`, { detail: 'bulk' });
      } else {
        await ctx.service.cleanup.discard(id);
        await auditRequest(ctx, req, 'job.discard', `job ${id}`, { detail: `${job.task}, ${job.status}, bulk` });
      }
      result.done.push(id);
    } catch (err) {
      if (!(err instanceof HttpError) || err.status >= 500) throw err;
      const now = await getJob(ctx.db, id);
      result.skipped.push({ id, reason: now ? `is ${STATUS_LABELS[now.status].toLowerCase()}` : 'is gone' });
    }
  }
  return result;
}

/**
 * Administrators' "retry all failed" and "clear all failed": the failed jobs the action
 * may touch, by the same policy as one job, and how many others stay (clearing is the
 * owner's, so an administrator clears only their own and the command line's).
 */
export async function failedFor(
  ctx: Context,
  actor: User,
  action: 'retry' | 'clear',
): Promise<{ ids: number[]; others: number; onInput: number[] }> {
  const ids: number[] = [];
  let others = 0;
  // Retry only: the failed jobs left out because they failed on their input (bulkAct
  // skips them with that reason, so that the answer counts them in words).
  const onInput: number[] = [];
  let after: number | null = null;
  for (;;) {
    const page = await listJobs(ctx.db, { tab: 'failed', userId: null, order: 'asc', after, limit: 500 });
    for (const j of page.jobs) {
      const may = action === 'clear' ? canDiscard(actor, j) : canRetry(actor, j) && mayRetryTask(actor, j);
      if (may && action === 'retry' && j.failureKind === 'input') onInput.push(j.id);
      else if (may) ids.push(j.id);
      else others++;
    }
    if (!page.next) return { ids, others, onInput };
    after = page.next;
  }
}

const PAST: Record<BulkAction, string> = { cancel: 'cancelled', retry: 'retried', clear: 'cleared' };

/** "is running" for several: "are running". */
function plural(reason: string): string {
  if (reason === "is another user's job") return "are other users' jobs";
  if (reason === ON_INPUT) return 'failed on their input, which would only fail again';
  return reason.replace(/^is /, 'are ').replace(/\ba task\b/, 'tasks');
}

/** "3 jobs retried; 1 could not be (it is running)". */
export function bulkText(r: BulkResult): string {
  const n = (k: number): string => `${k} ${k === 1 ? 'job' : 'jobs'}`;
  const head = `${n(r.done.length)} ${PAST[r.action]}`;
  if (r.skipped.length === 0) return `${head}.`;
  const byReason = new Map<string, number>();
  for (const s of r.skipped) byReason.set(s.reason, (byReason.get(s.reason) ?? 0) + 1);
  const why = [...byReason].map(([reason, k]) => (r.skipped.length === 1 ? `it ${reason}` : `${k} ${k === 1 ? reason : plural(reason)}`)).join('; ');
  return `${head}; ${r.skipped.length} could not be (${why}).`;
}
