/**
 * The administrators' API tokens page: every user's tokens (label, created, last used,
 * expiry, state) with a revoke button, CSRF-protected like every form.
 */
import express, { type Request, type Response } from 'express';
import { auditRequest } from '../audit.js';
import type { Context } from '../context.js';
import { formatDate } from '../export.js';
import { getToken, listTokens, revokeToken, type TokenInfo } from '../store/tokens.js';
import { listAccounts } from '../store/users.js';
import type { User } from '../types.js';
import { requireAdmin } from './auth.js';
import { flash, render, saveAndRedirect } from './render.js';
import { NotFoundError } from '../errors.js';

function tokenRow(t: TokenInfo, now: number) {
  const state = t.revokedAt !== null ? 'revoked' : t.expiresAt !== null && t.expiresAt <= now ? 'expired' : 'active';
  return {
    id: t.id,
    label: t.name,
    state,
    created: formatDate(t.createdAt),
    lastUsed: t.lastUsedAt === null ? 'never' : formatDate(t.lastUsedAt),
    expires: t.expiresAt === null ? 'never' : formatDate(t.expiresAt),
    revoked: t.revokedAt === null ? null : formatDate(t.revokedAt),
  };
}

export function tokenRoutes(ctx: Context): express.Router {
  const router = express.Router();

  router.get('/tokens', requireAdmin, async (_req: Request, res: Response) => {
    const now = Date.now();
    const [accounts, tokens] = await Promise.all([listAccounts(ctx.db), listTokens(ctx.db)]);
    const users = accounts.map((a) => ({
      username: a.user.username,
      role: a.user.role,
      disabled: a.disabledAt !== null,
      tokens: tokens.filter((t) => t.userId === a.user.id).map((t) => tokenRow(t, now)),
    }));
    render(res, 'tokens', { title: 'API tokens', users });
  });

  router.post('/tokens/:id/revoke', requireAdmin, async (req: Request, res: Response) => {
    const id = Number(req.params.id);
    const token = Number.isInteger(id) && id > 0 ? await getToken(ctx.db, id) : null;
    if (!token) throw new NotFoundError(`There is no API token ${String(req.params.id)}`);
    const actor = req.user as User;
    const outcome = await revokeToken(ctx.db, id);
    ctx.log.info(`API token ${id} of ${token.username} revoked by ${actor.username}`);
    if (outcome === 'revoked') await auditRequest(ctx, req, 'token.revoke', `token ${id} of ${token.username}`, { detail: token.name });
    flash(req, 'info', outcome === 'revoked' ? `Token ${id} ("${token.name}") of ${token.username} is revoked.` : `Token ${id} was already revoked.`);
    await saveAndRedirect(req, res, '/tokens');
  });

  return router;
}
