/**
 * Administrators' pages: the workers and what they did, (queue-routes.ts) the queue's switches, (token-pages.ts) the API
 * tokens and (audit-pages.ts) the audit trail.
 */
import express, { type Request, type Response } from 'express';
import type { Context } from '../context.js';
import { secondsUtc } from '../dates.js';
import { waitingByTask, workerTallies } from '../store/worker-jobs.js';
import { listWorkers } from '../store/workers.js';
import { requireAdmin } from './auth.js';
import { queueState } from './jobs-query.js';
import { formatDuration, isoDate, taskTitle } from './present.js';
import { render } from './render.js';
import { queuePageRoutes, queueStatus } from './queue-routes.js';
import { auditRoutes } from './audit-pages.js';
import { tokenRoutes } from './token-pages.js';

export function adminRoutes(ctx: Context): express.Router {
  const router = express.Router();
  router.use(tokenRoutes(ctx));
  router.use(auditRoutes(ctx));
  router.use(queuePageRoutes(ctx));

  router.get('/workers', requireAdmin, async (_req: Request, res: Response) => {
    const now = Date.now();
    const workers = await listWorkers(ctx.db, now, ctx.config.heartbeatMs);
    const [queue, status, tallies, waiting] = await Promise.all([
      queueState(ctx),
      queueStatus(ctx),
      workerTallies(ctx.db, workers.map((w) => w.id)),
      waitingByTask(ctx.db),
    ]);
    render(res, 'workers', {
      title: 'Workers',
      queue,
      status,
      // By title, as the jobs page names them; the name stays for the CLI's sake.
      tasks: waiting
        .map((t) => ({ ...t, title: taskTitle(t.task), waitingFor: formatDuration(now - t.oldestAt), oldestIso: isoDate(t.oldestAt) }))
        .sort((x, y) => x.title.localeCompare(y.title)),
      transport: { kind: ctx.transport.kind, state: ctx.transport.state(), error: ctx.transport.lastError() },
      workers: workers.map((w) => {
        const lost = w.state === 'lost';
        return {
          ...w,
          tally: tallies.get(w.id) ?? { completed: 0, failed: 0, current: [] },
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

  return router;
}
