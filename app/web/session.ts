/**
 * Sessions in the jobs database (connect-session-knex), so that a login survives a
 * restart of the web process and works across several web processes behind one
 * address. The cookie is HttpOnly and SameSite=Lax; Secure when the request came over
 * HTTPS (directly or through a proxy on loopback).
 */
import { randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import session, { type SessionData } from 'express-session';
import { ConnectSessionKnexStore } from 'connect-session-knex';
import type { Context } from '../context.js';
import { getOrCreateSetting } from '../store/settings.js';
import { bearerToken, isApi } from './http.js';

/** A session lasts this long after its last use. */
export const SESSION_MAX_AGE_MS = 12 * 3600 * 1000;
/** A session's expiry is written back at most this often (every request would be a write). */
export const TOUCH_EVERY_MS = 60 * 1000;

/**
 * The package's store, with two changes:
 * - `touch` is throttled per session, because express-session touches on every
 *   request and the jobs page polls every 5 s (on SQLite each write takes the file lock
 *   the workers need);
 * - the store's promises are not left to reject unhandled: it reports errors to
 *   express-session's callback *and* rethrows, and an unhandled rejection would end
 *   the process on a database blip.
 */
class DocketSessionStore extends ConnectSessionKnexStore {
  private touched = new Map<string, number>();

  constructor(
    options: ConstructorParameters<typeof ConnectSessionKnexStore>[0],
    private readonly touchEveryMs: number,
  ) {
    super(options);
  }

  override get(sid: string, cb: (err: unknown, s?: SessionData | null) => void): Promise<SessionData | null> {
    return super.get(sid, cb).catch(() => null);
  }

  override set(sid: string, s: SessionData, cb?: (err?: unknown) => void): Promise<void> {
    this.touched.set(sid, Date.now());
    return super.set(sid, s, cb).catch(() => undefined);
  }

  override destroy(sid: string, cb?: (err?: unknown) => void): Promise<number> {
    this.touched.delete(sid);
    return super.destroy(sid, cb).catch(() => 0);
  }

  override async touch(sid: string, s: SessionData, cb?: (err?: unknown) => void): Promise<void> {
    const now = Date.now();
    const last = this.touched.get(sid);
    if (last !== undefined && now - last < this.touchEveryMs) {
      cb?.();
      return;
    }
    if (this.touched.size > 50_000) this.touched.clear();
    this.touched.set(sid, now);
    try {
      await super.touch(sid, s);
      cb?.();
    } catch (err) {
      cb?.(err);
    }
  }
}

/** SESSION_SECRET, or one generated on first start and kept in the database for every process. */
export async function sessionSecret(ctx: Context): Promise<string> {
  if (ctx.config.sessionSecret) return ctx.config.sessionSecret;
  return getOrCreateSetting(ctx.db, 'session_secret', () => randomBytes(32).toString('base64url'));
}

export async function sessionMiddleware(ctx: Context, touchEveryMs = TOUCH_EVERY_MS): Promise<RequestHandler> {
  const store = new DocketSessionStore(
    {
      knex: ctx.db,
      tableName: 'sessions',
      createTable: false,
      // Expired sessions are pruned at each login instead of by a timer that would outlive the app.
      cleanupInterval: 0,
    },
    touchEveryMs,
  );
  const mw = session({
    name: 'docket.sid',
    secret: await sessionSecret(ctx),
    store,
    resave: false,
    saveUninitialized: false,
    rolling: true,
    cookie: { httpOnly: true, sameSite: 'lax', secure: 'auto', maxAge: SESSION_MAX_AGE_MS },
  });
  // A script with an API token needs no session: none is read, none is created.
  return (req, res, next) => (isApi(req) && bearerToken(req) ? next() : mw(req, res, next));
}
