/**
 * The audit trail's one entry point: who did what, to what, from where. Pages, the API
 * and the CLI call `auditRequest` or `recordAudit` right after an action succeeds.
 *
 * Recording never fails the action it follows: the action has happened by then, and
 * answering an error for it would invite the user to do it again. A failed write is
 * logged as an error instead.
 */
import type { Db } from './db.js';
import { BadRequestError } from './errors.js';
import type { Logger } from './logger.js';
import { insertAudit } from './store/audit.js';

/** The actions the trail records (the `action` column), with what they mean. */
export const AUDIT_ACTIONS = {
  'job.cancel': 'cancelled a job',
  'job.retry': 'retried a job',
  'job.discard': 'discarded a job',
  'jobs.clear': 'cleared inactive jobs',
  'jobs.expire': 'removed jobs past their retention',
  'queue.pause': 'paused processing',
  'queue.resume': 'resumed processing',
  'queue.clear': 'cancelled every queued job',
  'queue.pause-on-failure': 'switched pause on failure',
  'queue.auto-pause': 'paused processing after a failure',
  'profile.webhook.add': 'subscribed their jobs to a webhook',
  'profile.webhook.remove': 'removed a webhook subscription',
  'user.password': 'changed a password',
  'token.create': 'created an API token',
  'token.revoke': 'revoked an API token',
  login: 'logged in',
  'login.failed': 'failed to log in',
} as const;

export type AuditAction = keyof typeof AUDIT_ACTIONS;

/** The actor name of the command line's own actions (as jobs name it). */
export const COMMAND_LINE = 'Command line';

export interface AuditRecord {
  actor: string;
  action: AuditAction;
  target?: string | null;
  detail?: string | null;
  /** The client's address (req.ip, which honours TRUST_PROXY); null for the command line. */
  address?: string | null;
}

export async function recordAudit(db: Db, log: Logger, r: AuditRecord, at = Date.now()): Promise<void> {
  try {
    await insertAudit(db, { at, actor: r.actor, address: r.address ?? null, action: r.action, target: r.target ?? null, detail: r.detail ?? null });
  } catch (err) {
    log.error(`cannot record audit entry ${r.action} by ${r.actor}: ${String(err)}`);
  }
}

/** An entry for a web or API request: its user (or `actor`) and its address. */
export function auditRequest(
  ctx: { db: Db; log: Logger },
  req: { ip?: string; user?: { username: string } },
  action: AuditAction,
  target: string | null,
  opts: { detail?: string | null; actor?: string } = {},
): Promise<void> {
  const actor = opts.actor ?? req.user?.username ?? 'anonymous';
  return recordAudit(ctx.db, ctx.log, { actor, action, target, detail: opts.detail ?? null, address: req.ip ?? null });
}

const UNIT_MS = { h: 3600 * 1000, d: 24 * 3600 * 1000 } as const;

/**
 * A `since` filter: an ISO 8601 date or time (`2026-11-01`, `2026-11-01T09:00:00Z`) or a
 * length of time back from now (`7d`, `12h`). Empty means no filter.
 */
export function parseSince(raw: string | null | undefined, now = Date.now()): number | null {
  const v = (raw ?? '').trim();
  if (v === '') return null;
  const ago = /^([1-9]\d{0,5})([dh])$/.exec(v);
  if (ago) return now - Number(ago[1]) * UNIT_MS[ago[2] as keyof typeof UNIT_MS];
  const t = /^\d{4}-\d\d-\d\d([T ][\d:.]+(Z|[+-]\d\d:?\d\d)?)?$/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new BadRequestError(`since takes an ISO date such as 2026-11-01 or a time back such as 7d or 12h, not "${v.slice(0, 40)}"`);
  return t;
}

/** An action filter: one of AUDIT_ACTIONS, or empty for all. */
export function parseAction(raw: string | null | undefined): AuditAction | null {
  const v = (raw ?? '').trim();
  if (v === '') return null;
  if (!Object.hasOwn(AUDIT_ACTIONS, v)) throw new BadRequestError(`action must be one of ${Object.keys(AUDIT_ACTIONS).join(', ')}; not "${v.slice(0, 40)}"`);
  return v as AuditAction;
}
