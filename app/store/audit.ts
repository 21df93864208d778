/**
 * The audit table: append an entry, read keyset pages newest first with filters, prune
 * old entries in batches. Nothing else writes or reads it.
 */
import type { Db } from '../db.js';

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  address: string | null;
  action: string;
  target: string | null;
  detail: string | null;
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>;

export interface AuditQuery {
  actor?: string | null;
  action?: string | null;
  /** Only entries at or after this time (epoch ms). */
  since?: number | null;
  /** Keyset cursor: the last id of the previous page (newest first). */
  after?: number | null;
  /** Default 100. */
  limit?: number;
}

const cut = (v: string | null, n: number): string | null => (v === null ? null : v.slice(0, n));

export async function insertAudit(db: Db, e: NewAuditEntry): Promise<void> {
  await db('audit').insert({
    at: e.at,
    actor: e.actor.slice(0, 100),
    address: cut(e.address, 64),
    action: e.action.slice(0, 32),
    target: cut(e.target, 200),
    detail: cut(e.detail, 500),
  });
}

const toEntry = (r: Record<string, unknown>): AuditEntry => ({
  id: Number(r.id),
  at: Number(r.at),
  actor: String(r.actor),
  address: (r.address as string | null) ?? null,
  action: String(r.action),
  target: (r.target as string | null) ?? null,
  detail: (r.detail as string | null) ?? null,
});

/** One page, newest first; `next` is the cursor of the following page, or null on the last. */
export async function auditPage(db: Db, q: AuditQuery): Promise<{ entries: AuditEntry[]; next: number | null }> {
  const limit = q.limit ?? 100;
  const b = db('audit').select('id', 'at', 'actor', 'address', 'action', 'target', 'detail');
  if (q.actor) b.where('actor', q.actor);
  if (q.action) b.where('action', q.action);
  if (q.since !== null && q.since !== undefined) b.where('at', '>=', q.since);
  if (q.after) b.where('id', '<', q.after);
  const rows = (await b.orderBy('id', 'desc').limit(limit + 1)) as Array<Record<string, unknown>>;
  const more = rows.length > limit;
  const entries = (more ? rows.slice(0, limit) : rows).map(toEntry);
  return { entries, next: more ? entries[entries.length - 1].id : null };
}

/** Deletes up to `limit` entries older than `before`, oldest first; returns how many went. */
export async function pruneAudit(db: Db, before: number, limit: number): Promise<number> {
  const ids = (await db('audit').where('at', '<', before).orderBy('at', 'asc').limit(limit).pluck('id')).map(Number);
  if (ids.length === 0) return 0;
  return db('audit').whereIn('id', ids).delete();
}
