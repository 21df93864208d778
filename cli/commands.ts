import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { seedDemoData } from '../app/archive/seed.js';
import { ensureAdmin } from '../app/bootstrap.js';
import { createContext, type Context } from '../app/context.js';
import { exportFileName, formatDate, jobInfo, jobUser, writeJobsCsv } from '../app/export.js';
import { HttpError } from '../app/errors.js';
import { clearScope } from '../app/policy.js';
import { countJobs, listJobs } from '../app/store/job-list.js';
import { listEvents, readOutput } from '../app/store/jobs.js';
import { getSetting, setSetting } from '../app/store/settings.js';
import { createToken, createUser, findUser, setPassword } from '../app/store/users.js';
import { listWorkers } from '../app/store/workers.js';
import { FINAL_STATUSES, PRIORITIES, STATUS_LABELS, type PriorityName, type Role, type Tab } from '../app/types.js';
import { getTask, listTasks } from '../app/tasks/index.js';
import { createWebApp, listen } from '../app/web/server.js';
import { Worker } from '../workers/worker.js';
import { UsageError } from './usage.js';

export interface CliIO {
  out(s: string): void;
  err(s: string): void;
  exitCode: number;
  stdin: Readable;
  openWrite(path: string): Writable;
}

type Opts = Record<string, unknown>;

function positiveInt(raw: unknown, name: string, min = 1): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be a whole number of at least ${min}, not "${String(raw)}"`);
  return n;
}

function jobId(raw: unknown): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`a job id is a positive whole number, not "${String(raw)}"`);
  return n;
}

async function readStdinLine(stdin: Readable): Promise<string> {
  let data = '';
  for await (const chunk of stdin) {
    data += String(chunk);
    if (data.includes('\n')) break;
  }
  return data.split(/\r?\n/)[0] ?? '';
}

/** Waits for SIGINT or SIGTERM (long-running commands). */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export async function runCommand(name: string, args: string[], opts: Opts, io: CliIO): Promise<number> {
  const long = name === 'start' || name === 'web' || name === 'worker';
  let ctx: Context | null = null;
  try {
    ctx = await createContext({ broker: name === 'worker' ? 'required' : 'background' });
    if (long) return await serve(name, ctx, opts, io);
    return await commands[name](ctx, args, opts, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`docket ${name}: ${err.message}\n`);
      return 2;
    }
    if (err instanceof HttpError) {
      io.err(`docket ${name}: ${err.message}\n`);
      return err.status === 400 ? 2 : 1;
    }
    io.err(`docket ${name}: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await ctx?.close();
  }
}

async function serve(name: string, ctx: Context, opts: Opts, io: CliIO): Promise<number> {
  const { config, log } = ctx;
  let worker: Worker | null = null;
  let server: import('node:http').Server | null = null;
  if (name === 'start' || name === 'web') {
    const note = await ensureAdmin(ctx.db, config.adminPassword);
    // `docket start` is the try-it-out command: give a newcomer descriptions to work on.
    const seeded = name === 'start' ? await seedDemoData(ctx.db) : 0;
    const app = await createWebApp(ctx);
    server = await listen(app, config.port, config.host);
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.port;
    io.out(`Docket is listening on http://${config.host}:${port}/ (${ctx.transport.kind} transport)\n`);
    if (note) io.out(`${note}\nLog in at http://${config.host}:${port}/login as "admin".\n`);
    if (seeded) io.out(`added ${seeded} demo archival descriptions (Browse, at /descriptions)\n`);
  }
  if (name === 'start' || name === 'worker') {
    worker = new Worker(ctx.service, ctx.transport, {
      abilities: typeof opts.abilities === 'string' ? opts.abilities.split(',').map((s) => s.trim()).filter(Boolean) : undefined,
      concurrency: positiveInt(opts.concurrency ?? 2, '--concurrency'),
      maxJobs: positiveInt(opts.maxJobs ?? 10000, '--max-jobs'),
      maxMemoryMb: positiveInt(opts.maxMemory ?? 512, '--max-memory'),
      stopTimeoutMs: positiveInt(opts.stopTimeout ?? 30, '--stop-timeout', 0) * 1000,
    });
    await worker.start();
    io.out(`worker ${worker.id} is taking ${worker.abilities.join(', ')} jobs (concurrency ${worker.concurrency})\n`);
  } else {
    // The web process sweeps too: recovery needs no worker to be alive.
    const { Maintenance } = await import('../app/maintenance.js');
    const m = new Maintenance(ctx.service);
    m.start();
  }
  const sig = await untilSignal();
  log.info(`${sig}: stopping`);
  if (server) await new Promise((r) => server!.close(() => r(null)));
  if (worker) await worker.stop();
  return 0;
}

