/**
 * Who is asking: the session's user or an API token's, and the login and logout
 * routes. Failed logins are limited per username and address (the lockout), and more
 * loosely per address (many users behind one NAT share an address: one attacker there
 * must not lock them all out); repeated failures for one username from one address are
 * answered more and more slowly. All of it counts in the database, so that several web
 * processes share the counts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { ipKeyGenerator, rateLimit, type ClientRateLimitInfo, type Options, type Store } from 'express-rate-limit';
import { auditRequest } from '../audit.js';
import type { Context } from '../context.js';
import type { Db } from '../db.js';
import { ForbiddenError, HttpError } from '../errors.js';
import { canAdminister } from '../policy.js';
import { addFailure, failuresOf, forgetFailures, pruneFailures, takeBackFailure } from '../store/login-failures.js';
import { pruneExpiredSessions } from '../store/sessions.js';
import { userForToken } from '../store/tokens.js';
import { getAccount, sessionStillValid, verifyPassword, type Account } from '../store/users.js';
import { bearerToken, bodyValue, isApi, isFragment, localPath, queryValue } from './http.js';
import { render } from './render.js';
import { SESSION_MAX_AGE_MS } from './session.js';
import { clearLoginToken, loginToken, validLoginToken } from './login-token.js';
import { ShortCache } from './short-cache.js';
import './request.js';

export interface LoginLimits {
  /** Failed logins of one username from one address per window before 429. Default 20 per 15 minutes. */
  maxFailures?: number;
  /** Failed logins from one address, whatever the usernames, per window before 429. Default 200. */
  maxAddressFailures?: number;
  windowMs?: number;
  /** Failures of one username from one address answered at once; later ones wait. Default 3. */
  freeFailures?: number;
  /** The first wait, doubled at each further failure up to `maxDelayMs`. Default 500 ms, 8 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** 401: the request needs a signed-in user. */
export class UnauthorizedError extends HttpError {
  constructor(message = 'Log in first') {
    super(401, message);
    this.name = 'UnauthorizedError';
  }
}

/**
 * How long a session's user (id, name, role, disabled or not) is reused by this process:
 * the jobs page and its 5 s auto refresh would otherwise read the same row for every
 * request. Users are never renamed, and no role changes; a user removed from the
 * database stops being signed in within this time. Disabling an account or changing its
 * password also deletes its session rows, which takes effect at the next request.
 */
export const USER_TTL_MS = 2000;

/**
 * Sets `req.user` from an API token (under /api) or the session. A token that matches
 * nobody (or is revoked, expired, or its user disabled) is a 401 at once, rather than an
 * anonymous request that fails later.
 */
export function loadUser(ctx: Context): RequestHandler {
  const users = new ShortCache<number, Account | null>(USER_TTL_MS);
  return async (req, _res, next) => {
    const token = isApi(req) ? bearerToken(req) : null;
    if (token) {
      const user = await userForToken(ctx.db, token);
      if (!user) throw new UnauthorizedError('The API token is not valid');
      req.user = user;
      req.authVia = 'token';
      return next();
    }
    const id = req.session?.userId;
    if (id !== undefined) {
      const account = await users.get(id, () => getAccount(ctx.db, id));
      if (account && sessionStillValid(account, req.session.signedInAt)) {
        req.user = account.user;
        req.authVia = 'session';
      } else {
        // The account is gone or disabled, or its password changed since this session
        // signed in: the session no longer signs anyone in.
        delete req.session.userId;
      }
    }
    next();
  };
}

/**
 * Pages and routes for signed-in users. A page sends an anonymous visitor to the login
 * form and back; the API and the page's own scripts get a 401.
 */
