/**
 * Observes each HTTP request's duration in the metrics' histogram, labelled by method,
 * route pattern (`/api/jobs/:id`, never the raw URL: one series per route, not per job)
 * and status class.
 *
 * The pattern is taken when the router sets `req.route`, while `req.baseUrl` still names
 * the mount point: by the time the response finishes, a router left through `next(err)`
 * has put `baseUrl` back, and an error page would be counted under `/jobs/:id` instead of
 * `/api/jobs/:id`.
 */
import type { Request, RequestHandler } from 'express';
import type { Histogram } from 'prom-client';

/** The label of a request no route took: a 404, a static file, a refused body. */
export const UNMATCHED = 'unmatched';

export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}

/** A route's pattern as a label: its mount point and its path (a list joined by "|"). */
export function routePattern(baseUrl: string, path: unknown): string {
  const p = Array.isArray(path) ? path.map(String).join('|') : String(path);
  return `${baseUrl}${p}` || '/';
}

/** Follows `req.route` as routers set it, keeping the last route's full pattern. */
function trackRoute(req: Request): () => string {
  let pattern = UNMATCHED;
  let route: unknown = undefined;
  Object.defineProperty(req, 'route', {
    configurable: true,
    enumerable: true,
    get: () => route,
    set(v: { path?: unknown } | undefined) {
      route = v;
      if (v && v.path !== undefined) pattern = routePattern(req.baseUrl, v.path);
    },
  });
  return () => pattern;
}

export function httpRequestMetrics(histogram: Histogram<'method' | 'route' | 'status_class'>): RequestHandler {
  return (req, res, next) => {
    const end = histogram.startTimer();
    const pattern = trackRoute(req);
    // 'close' as well as 'finish': a client gone mid-download is a request too; once.
    let done = false;
    const observe = (): void => {
      if (done) return;
      done = true;
      end({ method: req.method, route: pattern(), status_class: statusClass(res.statusCode) });
    };
    res.once('finish', observe);
    res.once('close', observe);
    next();
  };
}
