/**
 * Small request helpers shared by the pages and the API.
 */
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { BadRequestError, NotFoundError } from '../errors.js';

/** One query or form value as a string: the last one when a name is repeated, null when absent. */
export function one(v: unknown): string | null {
  if (Array.isArray(v)) return one(v[v.length - 1]);
  return typeof v === 'string' ? v : null;
}

export function queryValue(req: Request, name: string): string | null {
  return one((req.query as Record<string, unknown>)[name]);
}

export function bodyValue(req: Request, name: string): string | null {
  const body = req.body as Record<string, unknown> | undefined;
  return body && typeof body === 'object' ? one(body[name]) : null;
}

/**
 * A job id from the path. Anything that is not a positive whole number is a job that
 * does not exist (404), the same answer an archivist gets for another user's job.
 */
export function jobIdParam(raw: unknown): number {
  const s = one(raw);
  if (!s || !/^[1-9][0-9]{0,15}$/.test(s)) throw new NotFoundError('No such job');
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new NotFoundError('No such job');
  return n;
}

/** A keyset cursor: a positive id, or null. */
export function cursorParam(raw: string | null, name = 'after'): number | null {
  if (raw === null || raw === '') return null;
  if (!/^[1-9][0-9]{0,15}$/.test(raw)) throw new BadRequestError(`"${name}" must be a job id`);
  return Number(raw);
}

/**
 * A cursor within one job: the id of the last output chunk (or event) seen, 0 (or
 * nothing) for the start. Chunks and events have their own ids, not job ids.
 */
export function chunkCursorParam(raw: string | null, what = 'an output chunk id'): number {
  if (raw === null || raw === '') return 0;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(raw)) {
    throw new BadRequestError(`"after" must be ${what} (a whole number; 0 or nothing for the start)`);
  }
  return Number(raw);
}

/**
 * Where to go after a login or a form: only a path on this site. "//evil.example" and
 * "/\\evil.example" are other sites to a browser, and so is "/\t/evil.example": browsers
 * drop tabs and line breaks from a URL and read a backslash as a slash. So a path with
 * any control character or backslash is refused, wherever it is.
 */
export function localPath(raw: string | null, fallback: string): string {
  if (!raw || raw.length > 2000) return fallback;
  if (!raw.startsWith('/') || raw.startsWith('//')) return fallback;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(raw)) return fallback;
  return raw;
}

/**
 * The request's URL for a log line, its CSRF token blanked: an upload form sends the
 * token in the query string (`?_csrf=`), and a log is no place for it.
 */
export function loggedUrl(req: Request): string {
  return req.originalUrl.replace(/([?&]_csrf=)[^&#]*/gi, '$1[redacted]');
}

/** True for requests under /api, which get JSON answers (errors included). */
export function isApi(req: Request): boolean {
  // originalUrl, not path: inside a router mounted at /api, req.path no longer starts with it.
  const path = req.originalUrl.split('?')[0];
  return path === '/api' || path.startsWith('/api/');
}

/** The page's own script asking for a fragment (auto refresh, live details). */
export function isFragment(req: Request): boolean {
  return queryValue(req, 'partial') === '1';
}

export function bearerToken(req: Request): string | null {
  const h = req.get('authorization');
  if (!h) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : null;
}

/**
 * Sends JSON with a strong ETag and answers a matching `If-None-Match` with 304.
 * Express's own check is skipped on purpose: it treats a request's
 * `Cache-Control: no-cache` as "never 304", and fetch() adds that header to every
 * conditional request, so a poller using fetch would never see a 304.
 */
export function sendJsonWithEtag(req: Request, res: Response, body: unknown): void {
  const json = JSON.stringify(body);
  const tag = `"${createHash('sha1').update(json).digest('base64url')}"`;
  res.set('ETag', tag);
  const ifNoneMatch = req.get('if-none-match');
  if (ifNoneMatch) {
    const tags = ifNoneMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
    if (tags.includes(tag) || tags.includes('*')) {
      res.status(304).end();
      return;
    }
  }
  res.type('application/json').send(json);
}
