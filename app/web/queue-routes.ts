/**
 * The processing switches for administrators, on the web and in the API: pause, resume,
 * clear the queue and pause on failure. Each calls the JobService method the CLI's
 * `queue:*` commands call, forgets the cached queue state and records itself in the
 * audit trail. Resuming and clearing ask first on the web (resuming starts every queued
 * job at once; clearing cancels them all), and the question names how many.
 */
import express, { type Request, type Response } from 'express';
import { auditRequest } from '../audit.js';
import type { Context } from '../context.js';
import { BadRequestError } from '../errors.js';
import { countJobs } from '../store/job-list.js';
import { getSetting, setSetting } from '../store/settings.js';
import type { User } from '../types.js';
import { requireAdmin } from './auth.js';
import { bodyValue, localPath } from './http.js';
import { forgetQueueState } from './jobs-query.js';
import { flash, render, saveAndRedirect } from './render.js';

export interface QueueStatus {
  paused: boolean;
  reason: string | null;
  pauseOnFailure: boolean;
  queued: number;
  running: number;
  transport: string;
  broker: string;
}

/** What `docket queue:status --json` says, less the per-task broker counts. */
export async function queueStatus(ctx: Context): Promise<QueueStatus> {
  const [paused, reason, pauseOnFailure, queued, running] = await Promise.all([
    ctx.service.isPaused(),
    getSetting(ctx.db, 'paused_reason'),
    ctx.service.pauseOnFailure(),
    countJobs(ctx.db, { tab: 'active', userId: null, status: 'queued' }),
    countJobs(ctx.db, { tab: 'active', userId: null, status: 'running' }),
  ]);
  return {
    paused,
    reason: paused ? reason || null : null,
    pauseOnFailure,
    queued: queued.count,
    running: running.count,
    transport: ctx.transport.kind,
    broker: ctx.transport.state(),
  };
}

type Switch = 'pause' | 'resume' | 'clear';

/** One switch, as the CLI does it; returns how many jobs a clear cancelled. */
async function flip(ctx: Context, req: Request, which: Switch): Promise<number> {
  const actor = req.user as User;
  let n = 0;
  if (which === 'pause') await ctx.service.setPaused(true, `paused by ${actor.username}`);
  else if (which === 'resume') await ctx.service.setPaused(false, '');
  else n = await ctx.service.clearQueue(actor.username);
  forgetQueueState(ctx);
  ctx.log.info(`${which} of the queue by ${actor.username}${which === 'clear' ? `: ${n} job(s) cancelled` : ''}`);
  await auditRequest(ctx, req, `queue.${which}`, which === 'clear' ? `${n} job(s)` : null);
  return n;
}

async function setPauseOnFailure(ctx: Context, req: Request, on: boolean): Promise<void> {
  await setSetting(ctx.db, 'pause_on_failure', on ? '1' : '0');
  await auditRequest(ctx, req, 'queue.pause-on-failure', null, { detail: on ? 'on' : 'off' });
}

/** The pages' posts: /queue/pause, /queue/resume, /queue/clear, /queue/pause-on-failure. */
export function queuePageRoutes(ctx: Context): express.Router {
  const router = express.Router();
  const back = (req: Request): string => localPath(bodyValue(req, 'back'), '/workers');

  router.post('/queue/pause', requireAdmin, async (req: Request, res: Response) => {
    await flip(ctx, req, 'pause');
    flash(req, 'info', 'Processing is paused: running jobs finish, no new job starts.');
    await saveAndRedirect(req, res, localPath(bodyValue(req, 'back'), '/jobs'));
  });

  for (const which of ['resume', 'clear'] as const) {
    router.post(`/queue/${which}`, requireAdmin, async (req: Request, res: Response) => {
      if (bodyValue(req, 'confirm') !== 'yes') {
        const queued = await countJobs(ctx.db, { tab: 'active', userId: null, status: 'queued' });
        return render(res, 'queue-confirm', { title: which === 'resume' ? 'Resume processing' : 'Clear the queue', which, queued, back: back(req) });
      }
      const n = await flip(ctx, req, which);
      flash(req, 'info', which === 'resume' ? 'Processing is resumed.' : `The queue is cleared: ${n} queued ${n === 1 ? 'job' : 'jobs'} cancelled.`);
      await saveAndRedirect(req, res, back(req));
    });
  }

  router.post('/queue/pause-on-failure', requireAdmin, async (req: Request, res: Response) => {
    const on = bodyValue(req, 'on') === 'yes';
    await setPauseOnFailure(ctx, req, on);
    flash(req, 'info', on ? 'A failed job now pauses processing.' : 'A failed job no longer pauses processing.');
    await saveAndRedirect(req, res, back(req));
  });

  return router;
}

/** The API's: GET /api/queue, POST /api/queue/pause|resume|clear|pause-on-failure. */
export function queueApiRoutes(ctx: Context): express.Router {
  const router = express.Router();
  router.use('/queue', requireAdmin);

  router.get('/queue', async (_req: Request, res: Response) => {
    res.set('Cache-Control', 'private, no-cache');
    res.json({ queue: await queueStatus(ctx) });
  });

  for (const which of ['pause', 'resume', 'clear'] as const) {
    router.post(`/queue/${which}`, async (req: Request, res: Response) => {
      const n = await flip(ctx, req, which);
      res.json({ queue: await queueStatus(ctx), ...(which === 'clear' ? { cancelled: n } : {}) });
    });
  }

  router.post('/queue/pause-on-failure', async (req: Request, res: Response) => {
    const on = (req.body as Record<string, unknown> | undefined)?.on;
    if (typeof on !== 'boolean') throw new BadRequestError('send {"on": true} or {"on": false}');
    await setPauseOnFailure(ctx, req, on);
    res.json({ queue: await queueStatus(ctx) });
  });

  return router;
}
