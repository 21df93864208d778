/**
 * GET /metrics for Prometheus. Readable by a scraper sending the configured
 * `DOCKET_METRICS_TOKEN` as a bearer token, by an administrator's API token, or in an
 * administrator's session; anyone else gets a 401 (or a 403 for a signed-in archivist).
 */
import { timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Context } from '../context.js';
import { ForbiddenError } from '../errors.js';
import type { Metrics } from '../metrics/collector.js';
import { isAdmin } from '../policy.js';
import { userForToken } from '../store/tokens.js';
import { UnauthorizedError } from './auth.js';

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function metricsHandler(ctx: Context, metrics: Metrics): RequestHandler {
  return async (req, res) => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '')?.[1] ?? null;
    let allowed = false;
    if (bearer) {
      const configured = ctx.config.metricsToken;
      if (configured && sameSecret(bearer, configured)) allowed = true;
      else {
        const user = await userForToken(ctx.db, bearer);
        if (!user) throw new UnauthorizedError('The token is not valid for /metrics');
        if (!isAdmin(user)) throw new ForbiddenError('/metrics is for administrators and the configured metrics token');
        allowed = true;
      }
    } else if (req.user) {
      if (!isAdmin(req.user)) throw new ForbiddenError('/metrics is for administrators and the configured metrics token');
      allowed = true;
    }
    if (!allowed) {
      res.set('WWW-Authenticate', 'Bearer realm="docket"');
      throw new UnauthorizedError('Send DOCKET_METRICS_TOKEN or an administrator\'s API token (Authorization: Bearer ...)');
    }
    const text = await metrics.registry.metrics();
    res.set('Content-Type', metrics.registry.contentType).set('Cache-Control', 'no-store').send(text);
  };
}
