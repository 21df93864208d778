/**
 * The groups API (DESIGN.md §3): `POST /api/groups`, `GET /api/groups[/:id]`,
 * `POST /api/groups/:id/cancel|retry`. Same permissions as jobs: a group is its
 * owner's, and another archivist's group is a 404.
 */
import express, { type Request, type Response } from 'express';
import type { Context } from '../context.js';
import { BadRequestError, NotFoundError } from '../errors.js';
import { GroupService, type NewGroup } from '../groups/service.js';
import type { User } from '../types.js';
import { requireUser } from './auth.js';
import { chunkCursorParam, queryValue } from './http.js';
import { groupDetailJson, groupJson } from './group-present.js';

/** A group id from the path; anything else names no group. */
export function groupIdParam(raw: unknown): number {
  const s = typeof raw === 'string' ? raw : '';
  if (!/^[1-9][0-9]{0,15}$/.test(s) || !Number.isSafeInteger(Number(s))) throw new NotFoundError('No such group');
  return Number(s);
}

export function groupApiRoutes(ctx: Context): express.Router {
  const router = express.Router();
  const groups = new GroupService(ctx.service);
  router.use(requireUser);

  router.post('/', async (req: Request, res: Response) => {
    const body = req.body as unknown;
    if (!body || typeof body !== 'object' || Array.isArray(body) || !req.is('application/json')) {
      throw new BadRequestError('send a JSON object: {"name": "...", "chain": false, "jobs": [{"task": "...", "params": {...}}]}');
    }
    const g = await groups.create(body as NewGroup, req.user as User, 'api');
    res.status(202).set('Location', `/api/groups/${g.id}`).json({ group: groupDetailJson(g) });
  });

  router.get('/', async (req: Request, res: Response) => {
    const raw = queryValue(req, 'limit');
    const limit = raw === null || raw === '' ? 50 : Number(raw);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) throw new BadRequestError('limit must be a whole number from 1 to 200');
    const before = chunkCursorParam(queryValue(req, 'before'), 'a group id');
    const list = await groups.list(req.user as User, { limit, before });
    res.set('Cache-Control', 'private, no-cache').json({ groups: list.map(groupJson) });
  });

  router.get('/:id', async (req: Request, res: Response) => {
    const g = await groups.detail(groupIdParam(req.params.id), req.user as User);
    if (!g.complete) res.set('Retry-After', '5');
    res.set('Cache-Control', 'private, no-cache').json({ group: groupDetailJson(g) });
  });

  router.post('/:id/cancel', async (req: Request, res: Response) => {
    const g = await groups.cancel(groupIdParam(req.params.id), req.user as User);
    res.json({ group: groupDetailJson(g) });
  });

  router.post('/:id/retry', async (req: Request, res: Response) => {
    const g = await groups.retry(groupIdParam(req.params.id), req.user as User);
    res.status(202).json({ group: groupDetailJson(g) });
  });

  return router;
}
