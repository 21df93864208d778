/**
 * The login form's CSRF protection, without a session. A session row per anonymous
 * visit to /login (the synchroniser token lived in one) let anyone fill the sessions
 * table; so the login form uses a signed double-submit token instead: a random value in
 * an HttpOnly cookie, and its HMAC under the session secret in the form. Another site
 * can neither read the cookie nor forge the HMAC, and a cookie planted by a sibling host
 * is worth nothing without the form's value. The session is created at a successful
 * login only.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { bodyValue } from './http.js';

export const LOGIN_COOKIE = 'docket.login';
/** The login form stays valid this long. */
const LOGIN_TOKEN_MS = 3600 * 1000;

function cookieOf(req: Request): string | null {
  const header = req.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === LOGIN_COOKIE) {
      const v = part.slice(i + 1).trim();
      return /^[A-Za-z0-9_-]{20,64}$/.test(v) ? v : null;
    }
  }
  return null;
}

const sign = (secret: string, nonce: string): string => createHmac('sha256', secret).update(`login:${nonce}`).digest('base64url');

/** The token for the login form; sets its cookie when the visitor has none. */
export function loginToken(secret: string, req: Request, res: Response): string {
  let nonce = cookieOf(req);
  if (!nonce) {
    nonce = randomBytes(24).toString('base64url');
    res.cookie(LOGIN_COOKIE, nonce, { httpOnly: true, sameSite: 'lax', secure: req.secure, maxAge: LOGIN_TOKEN_MS, path: '/login' });
  }
  return sign(secret, nonce);
}

/** Whether the posted form carries the token of this visitor's cookie. */
export function validLoginToken(secret: string, req: Request): boolean {
  const nonce = cookieOf(req);
  const sent = bodyValue(req, '_csrf');
  if (!nonce || !sent) return false;
  const want = Buffer.from(sign(secret, nonce));
  const got = Buffer.from(sent);
  return got.length === want.length && timingSafeEqual(got, want);
}

export function clearLoginToken(res: Response): void {
  res.clearCookie(LOGIN_COOKIE, { httpOnly: true, sameSite: 'lax', path: '/login' });
}
