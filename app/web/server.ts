import { profileRoutes } from './profile-pages.js';
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import express, { type Request, type RequestHandler, type Response } from 'express';
import helmet from 'helmet';
import { csrfSync } from 'csrf-sync';
import type { Context } from '../context.js';
import { HttpError } from '../errors.js';
import { PUBLIC_DIR, VIEWS_DIR } from '../paths.js';
import { adminRoutes } from './admin-pages.js';
import { archiveRoutes } from './archive-routes.js';
import { apiRoutes } from './api.js';
import { bulkRoutes } from './bulk-pages.js';
import { queueApiRoutes } from './queue-routes.js';
import { authRoutes, loadUser, type LoginLimits } from './auth.js';
import { errorHandler, notFound } from './error-handler.js';
import { groupApiRoutes } from './group-api.js';
import { groupPages } from './group-pages.js';
import { healthHandler } from './health.js';
import { createMetrics } from '../metrics/collector.js';
import { httpRequestMetrics } from './http-metrics.js';
import { metricsHandler } from './metrics.js';
import { isApi, loggedUrl, one } from './http.js';
import { jobsRoutes } from './jobs-pages.js';
import { JOB_CREATING_POSTS, jobRateLimit } from './job-rate-limit.js';
import { viewHelpers } from './present.js';
import { sessionMiddleware, sessionSecret } from './session.js';
import { ejsEngine } from './views.js';
import './request.js';

export interface WebOptions {
  /** Login rate limit and slowdown (tests make them small). */
  login?: LoginLimits;
  /** How often a session's expiry is written back (default TOUCH_EVERY_MS; tests make it short). */
  sessionTouchMs?: number;
  /** Jobs one user may create per minute (default: the configuration's). */
  jobsPerMinute?: number;
}

/** What may name a file under public/ (css/docket.css, js/docket.js, ...). */
const ASSET_PATH = /\.[A-Za-z0-9]+$/;

/** Largest form or JSON body, in bytes; a job's params are capped at 64 KB by the service. */
const BODY_LIMIT = 100 * 1024;

/** How long a refused upload's connection stays open after the answer, reading nothing back. */
const LINGER_MS = 2000;

/**
 * A form or JSON body announced larger than the limit is refused before a byte of it is
 * read. The body parsers alone would read (and discard) the whole body first, so that
 * the 413 of a 1 GB request came after 1 GB. The connection is then closed the way web
 * servers do it (a "lingering close"): the answer goes out with our end of the
 * connection, what the client still sends is read and dropped for LINGER_MS, and only
 * then is the connection cut. Cut at once, the client's unread data makes the kernel
 * reset the connection, and a client still sending may lose the answer to that reset.
 * A chunked body with no length still goes to the parsers, which stop keeping it at
 * the limit. File uploads (multipart) have their own, larger limit.
 */
function refuseOversizedBody(limit: number): RequestHandler {
  /**
   * The answer says `Connection: close`, so that no client reuses the connection. Node
   * then ends it after the answer and destroys the socket as soon as that end is sent
   * (its `destroySoon`); that destroy is put off by LINGER_MS, while the request's
   * unread body goes on being read and dropped.
   */
  const lingerAfterAnswer = (req: Request, res: Response): void => {
    res.set('Connection', 'close');
    const socket = req.socket;
    // Runs after Node's own handler of the answer's end, which called destroySoon.
    res.on('finish', () => {
      if (socket.destroyed) return;
      socket.removeListener('finish', socket.destroy);
      const cut = () => setTimeout(() => socket.destroy(), LINGER_MS).unref();
      if (socket.writableFinished) cut();
      else socket.once('finish', cut);
    });
  };

  return (req, res, next) => {
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > limit && req.is(['application/json', 'application/x-www-form-urlencoded', '+json'])) {
      lingerAfterAnswer(req, res);
      return next(new HttpError(413, `The request body is too large (${length} bytes; the limit is ${limit} bytes).`));
    }
    next();
  };
}

/**
 * Synchroniser-token CSRF protection for every state-changing request from a browser.
 * The token comes in the form field `_csrf` or the `X-CSRF-Token` header; a multipart
 * form (file upload) is parsed only after this check, so it sends the token in the
 * query string (`?_csrf=`). API calls with a bearer token carry no cookie, so they need
 * none.
 */
