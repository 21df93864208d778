/** The administrator's task runner (`docket run`) and the task list (`docket tasks`). */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import type { Context } from '../../app/context.js';
import { isFileId } from '../../app/files/index.js';
import { findUser } from '../../app/store/users.js';
import { PRIORITIES, type PriorityName, type User } from '../../app/types.js';
import { getTask, listTasks, type TaskSpec } from '../../app/tasks/index.js';
import { action } from '../action.js';
import { brokerReady } from '../broker.js';
import type { CliIO } from '../io.js';
import { UsageError } from '../usage.js';
import { waitFor } from '../wait.js';

const RUN_USAGE =
  'usage: docket run TASK [--PARAM VALUE ...] [--user NAME] [--priority high|normal|low] [--notify] [--webhook URL ...] [--webhook-events LIST] [--wait]';

/** What `docket run TASK ...` asked for: the task's parameters and run's own flags. */
interface RunRequest {
  def: TaskSpec;
  params: Record<string, unknown>;
  wait: boolean;
  userName: string | null;
  priority: PriorityName;
  help: boolean;
  /** Mail the owner (`--user`) at the end; unset: the owner's default. */
  notify?: boolean;
  /** `--webhook URL` (repeatable), following `--webhook-events` (default: the end of the job). */
  webhooks: string[];
  webhookEvents?: string[];
}

/**
 * Reads `TASK --name value --flag --name=value ...`. Run's own flags (`--wait`,
 * `--user`, `--priority`, `--notify`, `--webhook`, `--webhook-events`, `--help`) are taken out; the rest are the task's parameters,
 * in camelCase (`--on-error` is `onError`), checked later by the task's validation.
 */
function parseRun(args: string[]): RunRequest {
  const [task, ...rest] = args;
  if (!task || task.startsWith('-')) throw new UsageError(RUN_USAGE);
  const def = getTask(task);
  if (!def) throw new UsageError(`unknown task "${task}"; tasks: ${listTasks().map((t) => t.name).join(', ')}`);
  const req: RunRequest = { def, params: {}, wait: false, userName: null, priority: 'normal', help: false, webhooks: [] };
  for (let i = 0; i < rest.length; i++) {
    const tok = rest[i];
    if (!tok.startsWith('--')) throw new UsageError(`unexpected "${tok}"; parameters look like --name value`);
    let key = tok.slice(2);
    let value: string;
    const eq = key.indexOf('=');
    if (eq >= 0) {
      value = key.slice(eq + 1);
      key = key.slice(0, eq);
    } else if (i + 1 < rest.length && !rest[i + 1].startsWith('--')) {
      value = rest[++i];
    } else {
      value = 'true';
    }
    if (key === 'wait') req.wait = value !== 'false';
    else if (key === 'user') req.userName = value;
    else if (key === 'notify') req.notify = value !== 'false';
    else if (key === 'webhook') {
      if (value === 'true') throw new UsageError('--webhook needs a URL or an email address');
      req.webhooks.push(value);
    } else if (key === 'webhook-events') req.webhookEvents = value.split(',').map((e) => e.trim());
    else if (key === 'priority') {
      if (!(value in PRIORITIES)) throw new UsageError('--priority must be high, normal or low');
      req.priority = value as PriorityName;
    } else if (key === 'help') req.help = true;
    else req.params[key.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())] = value;
  }
  // A file named on the command line is uploaded from this machine (see `uploadFiles`):
  // refuse one that is not there now, before anything is sent.
  for (const name of uploadParams(def)) {
    const file = req.params[name];
    if (req.help || typeof file !== 'string' || file === 'true' || isFileId(file)) continue;
    const abs = resolvePath(process.cwd(), file);
    if (!existsSync(abs) || !statSync(abs).isFile()) throw new UsageError(`--${name} ${file}: no such file`);
    req.params[name] = abs;
  }
  return req;
}

const uploadParams = (def: TaskSpec): string[] => Object.keys(def.params).filter((p) => def.params[p].upload);

/**
 * Puts the files named for the task's file parameters into the file store, from the
 * machine where the command runs (the job may run on any host): the job names the stored
 * file instead. Returns the upload's id, or null when there is none to send.
 */
async function uploadFiles(ctx: Context, req: RunRequest): Promise<string | null> {
  for (const name of uploadParams(req.def)) {
    const path = req.params[name];
    if (typeof path !== 'string' || isFileId(path)) continue;
    const info = await ctx.files.put(createReadStream(path), {
      jobId: null,
      kind: 'upload',
      name: basename(path).slice(0, 255),
      contentType: 'text/csv',
      maxBytes: ctx.config.maxUploadBytes,
    });
    req.params[name] = info.id;
    return info.id;
  }
  return null;
}

function printTasks(io: CliIO, json: boolean): void {
  const tasks = listTasks();
  if (json) {
    io.out(`${JSON.stringify(tasks.map((t) => ({ name: t.name, title: t.title, description: t.description, params: t.params })), null, 2)}\n`);
    return;
  }
  for (const t of tasks) {
    io.out(`${t.name}${t.adminOnly ? ' (administrators)' : ''}: ${t.description}\n`);
    for (const [p, spec] of Object.entries(t.params)) {
      const extra = spec.values ? ` (${spec.values.join('|')})` : spec.default !== undefined ? ` (default ${String(spec.default)})` : '';
      io.out(`    --${p}${spec.required ? ' (required)' : ''}: ${spec.description}${extra}\n`);
    }
  }
}

export function registerRunCommands(program: Command, io: CliIO): void {
  program
    .command('run')
    .argument('<task>', 'task name (docket tasks lists them)')
    .description(`enqueue a job: ${RUN_USAGE.slice('usage: '.length)}`)
    .allowUnknownOption()
    .allowExcessArguments()
    .helpOption(false)
    .action(
      action<object>(
        io,
        async (ctx, args) => {
          const req = parseRun(args);
          const { def } = req;
          if (req.help) {
            io.out(`docket run ${def.name}: ${def.description}\n`);
            for (const [p, spec] of Object.entries(def.params)) io.out(`    --${p}: ${spec.description}\n`);
            return 0;
          }
          let user: User | null = null;
          if (req.userName) {
            user = await findUser(ctx.db, req.userName);
            if (!user) throw new UsageError(`no user "${req.userName}"`);
          }
          await brokerReady(ctx);
          const upload = await uploadFiles(ctx, req);
          const request = {
            task: def.name,
            params: req.params,
            priority: req.priority,
            user,
            origin: 'cli' as const,
            notify: req.notify,
            webhooks: req.webhooks.map((url) => ({ url, events: req.webhookEvents })),
          };
          const { job, joined, dispatched } = upload
            ? await ctx.service.enqueueWithUpload(request, upload)
            : await ctx.service.enqueue(request);
          if (!req.wait) {
            io.out(`${job.id}\n`);
            if (joined) io.err(`joined job ${job.id}, which was already ${job.status} for the same ${def.name}\n`);
            if (!dispatched && ctx.transport.kind === 'amqp') io.err(`the broker is unreachable; job ${job.id} waits and is dispatched when it is back\n`);
            return 0;
          }
          io.err(`job ${job.id} ${joined ? 'joined' : 'queued'}: ${def.name}\n`);
          return waitFor(ctx, job.id, io);
        },
        { check: (args) => void parseRun(args) },
      ),
    );

  program
    .command('tasks')
    .description('list the tasks and their parameters')
    .option('--json', 'as JSON')
    .action(
      action<{ json?: boolean }>(io, async (_ctx, _args, opts) => {
        printTasks(io, opts.json === true);
        return 0;
      }),
    );
}
