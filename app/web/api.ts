/**
 * The JSON API for scripts (DESIGN.md §3): the same jobs, the same permissions as the
 * pages, by session or `Authorization: Bearer <token>` (`docket tokens:create`).
 *
 * Pollers are told when to ask again: job reads carry `Retry-After` while the job is
 * unfinished and an ETag (a repeated read with `If-None-Match` gets a 304).
 */
import express, { type Request, type Response } from 'express';
import { auditRequest } from '../audit.js';
import type { Context } from '../context.js';
import type { EnqueueResult } from '../job-service.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError } from '../errors.js';
import { canAdminister, canCancel, canRetry, isAdmin, listScope } from '../policy.js';
import { EMPTY_PAGE, listJobs, summarize } from '../store/job-list.js';
import { eventsPage } from '../store/job-events.js';
import { STATUS_LABELS, type PriorityName, type User } from '../types.js';
import { multipartJob } from './api-upload.js';
import { bulkAct, failedFor, bulkText, parseBulkAction, parseBulkIds } from './bulk.js';
import { requireUser } from './auth.js';
import { chunkCursorParam, jobIdParam, queryValue, sendJsonWithEtag } from './http.js';
import { assertMayDiscard, assertMayRetryTask, filterQuery, listQueryFor, PAGE_SIZE, parseJobFilter, queueState, visibleJob } from './jobs-query.js';
import { downloadHandler, runnableTasks } from './jobs-pages.js';
import { outputHandler, retryAfterSeconds } from './output.js';
import { profileApiRoutes } from './profile-pages.js';
import { eventJson, jobJson } from './present.js';

const MAX_LIMIT = 200;
/** How often a list poller should ask (the page refreshes every 5 s too). */
const LIST_RETRY_AFTER = 5;

/** Events per page of `/api/jobs/:id/events`, by default and at most. */
export const EVENTS_PAGE = 100;
const MAX_EVENTS_PAGE = 1000;