export const requireUser: RequestHandler = (req, res, next) => {
  if (req.user) return next();
  if (isApi(req) || isFragment(req) || req.method !== 'GET' || req.accepts(['html', 'json']) === 'json') {
    res.set('WWW-Authenticate', isApi(req) ? 'Bearer realm="docket"' : 'Session');
    throw new UnauthorizedError(isApi(req) ? 'Log in or send an API token (Authorization: Bearer ...)' : 'Log in first');
  }
  res.redirect(303, `/login?next=${encodeURIComponent(req.originalUrl)}`);
};

/** Routes for administrators only (an archivist is told so: these pages are no secret). */
export const requireAdmin: RequestHandler[] = [
  requireUser,
  (req, _res, next) => {
    if (!canAdminister(req.user ?? null)) throw new ForbiddenError('This page is for administrators');
    next();
  },
];

/**
 * Failed logins per address and username, to answer repeats more and more slowly.
 * Counted in the database: every web process sees the same failures.
 */
class FailureDelays {
  constructor(
    private readonly db: Db,
    private readonly l: Required<LoginLimits>,
  ) {}

  private client(req: Request, username: string): string {
    return `user:${req.ip ?? ''} ${username.toLowerCase()}`;
  }

  /** How long to wait before answering this failure; counts it. */
  async failed(req: Request, username: string): Promise<number> {
    const { hits } = await addFailure(this.db, this.client(req, username), Date.now(), this.l.windowMs);
    // The first `freeFailures` are answered at once; then 1×, 2×, 4× ... the base wait.
    const over = hits - 1 - this.l.freeFailures;
    return over < 0 ? 0 : Math.min(this.l.maxDelayMs, this.l.baseDelayMs * 2 ** over);
  }

  async succeeded(req: Request, username: string): Promise<void> {
    await forgetFailures(this.db, this.client(req, username));
  }
}

/** express-rate-limit's counts of failed logins per key (an address, or an address and a username), in the database. */
class FailureStore implements Store {
  readonly localKeys = false;
  private windowMs = 15 * 60 * 1000;

  constructor(
    private readonly db: Db,
    readonly prefix: string,
  ) {}

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const f = await failuresOf(this.db, this.prefix + key, Date.now());
    return f ? { totalHits: f.hits, resetTime: new Date(f.resetAt) } : undefined;
  }

  async increment(key: string): Promise<ClientRateLimitInfo> {
    const f = await addFailure(this.db, this.prefix + key, Date.now(), this.windowMs);
    return { totalHits: f.hits, resetTime: new Date(f.resetAt) };
  }

  async decrement(key: string): Promise<void> {
    await takeBackFailure(this.db, this.prefix + key);
  }

  async resetKey(key: string): Promise<void> {
    await forgetFailures(this.db, this.prefix + key);
  }
}

function regenerate(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.regenerate((err) => (err ? reject(err) : resolve())));
}

function save(req: Request): Promise<void> {
  return new Promise((resolve, reject) => req.session.save((err) => (err ? reject(err) : resolve())));
}

/** The address a login counts against (an IPv6 client by its /56, as express-rate-limit advises). */
const addressOf = (req: Request): string => ipKeyGenerator(req.ip ?? '');

/** The username a login names, as it is counted (trimmed, in lower case, at most 100 characters). */
const loginName = (req: Request): string => (bodyValue(req, 'username') ?? '').trim().slice(0, 100).toLowerCase();

