/**
 * Jobs a user may create per minute, by form or API. A script in a loop (or a stuck
 * button) could otherwise queue jobs faster than any worker runs them. Counted per user
 * and per web process, in memory: the limit protects the queue from one runaway client,
 * it is no quota (several web processes each allow it).
 */
import type { RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { HttpError } from '../errors.js';

/** The paths whose POST creates a job. */
export const JOB_CREATING_POSTS = [
  '/jobs',
  '/api/jobs',
  '/api/groups',
  '/descriptions/import',
  '/descriptions/:ref/export',
  '/descriptions/:ref/export-finding-aid',
  '/descriptions/:ref/finding-aid',
  '/descriptions/:ref/publication-status',
  '/descriptions/:ref/move',
];

/** A limiter of `perMinute` new jobs per signed-in user; null when there is no limit (0). */
export function jobRateLimit(perMinute: number): RequestHandler | null {
  if (perMinute <= 0) return null;
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    // Anonymous requests are refused by the routes themselves (401).
    skip: (req) => !req.user,
    keyGenerator: (req) => `user:${req.user?.id ?? 0}`,
    handler: (_req, _res, next) => {
      next(
        new HttpError(
          429,
          `You have started ${perMinute} jobs in the last minute, the most one user may start; wait a minute and try again.`,
        ),
      );
    },
  });
}