function limitParam(raw: string | null, def = PAGE_SIZE, max = MAX_LIMIT): number {
  if (raw === null || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new BadRequestError(`limit must be a whole number from 1 to ${max}`);
  return n;
}

export function apiRoutes(ctx: Context): express.Router {
  const router = express.Router();
  router.use(requireUser);

  router.get('/tasks', (req: Request, res: Response) => {
    res.json({
      tasks: runnableTasks(req.user as User).map((t) => ({
        name: t.name,
        title: t.title,
        description: t.description,
        params: t.params,
      })),
    });
  });

  router.get('/jobs', async (req: Request, res: Response) => {
    const actor = req.user as User;
    const f = parseJobFilter(req, actor);
    const limit = limitParam(queryValue(req, 'limit'));
    const q = await listQueryFor(ctx, f, actor);
    const [page, summary, queue] = await Promise.all([
      q ? listJobs(ctx.db, { ...q, after: f.after, before: f.before, limit }) : EMPTY_PAGE,
      summarize(ctx.db, listScope(actor).userId),
      queueState(ctx),
    ]);
    res.set('Retry-After', String(LIST_RETRY_AFTER));
    res.set('Cache-Control', 'private, no-cache');
    const limitPart = limit !== PAGE_SIZE ? `&limit=${limit}` : '';
    sendJsonWithEtag(req, res, {
      jobs: page.jobs.map((j) => jobJson(j, queue)),
      next: page.next,
      prev: page.prev,
      links: {
        next: page.next ? `/api/jobs?${filterQuery(f, { after: page.next })}${limitPart}` : null,
        prev: page.prev ? `/api/jobs?${filterQuery(f, { before: page.prev })}${limitPart}` : null,
      },
      summary,
      paused: queue.paused,
    });
  });

  const multipart = multipartJob(ctx);
  router.post('/jobs', async (req: Request, res: Response) => {
    const { job, joined, dispatched } = req.is('multipart/form-data') ? await multipart(req, res) : await jsonJob(req);
    res.status(202);
    res.set('Location', `/api/jobs/${job.id}`);
    const wait = retryAfterSeconds(job);
    if (wait !== null) res.set('Retry-After', String(wait));
    res.json({ job: jobJson(job), joined, dispatched });
  });

  async function jsonJob(req: Request): Promise<EnqueueResult> {
    const body = req.body as unknown;
    if (!body || typeof body !== 'object' || Array.isArray(body) || !req.is('application/json')) {
      throw new BadRequestError(
        'send a JSON object: {"task": "...", "params": {...}, "priority": "normal"} (or multipart/form-data with a file)',
      );
    }
    const { task, params, priority, notify, webhooks } = body as Record<string, unknown>;
    if (notify !== undefined && typeof notify !== 'boolean') throw new BadRequestError('notify must be true or false');
    if (priority !== undefined && (typeof priority !== 'string' || !['high', 'normal', 'low'].includes(priority))) {
      throw new BadRequestError('priority must be high, normal or low');
    }
    return ctx.service.enqueue({
      task: task as string,
      params: params as Record<string, unknown> | undefined,
      priority: priority as PriorityName | undefined,
      user: req.user as User,
      origin: 'api',
      notify: notify as boolean | undefined,
      webhooks,
    });
  }

  // Several jobs at once, by ids or (administrators) every failed job: each job is
  // checked as its single action is; the ones refused are listed in `skipped` with why.
  router.post('/jobs/bulk', async (req: Request, res: Response) => {
    const actor = req.user as User;
    const body = req.body as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body) || !req.is('application/json')) {
      throw new BadRequestError('send a JSON object: {"action": "cancel" | "retry" | "clear", "ids": [12, 13]} or {"action": "retry", "all": "failed"}');
    }
    const action = parseBulkAction(body.action);
    let ids: number[];
    if (body.all !== undefined) {
      if (body.all !== 'failed' || action === 'cancel') throw new BadRequestError('"all" takes "failed", with the action retry or clear');
      if (!canAdminister(actor)) throw new ForbiddenError('only administrators act on every failed job');
      const failed = await failedFor(ctx, actor, action);
      // Those that failed on their input come back in `skipped`, with that reason.
      ids = [...failed.ids, ...failed.onInput];
    } else {
      if (!Array.isArray(body.ids) || body.ids.length === 0) throw new BadRequestError('ids must be a list of one or more job numbers');
      ids = parseBulkIds(body.ids);
    }
    const result = await bulkAct(ctx, req, actor, action, ids);
    res.json({ ...result, message: bulkText(result) });
  });

  router.get('/jobs/:id', async (req: Request, res: Response) => {
    const job = await visibleJob(ctx, req.user as User, jobIdParam(req.params.id));
    const queue = job.status === 'queued' ? await queueState(ctx) : null;
    const wait = retryAfterSeconds(job);
    if (wait !== null) res.set('Retry-After', String(wait));
    res.set('Cache-Control', 'private, no-cache');
    sendJsonWithEtag(req, res, { job: jobJson(job, queue) });
  });

  router.get('/jobs/:id/output', outputHandler(ctx, 'api'));

  router.get('/jobs/:id/events', async (req: Request, res: Response) => {
    const job = await visibleJob(ctx, req.user as User, jobIdParam(req.params.id));
    const after = chunkCursorParam(queryValue(req, 'after'), 'an event id');
    const limit = limitParam(queryValue(req, 'limit'), EVENTS_PAGE, MAX_EVENTS_PAGE);
    const page = await eventsPage(ctx.db, job.id, after, limit);
    const wait = retryAfterSeconds(job);
    if (wait !== null) res.set('Retry-After', String(wait));
    res.set('Cache-Control', 'private, no-cache');
    const limitPart = limit !== EVENTS_PAGE ? `&limit=${limit}` : '';
    sendJsonWithEtag(req, res, {
      events: page.events.map(eventJson),
      next: page.next,
      links: { next: page.next ? `/api/jobs/${job.id}/events?after=${page.next}${limitPart}` : null },
    });
  });

  router.get('/jobs/:id/download', downloadHandler(ctx));

  router.post('/jobs/:id/cancel', async (req: Request, res: Response) => {
    const actor = req.user as User;
    const job = await visibleJob(ctx, actor, jobIdParam(req.params.id));
    if (!canCancel(actor, job)) {
      throw new ConflictError(`job ${job.id} is ${STATUS_LABELS[job.status]}; only queued or running jobs can be cancelled`);
    }
    const outcome = await ctx.service.cancel(job.id, actor.username);
    await auditRequest(ctx, req, 'job.cancel', `job ${job.id}`, { detail: outcome });
    const after = await ctx.service.get(job.id);
    res.status(outcome === 'cancelled' ? 200 : 202).json({ outcome, job: jobJson(after) });
  });

  router.post('/jobs/:id/retry', async (req: Request, res: Response) => {
    const actor = req.user as User;
    const job = await visibleJob(ctx, actor, jobIdParam(req.params.id));
    if (!canRetry(actor, job)) {
      throw new ConflictError(`job ${job.id} is ${STATUS_LABELS[job.status]}; only failed or cancelled jobs can be retried`);
    }
    assertMayRetryTask(actor, job);
    const again = await ctx.service.retry(job.id, actor.username);
    await auditRequest(ctx, req, 'job.retry', `job ${job.id}`);
    res.status(202).set('Location', `/api/jobs/${job.id}`).json({ job: jobJson(again) });
  });

  // A finished job goes with its output, events and files: 204; 409 while it is active.
  router.delete('/jobs/:id', async (req: Request, res: Response) => {
    const actor = req.user as User;
    const job = await visibleJob(ctx, actor, jobIdParam(req.params.id));
    assertMayDiscard(actor, job);
    await ctx.service.cleanup.discard(job.id);
    await auditRequest(ctx, req, 'job.discard', `job ${job.id}`, { detail: `${job.task}, ${job.status}` });
    res.status(204).end();
  });

  profileApiRoutes(ctx, router);

  router.get('/whoami', (req: Request, res: Response) => {
    const u = req.user as User;
    res.json({ user: { id: u.id, username: u.username, role: u.role, admin: isAdmin(u) }, via: req.authVia });
  });

  router.use(() => {
    throw new NotFoundError('No such API route');
  });

  return router;
}