export function authRoutes(ctx: Context, secret: string, limits: LoginLimits = {}): express.Router {
  const maxFailures = limits.maxFailures ?? 20;
  const l: Required<LoginLimits> = {
    maxFailures,
    maxAddressFailures: limits.maxAddressFailures ?? maxFailures * 10,
    windowMs: limits.windowMs ?? 15 * 60 * 1000,
    freeFailures: limits.freeFailures ?? 3,
    baseDelayMs: limits.baseDelayMs ?? 500,
    maxDelayMs: limits.maxDelayMs ?? 8000,
  };
  const delays = new FailureDelays(ctx.db, l);
  const router = express.Router();

  const limiter = (prefix: string, limit: number, key: (req: Request) => string, who: string) =>
    rateLimit({
      windowMs: l.windowMs,
      limit,
      // Only failures count: a successful login (a redirect) gives its hit back.
      skipSuccessfulRequests: true,
      standardHeaders: 'draft-7',
      legacyHeaders: false,
      keyGenerator: key,
      store: new FailureStore(ctx.db, prefix),
      handler: (_req, _res, next, options) => {
        const minutes = Math.ceil(options.windowMs / 60_000);
        next(new HttpError(429, `Too many failed logins ${who}. Try again in ${minutes} minutes.`));
      },
    });
  const perUser = limiter('login:', l.maxFailures, (req) => `${addressOf(req)} ${loginName(req)}`, 'for this username from your address');
  const perAddress = limiter('address:', l.maxAddressFailures, addressOf, 'from your address');

  /** The login form's own CSRF check (no session yet: see login-token.ts). */
  const loginCsrf: express.RequestHandler = (req, _res, next) => {
    if (!validLoginToken(secret, req)) {
      throw new ForbiddenError('This form has expired or was sent from another site. Go back, reload the page and try again.');
    }
    next();
  };
  const loginPage = (req: Request, res: Response, locals: { next: string; username: string; error: string | null }, status = 200) =>
    render(res, 'login', { title: 'Log in', ...locals, csrfToken: loginToken(secret, req, res) }, status);

  router.get('/login', (req, res) => {
    const next = localPath(queryValue(req, 'next'), '/jobs');
    if (req.user) return res.redirect(303, next);
    loginPage(req, res, { next, username: '', error: null });
  });

  router.post('/login', loginCsrf, perAddress, perUser, async (req: Request, res: Response) => {
    const username = (bodyValue(req, 'username') ?? '').trim().slice(0, 100);
    const password = (bodyValue(req, 'password') ?? '').slice(0, 1000);
    const next = localPath(bodyValue(req, 'next'), '/jobs');
    const user = username && password ? await verifyPassword(ctx.db, username, password) : null;
    if (!user) {
      const wait = await delays.failed(req, username);
      if (wait > 0) await sleep(wait);
      ctx.log.warn('failed login', { username, ip: req.ip });
      // The actor is the name that was tried (an attacker's guesses are worth reading).
      await auditRequest(ctx, req, 'login.failed', `user ${username.slice(0, 100)}`, { actor: username.slice(0, 100) || '(no name)' });
      return loginPage(req, res, { next, username, error: 'Wrong username or password.' }, 401);
    }
    await delays.succeeded(req, username);
    // A new session id at login: a session id planted before the login is worth nothing.
    await regenerate(req);
    req.session.cookie.maxAge = SESSION_MAX_AGE_MS;
    req.session.userId = user.id;
    req.session.signedInAt = Date.now();
    // The new session's CSRF token, made now: made by the first pages after the login
    // instead, two of them loading at once (a page and its auto refresh, two tabs)
    // would each make one, and the form showing the token saved first would be refused.
    req.csrfToken?.();
    await save(req);
    clearLoginToken(res);
    await auditRequest(ctx, req, 'login', `user ${user.username}`, { actor: user.username });
    pruneExpiredSessions(ctx.db, Date.now()).catch((err: unknown) => ctx.log.warn(`cannot prune sessions: ${String(err)}`));
    pruneFailures(ctx.db, Date.now()).catch((err: unknown) => ctx.log.warn(`cannot prune failed logins: ${String(err)}`));
    res.redirect(303, next);
  });

  router.post('/logout', (req: Request, res: Response, next: NextFunction) => {
    if (!req.session) return res.redirect(303, '/login');
    req.session.destroy((err) => {
      if (err) return next(err);
      res.clearCookie('docket.sid', { httpOnly: true, sameSite: 'lax', path: '/' });
      res.redirect(303, '/login');
    });
  });

  return router;
}
