import type { Request, Response } from 'express';
import type { Context } from '../context.js';
import { ping } from '../db.js';
import { describeError } from '../errors.js';

/**
 * 200 while the database answers; a broker outage shows as `degraded` (jobs are still
 * accepted and dispatched when it is back); 503 when the database is down.
 */
export function healthHandler(ctx: Context) {
  return async (_req: Request, res: Response): Promise<void> => {
    let database: { state: 'up' | 'down'; error?: string } = { state: 'up' };
    try {
      await ping(ctx.db);
    } catch (err) {
      database = { state: 'down', error: describeError(err) };
    }
    const t = ctx.transport;
    const broker = { transport: t.kind, state: t.state(), error: t.lastError() ?? undefined };
    const paused = database.state === 'up' ? await ctx.service.isPaused().catch(() => false) : false;
    const status = database.state === 'down' ? 'down' : broker.state !== 'up' ? 'degraded' : 'ok';
    res.status(database.state === 'down' ? 503 : 200).json({ status, database, broker, paused });
  };
}
