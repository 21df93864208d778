/** The long-running commands (start, web, worker) and migrate. */
import type { Server } from 'node:http';
import type { Command } from 'commander';
import type { Context } from '../../app/context.js';
import { migrate } from '../../app/db.js';
import { getTask, listTasks } from '../../app/tasks/index.js';
import type { Worker } from '../../workers/worker.js';
import { action } from '../action.js';
import { positiveInt, type CliIO } from '../io.js';
import { UsageError } from '../usage.js';

interface WorkerOpts {
  abilities?: string;
  concurrency: string;
  maxJobs?: string;
  maxMemory?: string;
  stopTimeout?: string;
}

/** Waits for SIGINT or SIGTERM. */
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

function abilities(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = list.filter((a) => !getTask(a));
  if (unknown.length) {
    throw new UsageError(`--abilities: unknown task${unknown.length > 1 ? 's' : ''} ${unknown.map((a) => `"${a}"`).join(', ')}; tasks: ${listTasks().map((t) => t.name).join(', ')}`);
  }
  return list;
}

/** The worker's settings from its options; a bad value is a usage error before anything opens. */
function workerSettings(opts: WorkerOpts) {
  return {
    abilities: abilities(opts.abilities),
    concurrency: positiveInt(opts.concurrency, '--concurrency'),
    maxJobs: positiveInt(opts.maxJobs ?? 10000, '--max-jobs'),
    maxMemoryMb: positiveInt(opts.maxMemory ?? 512, '--max-memory'),
    stopTimeoutMs: positiveInt(opts.stopTimeout ?? 30, '--stop-timeout', 0) * 1000,
  };
}

/*
 * The web app, the worker and the demo data are imported when their command runs: every
 * other command (a `docket run` an operator waits for) starts without loading Express,
 * the views or the child pool.
 */

async function startWeb(ctx: Context, io: CliIO, seed: boolean): Promise<Server> {
  const { config } = ctx;
  const { ensureAdmin } = await import('../../app/bootstrap.js');
  const { seedDemoData } = await import('../../app/archive/seed.js');
  const { createWebApp, listen } = await import('../../app/web/server.js');
  const note = await ensureAdmin(ctx.db, config.adminPassword);
  // `docket start` is the try-it-out command: it gives a newcomer descriptions to work
  // on (only while there are none). `docket web` never adds data.
  const seeded = seed ? await seedDemoData(ctx.db) : 0;
  const app = await createWebApp(ctx);
  const server = await listen(app, config.port, config.host);
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : config.port;
  io.out(`Docket is listening on http://${config.host}:${port}/ (${ctx.transport.kind} transport)\n`);
  if (note) io.out(`${note}\nLog in at http://${config.host}:${port}/login as "admin".\n`);
  if (seeded) io.out(`added ${seeded} demo archival descriptions (Browse, at /descriptions)\n`);
  return server;
}

async function startWorker(ctx: Context, io: CliIO, opts: WorkerOpts): Promise<Worker> {
  const { Worker } = await import('../../workers/worker.js');
  const worker = new Worker(ctx.service, ctx.transport, workerSettings(opts));
  await worker.start();
  io.out(`worker ${worker.id} is taking ${worker.abilities.join(', ')} jobs (concurrency ${worker.concurrency})\n`);
  return worker;
}

async function stopOnSignal(ctx: Context, server: Server | null, worker: Worker | null): Promise<number> {
  const sig = await untilSignal();
  ctx.log.info(`${sig}: stopping`);
  if (server) await new Promise((r) => server.close(() => r(null)));
  if (worker) await worker.stop();
  return 0;
}

export function registerServerCommands(program: Command, io: CliIO): void {
  program
    .command('start')
    .description('run the web app and a worker in one process (what npm start runs)')
    .option('--concurrency <n>', 'jobs the worker runs at once', '2')
    .action(
      action<{ concurrency: string }>(
        io,
        async (ctx, _args, opts) => {
          const server = await startWeb(ctx, io, true);
          const worker = await startWorker(ctx, io, opts);
          return stopOnSignal(ctx, server, worker);
        },
        { check: (_a, opts: WorkerOpts) => void workerSettings(opts) },
      ),
    );

  program
    .command('web')
    .description('run the web app only')
    .action(
      action<object>(io, async (ctx) => {
        const server = await startWeb(ctx, io, false);
        // The web process sweeps too: recovery needs no worker to be alive.
        const { Maintenance } = await import('../../app/maintenance.js');
        new Maintenance(ctx.service).start();
        return stopOnSignal(ctx, server, null);
      }),
    );

  program
    .command('worker')
    .description('run a worker: claims jobs, runs each in a child process')
    .option('--abilities <tasks>', 'comma-separated tasks this worker runs (default: all)')
    .option('--concurrency <n>', 'jobs at once', '2')
    .option('--max-jobs <n>', 'recycle a child process after N jobs', '10000')
    .option('--max-memory <mb>', 'recycle a child process above this many MB', '512')
    .option('--stop-timeout <s>', 'on SIGTERM, seconds running jobs get before they are handed back', '30')
    .action(
      action<WorkerOpts>(io, async (ctx, _args, opts) => stopOnSignal(ctx, null, await startWorker(ctx, io, opts)), {
        context: { broker: 'required' },
        check: (_a, opts: WorkerOpts) => void workerSettings(opts),
      }),
    );

  program
    .command('migrate')
    .description('create or update the database tables')
    .action(
      action<object>(
        io,
        async (ctx) => {
          const applied = await migrate(ctx.db);
          io.out(
            applied.length === 0
              ? 'the database is up to date\n'
              : `applied ${applied.length} migration${applied.length > 1 ? 's' : ''}: ${applied.join(', ')}\n`,
          );
          return 0;
        },
        // Migrated here rather than on opening, to say what was applied.
        { context: { migrate: false } },
      ),
    );
}

