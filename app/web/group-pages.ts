/**
 * The Envelopes pages: every group with its combined status (one row each, its jobs
 * one click away), a group's page with its jobs in order, and its cancel and retry forms.
 */
import express, { type Request, type Response } from 'express';
import type { Context } from '../context.js';
import { GroupService } from '../groups/service.js';
import { GROUP_STATUS_CODES } from '../groups/status.js';
import type { User } from '../types.js';
import { requireUser } from './auth.js';
import { chunkCursorParam, queryValue } from './http.js';
import { groupIdParam } from './group-api.js';
import { waitingFor } from './group-present.js';
import { jobRow } from './present.js';
import { flash, render, saveAndRedirect } from './render.js';

const PAGE = 50;

export function groupPages(ctx: Context): express.Router {
  const router = express.Router();
  const groups = new GroupService(ctx.service);

  router.get('/groups', requireUser, async (req: Request, res: Response) => {
    const before = chunkCursorParam(queryValue(req, 'before'), 'a group id');
    const actor = req.user as User;
    const list = await groups.listWithJobs(actor, { limit: PAGE, before });
    const last = list[list.length - 1];
    render(res, 'groups/index', {
      title: 'Envelopes',
      groups: list.map((g) => ({
        ...g,
        rows: g.jobs.map((j) => ({ ...jobRow(j, actor, null), step: j.groupSeq + 1, waiting: waitingFor(g.jobs, j) })),
        canCancel: g.counts.queued + g.counts.running > 0,
        canRetry: g.counts.failed + g.counts.cancelled > 0,
      })),
      open: Number(queryValue(req, 'open')) || null,
      codes: GROUP_STATUS_CODES,
      nextHref: list.length === PAGE && last ? `/groups?before=${last.id}` : null,
    });
  });

  router.get('/groups/:id', requireUser, async (req: Request, res: Response) => {
    const actor = req.user as User;
    const g = await groups.detail(groupIdParam(req.params.id), actor);
    render(res, 'groups/show', {
      title: `Envelope ${g.id}: ${g.name}`,
      group: g,
      rows: g.jobs.map((j) => ({ ...jobRow(j, actor, null), step: j.groupSeq + 1, waiting: waitingFor(g.jobs, j) })),
      canCancel: g.counts.queued + g.counts.running > 0,
      canRetry: g.counts.failed + g.counts.cancelled > 0,
    });
  });

  for (const act of ['cancel', 'retry'] as const) {
    router.post(`/groups/:id/${act}`, requireUser, async (req: Request, res: Response) => {
      const id = groupIdParam(req.params.id);
      await (act === 'cancel' ? groups.cancel(id, req.user as User) : groups.retry(id, req.user as User));
      flash(req, 'info', act === 'cancel' ? `Envelope ${id}: its unfinished jobs were cancelled.` : `Envelope ${id}: its failed and cancelled jobs were queued again.`);
      // From the Envelopes list: back to it, the envelope still open.
      const fromList = typeof req.body?.from === 'string' && req.body.from === 'list';
      await saveAndRedirect(req, res, fromList ? `/groups?open=${id}#group-${id}` : `/groups/${id}`);
    });
  }
  return router;
}
