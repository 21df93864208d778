/**
 * The audit trail for administrators: `/audit` with filters (actor, action, since) and
 * keyset pages, newest first, and `/audit/export.csv` with the same filters, streamed.
 */
import express, { type Request, type Response } from 'express';
import { AUDIT_ACTIONS, parseAction, parseSince } from '../audit.js';
import { writeAuditCsv } from '../audit-export.js';
import type { Context } from '../context.js';
import { isoUtc, secondsUtc } from '../dates.js';
import { auditPage } from '../store/audit.js';
import { requireAdmin } from './auth.js';
import { cursorParam, queryValue } from './http.js';
import { render } from './render.js';

export const AUDIT_PAGE = 100;

function filterOf(req: Request) {
  const actor = (queryValue(req, 'actor') ?? '').trim().slice(0, 100) || null;
  const action = parseAction(queryValue(req, 'action'));
  const sinceText = (queryValue(req, 'since') ?? '').trim();
  return { actor, action, since: parseSince(sinceText), sinceText };
}

function query(f: { actor: string | null; action: string | null; sinceText: string }, after: number | null = null): string {
  const p = new URLSearchParams();
  if (f.actor) p.set('actor', f.actor);
  if (f.action) p.set('action', f.action);
  if (f.sinceText) p.set('since', f.sinceText);
  if (after) p.set('after', String(after));
  return p.toString();
}

export function auditRoutes(ctx: Context): express.Router {
  const router = express.Router();

  router.get('/audit', requireAdmin, async (req: Request, res: Response) => {
    const f = filterOf(req);
    const after = cursorParam(queryValue(req, 'after'), 'after');
    const page = await auditPage(ctx.db, { actor: f.actor, action: f.action, since: f.since, after, limit: AUDIT_PAGE });
    render(res, 'audit', {
      title: 'Audit trail',
      filter: f,
      actions: Object.entries(AUDIT_ACTIONS).map(([value, label]) => ({ value, label })),
      entries: page.entries.map((e) => ({ ...e, time: secondsUtc(e.at), iso: isoUtc(e.at), label: AUDIT_ACTIONS[e.action as keyof typeof AUDIT_ACTIONS] ?? e.action })),
      firstHref: after ? `/audit?${query(f)}` : null,
      nextHref: page.next ? `/audit?${query(f, page.next)}` : null,
      exportHref: `/audit/export.csv?${query(f)}`,
      auditDays: ctx.config.auditDays,
    });
  });

  router.get('/audit/export.csv', requireAdmin, async (req: Request, res: Response) => {
    const f = filterOf(req);
    res.set('Content-Type', 'text/csv; charset=utf-8');
    res.set('Cache-Control', 'no-store');
    res.attachment(`audit-${new Date().toISOString().slice(0, 10)}.csv`);
    await writeAuditCsv(ctx.db, { actor: f.actor, action: f.action, since: f.since }, res);
  });

  return router;
}