const commands: Record<string, (ctx: Context, args: string[], opts: Opts, io: CliIO) => Promise<number>> = {
  async migrate(_ctx, _a, _o, io) {
    // createContext already applied what was pending.
    io.out('the database is up to date\n');
    return 0;
  },

  async 'users:add'(ctx, [name], opts, io) {
    const password = typeof opts.password === 'string' ? opts.password : await readStdinLine(io.stdin);
    const user = await createUser(ctx.db, name, password, opts.role as Role);
    io.out(`added ${user.role} "${user.username}"\n`);
    return 0;
  },

  async 'users:passwd'(ctx, [name], opts, io) {
    const password = typeof opts.password === 'string' ? opts.password : await readStdinLine(io.stdin);
    await setPassword(ctx.db, name, password);
    io.out(`password of "${name}" changed\n`);
    return 0;
  },

  async 'tokens:create'(ctx, [name], opts, io) {
    const user = await findUser(ctx.db, name);
    if (!user) throw new UsageError(`no user "${name}"`);
    io.out(`${await createToken(ctx.db, user.id, String(opts.label ?? 'cli'))}\n`);
    return 0;
  },

  async tasks(_ctx, _a, opts, io) {
    const tasks = listTasks();
    if (opts.json) {
      io.out(`${JSON.stringify(tasks.map((t) => ({ name: t.name, title: t.title, description: t.description, params: t.params })), null, 2)}\n`);
      return 0;
    }
    for (const t of tasks) {
      io.out(`${t.name}${t.adminOnly ? ' (administrators)' : ''}: ${t.description}\n`);
      for (const [p, spec] of Object.entries(t.params)) {
        const extra = spec.values ? ` (${spec.values.join('|')})` : spec.default !== undefined ? ` (default ${String(spec.default)})` : '';
        io.out(`    --${p}${spec.required ? ' (required)' : ''}: ${spec.description}${extra}\n`);
      }
    }
    return 0;
  },

  async run(ctx, args, _opts, io) {
    const [task, ...rest] = args;
    if (!task || task.startsWith('-')) throw new UsageError('usage: docket run TASK [--PARAM VALUE ...] [--user NAME] [--priority high|normal|low] [--wait]');
    const def = getTask(task);
    if (!def) throw new UsageError(`unknown task "${task}"; tasks: ${listTasks().map((t) => t.name).join(', ')}`);
    const params: Record<string, unknown> = {};
    let wait = false;
    let userName: string | null = null;
    let priority: PriorityName = 'normal';
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
      if (key === 'wait') wait = value !== 'false';
      else if (key === 'user') userName = value;
      else if (key === 'priority') {
        if (!(value in PRIORITIES)) throw new UsageError('--priority must be high, normal or low');
        priority = value as PriorityName;
      } else if (key === 'help') {
        await commands.tasks(ctx, [], {}, { ...io, out: () => undefined });
        io.out(`docket run ${def.name}: ${def.description}\n`);
        for (const [p, spec] of Object.entries(def.params)) io.out(`    --${p}: ${spec.description}\n`);
        return 0;
      } else params[key.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())] = value;
    }
    // A file named on the command line is read by a worker, whose working folder may
    // differ: pass it as an absolute path, and refuse one that is not there now.
    if (typeof params.file === 'string' && params.file !== 'true') {
      const abs = resolvePath(process.cwd(), params.file);
      if (!existsSync(abs)) throw new UsageError(`--file ${params.file}: no such file`);
      params.file = abs;
    }
    let user = null;
    if (userName) {
      user = await findUser(ctx.db, userName);
      if (!user) throw new UsageError(`no user "${userName}"`);
    }
    const { job, joined, dispatched } = await ctx.service.enqueue({ task: def.name, params, priority, user, origin: 'cli' });
    if (!wait) {
      io.out(`${job.id}\n`);
      if (joined) io.err(`joined job ${job.id}, which was already ${job.status} for the same ${def.name}\n`);
      if (!dispatched && ctx.transport.kind === 'amqp') io.err(`the broker is unreachable; job ${job.id} waits and is dispatched when it is back\n`);
      return 0;
    }
    io.err(`job ${job.id} ${joined ? 'joined' : 'queued'}: ${def.name}\n`);
    return waitFor(ctx, job.id, io);
  },

  async 'jobs:list'(ctx, _a, opts, io) {
    const limit = positiveInt(opts.limit ?? 50, '--limit', 0);
    const { jobs } = await listJobs(ctx.db, { tab: opts.tab as Tab, userId: null, limit });
    if (opts.json) {
      io.out(
        `${JSON.stringify(
          jobs.map((j) => ({
            id: j.id,
            task: j.task,
            status: j.status,
            user: jobUser(j),
            queuedAt: iso(j.queuedAt),
            startedAt: iso(j.startedAt),
            finishedAt: iso(j.finishedAt),
            attempt: j.attempt,
            progress: j.progressTotal ? { current: j.progressCurrent, total: j.progressTotal, text: j.progressText } : j.progressText ? { text: j.progressText } : null,
            info: jobInfo(j) || null,
          })),
          null,
          2,
        )}\n`,
      );
      return 0;
    }
    if (jobs.length === 0) {
      io.out(`no ${opts.tab === 'all' ? '' : `${String(opts.tab)} `}jobs\n`);
      return 0;
    }
    const rows = jobs.map((j) => [
      String(j.id),
      j.task,
      STATUS_LABELS[j.status],
      progressText(j),
      jobUser(j),
      formatDate(j.queuedAt),
      formatDate(j.startedAt),
      formatDate(j.finishedAt),
      jobInfo(j).slice(0, 60),
    ]);
    io.out(table(['ID', 'TASK', 'STATUS', 'PROGRESS', 'USER', 'QUEUED', 'STARTED', 'ENDED', 'INFO'], rows));
    return 0;
  },

  async 'jobs:show'(ctx, [raw], opts, io) {
    const job = await ctx.service.get(jobId(raw));
    const events = await listEvents(ctx.db, job.id);
    const output = await readAllOutput(ctx, job.id);
    if (opts.json) {
      io.out(`${JSON.stringify({ ...job, user: jobUser(job), events, output }, null, 2)}\n`);
      return 0;
    }
    const dur = job.startedAt ? `${(((job.finishedAt ?? Date.now()) - job.startedAt) / 1000).toFixed(1)} s` : 'N/A';
    const lines = [
      `Job ${job.id}: ${job.task}`,
      `Status:    ${STATUS_LABELS[job.status]}${job.cancelRequestedBy && job.status === 'running' ? ` (cancel requested by ${job.cancelRequestedBy})` : ''}`,
      `User:      ${jobUser(job)} (${job.origin})`,
      `Params:    ${JSON.stringify(job.params)}`,
      `Queued:    ${formatDate(job.queuedAt)}`,
      `Started:   ${formatDate(job.startedAt)}`,
      `Finished:  ${formatDate(job.finishedAt)}`,
      `Duration:  ${dur}`,
      `Worker:    ${job.workerId ?? 'N/A'}`,
      `Attempt:   ${job.attempt} of ${job.maxAttempts}`,
      `Progress:  ${progressText(job) || 'N/A'}`,
    ];
    if (job.resultSummary) lines.push(`Result:    ${job.resultSummary}`);
    if (job.error) lines.push(`Error:     ${job.error}`);
    lines.push('', 'Events:');
    for (const e of events) lines.push(`  ${formatDate(e.at)}  ${e.type.padEnd(16)} ${e.actor}${e.message ? `: ${e.message}` : ''}`);
    lines.push('', `Output (${job.outputBytes} bytes${job.outputTruncated ? ', truncated' : ''}):`);
    io.out(`${lines.join('\n')}\n${output}${output.endsWith('\n') || !output ? '' : '\n'}`);
    return 0;
  },

  async 'jobs:cancel'(ctx, [raw], _o, io) {
    const outcome = await ctx.service.cancel(jobId(raw), 'Command line');
    io.out(outcome === 'cancelled' ? `job ${raw} cancelled\n` : `job ${raw} is being stopped by its worker\n`);
    return 0;
  },

  async 'jobs:retry'(ctx, [raw], _o, io) {
    const job = await ctx.service.retry(jobId(raw), 'Command line');
    io.out(`job ${job.id} queued again (attempt ${job.attempt + 1})\n`);
    return 0;
  },

  async 'jobs:clear'(ctx, _a, _o, io) {
    const cleared = await ctx.service.clearInactive(clearScope(null));
    io.out(`cleared ${cleared} inactive job(s)\n`);
    return 0;
  },

  async 'jobs:export'(ctx, [file], opts, io) {
    const out = file ? io.openWrite(file) : null;
    const sink = out ?? new (await import('node:stream')).Writable({ write(chunk, _e, cb) { io.out(String(chunk)); cb(); } });
    const n = await writeJobsCsv(ctx.db, { tab: opts.tab as Tab, userId: null }, sink);
    if (file) io.err(`exported ${n} job(s) to ${file}\n`);
    else if (n === 0) io.err(`no jobs to export (a file would be named ${exportFileName()})\n`);
    return 0;
  },

  async 'queue:pause'(ctx, _a, _o, io) {
    await ctx.service.setPaused(true, 'paused from the command line');
    io.out('processing paused: running jobs finish, no new job starts\n');
    return 0;
  },

  async 'queue:resume'(ctx, _a, _o, io) {
    await ctx.service.setPaused(false, '');
    io.out('processing resumed\n');
    return 0;
  },

  async 'queue:clear'(ctx, _a, _o, io) {
    const n = await ctx.service.clearQueue('Command line');
    io.out(`cancelled ${n} queued job(s)\n`);
    return 0;
  },

  async 'queue:pause-on-failure'(ctx, [v], _o, io) {
    if (v !== 'on' && v !== 'off') throw new UsageError('say on or off');
    await setSetting(ctx.db, 'pause_on_failure', v === 'on' ? '1' : '0');
    io.out(`pause on failure: ${v}\n`);
    return 0;
  },

  async 'queue:status'(ctx, _a, opts, io) {
    const paused = await ctx.service.isPaused();
    const reason = (await getSetting(ctx.db, 'paused_reason')) || null;
    const queued = await countJobs(ctx.db, { tab: 'active', userId: null, status: 'queued' });
    const running = await countJobs(ctx.db, { tab: 'active', userId: null, status: 'running' });
    const pauseOnFailure = await ctx.service.pauseOnFailure();
    const status = {
      paused,
      reason: paused ? reason : null,
      pauseOnFailure,
      queued: queued.count,
      running: running.count,
      transport: ctx.transport.kind,
      broker: ctx.transport.state(),
    };
    if (opts.json) io.out(`${JSON.stringify(status, null, 2)}\n`);
    else {
      io.out(`processing: ${paused ? `paused${reason ? ` (${reason})` : ''}` : 'running'}\n`);
      io.out(`queued: ${queued.count}${queued.capped ? '+' : ''}, running: ${running.count}${running.capped ? '+' : ''}\n`);
      io.out(`pause on failure: ${pauseOnFailure ? 'on' : 'off'}; transport: ${ctx.transport.kind}\n`);
    }
    return 0;
  },

  async workers(ctx, _a, opts, io) {
    const workers = await listWorkers(ctx.db, Date.now(), ctx.config.heartbeatMs);
    if (opts.json) {
      io.out(`${JSON.stringify(workers, null, 2)}\n`);
      return 0;
    }
    if (workers.length === 0) {
      io.out('no workers seen in the last day\n');
      return 0;
    }
    io.out(
      table(
        ['ID', 'STATE', 'HOST', 'PID', 'RUNNING', 'CONCURRENCY', 'LAST HEARTBEAT', 'ABILITIES'],
        workers.map((w) => [
          w.id,
          w.state,
          w.host,
          String(w.pid),
          String(w.running),
          String(w.concurrency),
          `${formatDate(w.lastHeartbeatAt)} (${Math.round((Date.now() - w.lastHeartbeatAt) / 1000)} s ago)`,
          w.abilities.join(','),
        ]),
      ),
    );
    return 0;
  },
};

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

