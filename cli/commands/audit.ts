/** The audit trail: `docket audit [--since ISO|7d] [--actor NAME] [--action A] [--limit N] [--json|--csv]`. */
import { Writable } from 'node:stream';
import type { Command } from 'commander';
import { AUDIT_ACTIONS, parseAction, parseSince } from '../../app/audit.js';
import { writeAuditCsv } from '../../app/audit-export.js';
import type { Context } from '../../app/context.js';
import { formatDate } from '../../app/export.js';
import { auditPage, type AuditEntry } from '../../app/store/audit.js';
import { HttpError } from '../../app/errors.js';
import { action } from '../action.js';
import { iso, positiveInt, table, type CliIO } from '../io.js';
import { UsageError } from '../usage.js';

interface AuditOpts {
  since?: string;
  actor?: string;
  action?: string;
  limit: string;
  json?: boolean;
  csv?: boolean;
}

/** The filters, checked before anything opens: a bad one is a usage error (exit 2). */
function filters(opts: AuditOpts) {
  try {
    return { since: parseSince(opts.since), actor: opts.actor?.trim() || null, action: parseAction(opts.action) };
  } catch (err) {
    if (err instanceof HttpError) throw new UsageError(err.message.replace(/^since/, '--since').replace(/^action/, '--action'));
    throw err;
  }
}

async function show(ctx: Context, opts: AuditOpts, io: CliIO): Promise<number> {
  const q = filters(opts);
  if (opts.csv) {
    const sink = new Writable({
      write(chunk, _e, cb) {
        io.out(String(chunk));
        cb();
      },
    });
    await writeAuditCsv(ctx.db, q, sink);
    return 0;
  }
  const limit = positiveInt(opts.limit, '--limit', 0);
  const entries: AuditEntry[] = [];
  let after: number | null = null;
  do {
    const want = limit === 0 ? 1000 : Math.min(1000, limit - entries.length);
    const page = await auditPage(ctx.db, { ...q, after, limit: want });
    entries.push(...page.entries);
    after = page.next;
  } while (after !== null && (limit === 0 || entries.length < limit));
  if (opts.json) {
    const rows = entries.map((e) => ({ id: e.id, at: iso(e.at), actor: e.actor, address: e.address, action: e.action, target: e.target, detail: e.detail }));
    io.out(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  if (entries.length === 0) {
    io.out('no audit entries\n');
    return 0;
  }
  const rows = entries.map((e) => [formatDate(e.at), e.actor, e.address ?? '-', e.action, e.target ?? '', e.detail ?? '']);
  io.out(table(['TIME (UTC)', 'ACTOR', 'ADDRESS', 'ACTION', 'TARGET', 'DETAIL'], rows));
  return 0;
}

export function registerAuditCommands(program: Command, io: CliIO): void {
  program
    .command('audit')
    .description('show the audit trail, newest first: who cancelled, retried, cleared, discarded, paused, logged in ...')
    .option('--since <when>', 'only entries since an ISO date or time (2026-11-01) or a time back (7d, 12h)')
    .option('--actor <name>', 'only this actor (a username, or "Command line")')
    .option('--action <action>', `only this action: ${Object.keys(AUDIT_ACTIONS).join(', ')}`)
    .option('--limit <n>', 'how many (0 means all)', '100')
    .option('--json', 'print a JSON array')
    .option('--csv', 'print every matching entry as CSV (ignores --limit)')
    .action(action<AuditOpts>(io, (ctx, _args, opts) => show(ctx, opts, io), { check: (_a, opts: AuditOpts) => void filters(opts) }));
}
