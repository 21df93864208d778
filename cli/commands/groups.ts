/** Groups (envelopes): create from a JSON file, list, show, cancel, retry. */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Context } from '../../app/context.js';
import { formatDate } from '../../app/export.js';
import { GroupService, type NewGroup } from '../../app/groups/service.js';
import { GROUP_STATUS_CODES } from '../../app/groups/status.js';
import { findUser } from '../../app/store/users.js';
import { STATUS_LABELS, type User } from '../../app/types.js';
import { groupDetailJson, groupJson, waitingFor } from '../../app/web/group-present.js';
import { action } from '../action.js';
import { brokerReady } from '../broker.js';
import { positiveInt, table, type CliIO } from '../io.js';
import { UsageError } from '../usage.js';

function groupId(raw: unknown): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`a group id is a positive whole number, not "${String(raw)}"`);
  return n;
}

async function readGroupFile(file: string): Promise<NewGroup> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as NewGroup;
  } catch (err) {
    throw new UsageError(`${file} is not JSON: ${(err as Error).message}`);
  }
}

async function create(ctx: Context, file: string, opts: { user?: string }, io: CliIO): Promise<number> {
  const body = await readGroupFile(file);
  let user: User | null = null;
  if (opts.user) {
    user = await findUser(ctx.db, opts.user);
    if (!user) throw new UsageError(`no user "${opts.user}"`);
  }
  // Creating publishes the runnable jobs: as `run`, not before the broker is connected.
  await brokerReady(ctx);
  const g = await new GroupService(ctx.service).create(body, user, 'cli');
  io.out(`group ${g.id} created: ${g.jobs.length} job(s) (${g.jobs.map((j) => j.id).join(', ')})${g.chain ? ', as a chain' : ''}\n`);
  return 0;
}

async function show(ctx: Context, raw: string, json: boolean, io: CliIO): Promise<number> {
  const g = await new GroupService(ctx.service).detail(groupId(raw), null);
  if (json) {
    io.out(`${JSON.stringify(groupDetailJson(g), null, 2)}\n`);
    return 0;
  }
  io.out(
    [
      `Group ${g.id}: ${g.name}${g.chain ? ' (chain)' : ''}`,
      `Status:    ${g.status} (code ${GROUP_STATUS_CODES[g.status]})${g.complete ? ', complete' : ''}`,
      `User:      ${g.username ?? 'Command line'} (${g.origin})`,
      `Created:   ${formatDate(g.createdAt)}`,
      '',
    ].join('\n'),
  );
  const rows = g.jobs.map((j) => [String(j.groupSeq + 1), String(j.id), j.task, STATUS_LABELS[j.status], waitingFor(g.jobs, j) ?? j.error ?? j.resultSummary ?? '']);
  io.out(table(['STEP', 'JOB', 'TASK', 'STATUS', 'INFO'], rows));
  return 0;
}

export function registerGroupCommands(program: Command, io: CliIO): void {
  program
    .command('groups:create')
    .argument('<file>', 'a JSON file: {"name": "...", "chain": true, "jobs": [{"task": "...", "params": {...}}]}')
    .option('--user <name>', "record the group as this user's")
    .description('submit jobs together as one group (a chain runs them one after another)')
    .action(action<{ user?: string }>(io, (ctx, [file], opts) => create(ctx, file, opts, io)));

  program
    .command('groups:list')
    .option('--limit <n>', 'how many, newest first', '50')
    .option('--json', 'print a JSON array')
    .description('list groups with their combined status')
    .action(
      action<{ limit: string; json?: boolean }>(io, async (ctx, _args, opts) => {
        const limit = positiveInt(opts.limit, '--limit', 1);
        const groups = await new GroupService(ctx.service).list(null, { limit });
        if (opts.json) {
          io.out(`${JSON.stringify(groups.map(groupJson), null, 2)}\n`);
          return 0;
        }
        if (groups.length === 0) {
          io.out('no groups\n');
          return 0;
        }
        const rows = groups.map((g) => [String(g.id), g.name, g.chain ? 'chain' : 'group', g.status, `${g.counts.completed}/${g.jobCount}`, g.username ?? 'Command line', formatDate(g.createdAt)]);
        io.out(table(['ID', 'NAME', 'KIND', 'STATUS', 'DONE', 'USER', 'CREATED'], rows));
        return 0;
      }),
    );

  program
    .command('groups:show')
    .argument('<id>', 'group id')
    .option('--json', 'as JSON')
    .description('show a group: its combined status and its jobs in order')
    .action(action<{ json?: boolean }>(io, (ctx, [raw], opts) => show(ctx, raw, opts.json === true, io)));

  for (const act of ['cancel', 'retry'] as const) {
    program
      .command(`groups:${act}`)
      .argument('<id>', 'group id')
      .description(act === 'cancel' ? "cancel a group's queued and running jobs" : "retry a group's failed and cancelled jobs (a chain resumes where it stopped)")
      .action(
        action<object>(io, async (ctx, [raw]) => {
          if (act === 'retry') await brokerReady(ctx);
          const svc = new GroupService(ctx.service);
          const g = act === 'cancel' ? await svc.cancel(groupId(raw), null) : await svc.retry(groupId(raw), null);
          io.out(`group ${g.id}: ${g.status}\n`);
          return 0;
        }),
      );
  }
}