function progressText(j: { progressCurrent: number | null; progressTotal: number | null; progressText: string | null }): string {
  if (j.progressTotal) return `${j.progressCurrent ?? 0}/${j.progressTotal}`;
  return j.progressText ?? '';
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return `${[fmt(head), ...rows.map(fmt)].join('\n')}\n`;
}

async function readAllOutput(ctx: Context, id: number): Promise<string> {
  let after = 0;
  let text = '';
  for (;;) {
    const chunks = await readOutput(ctx.db, id, after, 1000);
    for (const c of chunks) text += c.text;
    if (chunks.length < 1000) return text;
    after = chunks[chunks.length - 1].id;
  }
}

/** Streams a job's output until it ends; 0 if it completed, 1 if not. */
async function waitFor(ctx: Context, id: number, io: CliIO): Promise<number> {
  let after = 0;
  let interrupted = false;
  const onInt = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onInt);
  let warned = false;
  const started = Date.now();
  try {
    for (;;) {
      const job = await ctx.service.get(id);
      for (;;) {
        const chunks = await readOutput(ctx.db, id, after, 500);
        for (const c of chunks) (c.stream === 'stderr' ? io.err : io.out)(c.text);
        if (chunks.length) after = chunks[chunks.length - 1].id;
        if (chunks.length < 500) break;
      }
      if (FINAL_STATUSES.includes(job.status)) {
        if (job.status === 'completed') {
          io.err(`job ${id} completed${job.resultSummary ? `: ${job.resultSummary}` : ''}\n`);
          return 0;
        }
        io.err(`job ${id} ${job.status === 'failed' ? 'failed' : 'was cancelled'}${job.error ? `: ${job.error}` : ''}\n`);
        return 1;
      }
      if (interrupted) {
        io.err(`stopped waiting; job ${id} goes on (docket jobs:show ${id})\n`);
        return 1;
      }
      if (!warned && job.status === 'queued' && Date.now() - started > 5000) {
        warned = true;
        const active = (await listWorkers(ctx.db, Date.now(), ctx.config.heartbeatMs)).filter(
          (w) => w.state === 'active' && w.abilities.includes(job.task),
        );
        io.err(
          active.length === 0
            ? `job ${id} is waiting: no worker that runs "${job.task}" is active (start one with: docket worker)\n`
            : `job ${id} is waiting in the queue\n`,
        );
      }
      await sleep(150);
    }
  } finally {
    process.off('SIGINT', onInt);
  }
}