function csrfProtection(): RequestHandler {
  const { csrfSynchronisedProtection } = csrfSync({
    size: 32,
    getTokenFromRequest: (req: Request) => {
      const fromBody = one((req.body as Record<string, unknown> | undefined)?._csrf);
      if (fromBody) return fromBody;
      const fromHeader = one(req.headers['x-csrf-token']);
      if (fromHeader) return fromHeader;
      return req.is('multipart/form-data') ? (one((req.query as Record<string, unknown>)._csrf) ?? undefined) : undefined;
    },
    // A token is no ambient authority; nor is an API call with no session behind it,
    // which then gets the API's own 401 ("log in or send a token") instead of a 403
    // about a form that has expired.
    // The login form has its own token (login-token.ts): it has no session to keep one in.
    skipCsrfProtection: (req: Request) =>
      req.authVia === 'token' || (!req.user && isApi(req)) || (req.method === 'POST' && req.path === '/login'),
  });
  return csrfSynchronisedProtection;
}

/** One line per request at the `http` level, with a request id to find it again. */
function requestLog(ctx: Context): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    // randomUUID draws from a buffered pool: cheaper than randomBytes per request.
    const id = randomUUID().slice(0, 8);
    res.set('X-Request-Id', id);
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      ctx.log.http(`${req.method} ${loggedUrl(req)} ${res.statusCode} ${ms.toFixed(1)} ms`, {
        request: id,
        user: req.user?.username ?? '-',
      });
    });
    next();
  };
}

/**
 * The Express app: pages for people, JSON under /api for scripts.
 *
 * Other page modules (e.g. the archival pages) mount their routers between the jobs
 * routes and `notFound`, and use `requireUser`/`requireAdmin` from `./auth.js` and
 * `render`/`flash` from `./render.js`; views include `partials/header` and
 * `partials/footer`, and forms carry `<input type="hidden" name="_csrf" value="<%= csrfToken %>">`.
 */
export async function createWebApp(ctx: Context, opts: WebOptions = {}): Promise<express.Express> {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.trustProxy);
  // EJS, compiled without `with (locals)` (app/web/views.ts).
  app.engine('ejs', ejsEngine(VIEWS_DIR));
  app.set('view engine', 'ejs');
  app.set('views', VIEWS_DIR);
  // Compiled templates are kept (Express does so only when NODE_ENV=production, which
  // `docket start` does not set); NODE_ENV=development recompiles them on every render.
  app.set('view cache', process.env.NODE_ENV !== 'development');
  // No ETag hashed over every page: pages are no-store and say when they were made, so
  // a tag never matches. The API sets its own where a poller gains by it (sendJsonWithEtag).
  app.set('etag', false);
  app.locals.h = viewHelpers;

  const metrics = createMetrics(ctx.service);
  app.use(httpRequestMetrics(metrics.httpDuration));
  app.get('/healthz', healthHandler(ctx));
  app.use(requestLog(ctx));
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          // Docket often runs on plain HTTP on a private address; upgrading would break it.
          'upgrade-insecure-requests': null,
        },
      },
    }),
  );
  // Static files need no session: served before it is looked up. Only a path with a
  // file extension is looked for on disk, so a page costs no failed stat().
  const assets = express.static(PUBLIC_DIR, { index: false, maxAge: '10m' });
  app.use((req, res, next) => (ASSET_PATH.test(req.path) ? assets(req, res, next) : next()));
  app.use(refuseOversizedBody(BODY_LIMIT));
  app.use(express.urlencoded({ extended: false, limit: BODY_LIMIT, parameterLimit: 500 }));
  app.use(express.json({ limit: BODY_LIMIT }));
  app.use(await sessionMiddleware(ctx, opts.sessionTouchMs));
  const secret = await sessionSecret(ctx);
  app.use(loadUser(ctx));
  app.use(csrfProtection());

  const jobLimit = jobRateLimit(opts.jobsPerMinute ?? ctx.config.jobsPerMinute);
  if (jobLimit) app.post(JOB_CREATING_POSTS, jobLimit);

  app.use(authRoutes(ctx, secret, opts.login));
  app.get('/metrics', metricsHandler(ctx, metrics));
  app.use('/api/groups', groupApiRoutes(ctx));
  app.use('/api', queueApiRoutes(ctx));
  app.use('/api', apiRoutes(ctx));
  app.use(profileRoutes(ctx));
  app.use(groupPages(ctx));
  app.use(bulkRoutes(ctx));
  app.use(jobsRoutes(ctx));
  app.use(adminRoutes(ctx));
  app.use(archiveRoutes(ctx));

  app.use(notFound);
  app.use(errorHandler(ctx));
  return app;
}

export async function listen(app: express.Express, port: number, host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}
