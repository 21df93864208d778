/**
 * Administrators' pages: the workers, the queue's pause switch, (token-pages.ts) the API
 * tokens and (audit-pages.ts) the audit trail.
 */
import express, { type Request, type Response } from 'express';
import { auditRequest } from '../audit.js';
import type { Context } from '../context.js';
import { secondsUtc } from '../dates.js';
import { listWorkers } from '../store/workers.js';
import type { User } from '../types.js';
import { requireAdmin } from './auth.js';
import { bodyValue, localPath } from './http.js';
import { forgetQueueState, queueState } from './jobs-query.js';
import { formatDuration } from './present.js';
import { flash, render, saveAndRedirect } from './render.js';
import { auditRoutes } from './audit-pages.js';
import { tokenRoutes } from './token-pages.js';

export function adminRoutes(ctx: Context): express.Router {
  const router = express.Router();
  router.use(tokenRoutes(ctx));
  router.use(auditRoutes(ctx));

  router.get('/workers', requireAdmin, async (_req: Request, res: Response) => {
    const now = Date.now();
    const workers = await listWorkers(ctx.db, now, ctx.config.heartbeatMs);
    const queue = await queueState(ctx);
    render(res, 'workers', {
      title: 'Workers',
      queue,
      transport: { kind: ctx.transport.kind, state: ctx.transport.state(), error: ctx.transport.lastError() },
      workers: workers.map((w) => {
        const lost = w.state === 'lost';
        return {
          ...w,
          stateLabel: w.state === 'active' ? 'Active' : lost ? `Lost since ${secondsUtc(w.lastHeartbeatAt)} UTC (no heartbeat)` : 'Stopped',
          // A lost worker runs nothing: its last count is stale, and its jobs are
          // recovered (retried or failed) once their leases run out.
          running: lost ? 0 : w.running,
          heartbeatAgo: formatDuration(now - w.lastHeartbeatAt),
          // Its life ended at its last heartbeat, not now.
          uptime: formatDuration((w.stoppedAt ?? (lost ? w.lastHeartbeatAt : now)) - w.startedAt),
        };
      }),
    });
  });

  router.post('/queue/pause', requireAdmin, async (req: Request, res: Response) => {
    const actor = req.user as User;
    await ctx.service.setPaused(true, `paused by ${actor.username}`);
    forgetQueueState(ctx);
    ctx.log.info(`processing paused by ${actor.username}`);
    await auditRequest(ctx, req, 'queue.pause', null);
    flash(req, 'info', 'Processing is paused: running jobs finish, no new job starts.');
    await saveAndRedirect(req, res, localPath(bodyValue(req, 'back'), '/jobs'));
  });

  router.post('/queue/resume', requireAdmin, async (req: Request, res: Response) => {
    const actor = req.user as User;
    await ctx.service.setPaused(false, '');
    forgetQueueState(ctx);
    ctx.log.info(`processing resumed by ${actor.username}`);
    await auditRequest(ctx, req, 'queue.resume', null);
    flash(req, 'info', 'Processing is resumed.');
    await saveAndRedirect(req, res, localPath(bodyValue(req, 'back'), '/jobs'));
  });

  return router;
}
