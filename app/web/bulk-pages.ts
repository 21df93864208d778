/**
 * The jobs page's bulk actions: the selected jobs (or every job on the page) cancelled,
 * retried or cleared in one post; and administrators' "retry all failed" and "clear all
 * failed", each behind a confirmation that names how many jobs it touches. Plain forms:
 * they work without JavaScript.
 */
import express, { type Request, type Response } from 'express';
import type { Context } from '../context.js';
import { BadRequestError } from '../errors.js';
import type { User } from '../types.js';
import { requireAdmin, requireUser } from './auth.js';
import { bulkAct, failedFor, bulkText, parseBulkAction, parseBulkIds, type BulkAction } from './bulk.js';
import { bodyValue, localPath, queryValue } from './http.js';
import { flash, render, saveAndRedirect } from './render.js';

const FAILED_ACTIONS: Record<string, { title: string; verb: string }> = {
  retry: { title: 'Retry all failed jobs', verb: 'Retry' },
  clear: { title: 'Clear all failed jobs', verb: 'Clear' },
};

function failedAction(raw: string | null): 'retry' | 'clear' {
  if (raw === 'retry' || raw === 'clear') return raw;
  throw new BadRequestError('action must be retry or clear');
}

export function bulkRoutes(ctx: Context): express.Router {
  const router = express.Router();

  router.post('/jobs/bulk', requireUser, async (req: Request, res: Response) => {
    const actor = req.user as User;
    const body = (req.body ?? {}) as Record<string, unknown>;
    const back = localPath(bodyValue(req, 'back'), '/jobs');
    const action: BulkAction = parseBulkAction(bodyValue(req, 'action'));
    // "Select all on this page" works without JavaScript: the page lists its own ids.
    const ids = parseBulkIds(bodyValue(req, 'all') === 'page' ? body.page_id : body.id);
    if (ids.length === 0) {
      flash(req, 'error', 'Select one or more jobs first (the boxes at the start of each row).');
      return saveAndRedirect(req, res, back);
    }
    const result = await bulkAct(ctx, req, actor, action, ids);
    ctx.log.info(`${actor.username} bulk ${action}: ${result.done.length} done, ${result.skipped.length} skipped`);
    flash(req, result.done.length === 0 ? 'error' : 'info', bulkText(result));
    await saveAndRedirect(req, res, back);
  });

  const confirmPage = async (req: Request, res: Response, raw: string | null): Promise<void> => {
    const action = failedAction(raw);
    const failed = await failedFor(ctx, req.user as User, action);
    render(res, 'jobs/failed-confirm', {
      title: FAILED_ACTIONS[action].title,
      action,
      verb: FAILED_ACTIONS[action].verb,
      count: failed.ids.length,
      others: failed.others,
      onInput: failed.onInput.length,
      back: localPath(bodyValue(req, 'back') ?? queryValue(req, 'back'), '/jobs?tab=failed'),
    });
  };

  router.get('/jobs/failed-all', requireAdmin, (req: Request, res: Response) => confirmPage(req, res, queryValue(req, 'action')));

  router.post('/jobs/failed-all', requireAdmin, async (req: Request, res: Response) => {
    const action = failedAction(bodyValue(req, 'action'));
    if (bodyValue(req, 'confirm') !== 'yes') return confirmPage(req, res, action);
    const actor = req.user as User;
    const failed = await failedFor(ctx, actor, action);
    const result = await bulkAct(ctx, req, actor, action, [...failed.ids, ...failed.onInput]);
    flash(req, 'info', result.done.length + result.skipped.length === 0 ? 'There were no failed jobs.' : bulkText(result));
    await saveAndRedirect(req, res, localPath(bodyValue(req, 'back'), '/jobs?tab=failed'));
  });

  return router;
}
