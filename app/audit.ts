/**
 * The audit trail's one entry point: who did what, to what, from where. Pages, the API
 * and the CLI call `auditRequest` or `recordAudit` right after an action succeeds.
 *
 * Recording never fails the action it follows: the action has happened by then, and
 * answering an error for it would invite the user to do it again. A failed write is
 * logged as an error instead.
 */
import type { Db } from './db.js';
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
