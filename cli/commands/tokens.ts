/** API tokens: create (optionally expiring), list, revoke. */
import { COMMAND_LINE, recordAudit } from '../../app/audit.js';
import type { Command } from 'commander';
import { formatDate } from '../../app/export.js';
import { createToken, listTokens, revokeToken, type TokenInfo } from '../../app/store/tokens.js';
import { findUser } from '../../app/store/users.js';
import { action } from '../action.js';
import { parseDuration } from '../duration.js';
import { iso, table, type CliIO } from '../io.js';
import { UsageError } from '../usage.js';

interface CreateOpts {
  label: string;
  expires?: string;
}

function tokenState(t: TokenInfo, now: number): string {
  if (t.revokedAt !== null) return 'revoked';
  if (t.expiresAt !== null && t.expiresAt <= now) return 'expired';
  return 'active';
}

function tokenId(raw: string): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`a token id is a positive whole number (see docket tokens:list), not "${raw}"`);
  return n;
}

export function registerTokenCommands(program: Command, io: CliIO): void {
  program
    .command('tokens:create')
    .argument('<name>', 'username the token acts as')
    .description('print a new API token (Authorization: Bearer <token>)')
    .option('--label <label>', 'what the token is for', 'cli')
    .option('--expires <time>', 'expire after this long: days or hours, such as 90d or 12h (default: never)')
    .action(
      action<CreateOpts>(
        io,
        async (ctx, [name], opts) => {
          const user = await findUser(ctx.db, name);
          if (!user) throw new UsageError(`no user "${name}"`);
          const expiresAt = opts.expires === undefined ? null : Date.now() + parseDuration(opts.expires, '--expires');
          io.out(`${await createToken(ctx.db, user.id, opts.label, expiresAt)}\n`);
          await recordAudit(ctx.db, ctx.log, { actor: COMMAND_LINE, action: 'token.create', target: `token of ${user.username}`, detail: opts.label });
          if (expiresAt !== null) io.err(`the token expires at ${formatDate(expiresAt)} UTC\n`);
          return 0;
        },
        { check: (_a, opts: CreateOpts) => void (opts.expires === undefined || parseDuration(opts.expires, '--expires')) },
      ),
    );

  program
    .command('tokens:list')
    .argument('[name]', "only this user's tokens")
    .description('list API tokens: id, user, label, created, last used, expires, revoked')
    .option('--json', 'as JSON')
    .action(
      action<{ json?: boolean }>(io, async (ctx, [name], opts) => {
        let userId: number | undefined;
        if (name !== undefined) {
          const user = await findUser(ctx.db, name);
          if (!user) throw new UsageError(`no user "${name}"`);
          userId = user.id;
        }
        const tokens = await listTokens(ctx.db, { userId });
        const now = Date.now();
        if (opts.json) {
          const rows = tokens.map((t) => ({
            id: t.id,
            user: t.username,
            label: t.name,
            state: tokenState(t, now),
            createdAt: iso(t.createdAt),
            lastUsedAt: iso(t.lastUsedAt),
            expiresAt: iso(t.expiresAt),
            revokedAt: iso(t.revokedAt),
          }));
          io.out(`${JSON.stringify(rows, null, 2)}\n`);
          return 0;
        }
        if (tokens.length === 0) {
          io.out(name === undefined ? 'no API tokens\n' : `no API tokens for "${name}"\n`);
          return 0;
        }
        const head = ['ID', 'USER', 'LABEL', 'STATE', 'CREATED', 'LAST USED', 'EXPIRES', 'REVOKED'];
        const cell = (ms: number | null, none: string): string => (ms === null ? none : formatDate(ms));
        io.out(
          table(
            head,
            tokens.map((t) => [
              String(t.id),
              t.username,
              t.name,
              tokenState(t, now),
              formatDate(t.createdAt),
              cell(t.lastUsedAt, 'never'),
              cell(t.expiresAt, 'never'),
              cell(t.revokedAt, '-'),
            ]),
          ),
        );
        return 0;
      }),
    );

  program
    .command('tokens:revoke')
    .argument('<id>', 'token id (from docket tokens:list)')
    .description('revoke an API token: it stops working at once')
    .action(
      action<object>(
        io,
        async (ctx, [raw]) => {
          const outcome = await revokeToken(ctx.db, tokenId(raw));
          if (outcome === 'missing') throw new Error(`token ${raw} does not exist`);
          if (outcome === 'revoked') await recordAudit(ctx.db, ctx.log, { actor: COMMAND_LINE, action: 'token.revoke', target: `token ${raw}` });
          io.out(outcome === 'revoked' ? `token ${raw} revoked\n` : `token ${raw} was already revoked\n`);
          return 0;
        },
        { check: ([raw]) => void tokenId(raw) },
      ),
    );
}
