/** Processing switches (pause, resume, clear, status, pause on failure) and the workers list. */
import { COMMAND_LINE, recordAudit } from '../../app/audit.js';
import type { Command } from 'commander';
import type { Context } from '../../app/context.js';
import { formatDate } from '../../app/export.js';
import { queuedByTask } from '../../app/store/job-counts.js';
import { countJobs } from '../../app/store/job-list.js';
import { listTasks } from '../../app/tasks/index.js';
import type { QueueDepth } from '../../app/transports/transport.js';
import { getSetting, setSetting } from '../../app/store/settings.js';
import { listWorkers } from '../../app/store/workers.js';
import { action } from '../action.js';
import { brokerReady } from '../broker.js';
import { table, type CliIO } from '../io.js';
import { UsageError } from '../usage.js';

interface JsonOpts {
  json?: boolean;
}

function onOff(v: string | undefined): 'on' | 'off' {
  if (v !== 'on' && v !== 'off') throw new UsageError('say on or off');
  return v;
}

async function status(ctx: Context, opts: JsonOpts, io: CliIO): Promise<number> {
  const paused = await ctx.service.isPaused();
  const reason = (await getSetting(ctx.db, 'paused_reason')) || null;
  const queued = await countJobs(ctx.db, { tab: 'active', userId: null, status: 'queued' });
  const running = await countJobs(ctx.db, { tab: 'active', userId: null, status: 'running' });
  const pauseOnFailure = await ctx.service.pauseOnFailure();
  const tasks = await perTask(ctx);
  if (opts.json) {
    const s = {
      paused,
      reason: paused ? reason : null,
      pauseOnFailure,
      queued: queued.count,
      running: running.count,
      transport: ctx.transport.kind,
      broker: ctx.transport.state(),
      tasks,
    };
    io.out(`${JSON.stringify(s, null, 2)}\n`);
    return 0;
  }
  io.out(`processing: ${paused ? `paused${reason ? ` (${reason})` : ''}` : 'running'}\n`);
  io.out(`queued: ${queued.count}${queued.capped ? '+' : ''}, running: ${running.count}${running.capped ? '+' : ''}\n`);
  io.out(`pause on failure: ${pauseOnFailure ? 'on' : 'off'}; transport: ${ctx.transport.kind}\n`);
  if (ctx.transport.kind === 'amqp' && tasks.length > 0) {
    const n = (v: number | null): string => (v === null ? 'unknown' : String(v));
    const rows = tasks.map((t) => [t.task, String(t.queued), String(t.dispatched), n(t.brokerReady), n(t.consumers)]);
    io.out(table(['TASK', 'QUEUED', 'DISPATCHED', 'BROKER READY', 'CONSUMERS'], rows));
  }
  return 0;
}

interface TaskStatus {
  task: string;
  queued: number;
  dispatched: number;
  /** Messages waiting in the task's queue (null: db transport, or broker unreachable). */
  brokerReady: number | null;
  consumers: number | null;
}

/**
 * Per task, the database's queued jobs beside the broker's messages. Fewer messages
 * than dispatched jobs for long means lost messages, which the sweep publishes again
 * (delivered but unacked messages are not in the broker's count).
 */
async function perTask(ctx: Context): Promise<TaskStatus[]> {
  const counts = await queuedByTask(ctx.db);
  let depths: Map<string, QueueDepth> | null = null;
  if (ctx.transport.kind === 'amqp' && (await brokerReady(ctx))) {
    depths = await ctx.transport.queueDepths(listTasks().map((t) => t.name)).catch(() => null);
  }
  const names = new Set([...counts.map((c) => c.task), ...[...(depths?.entries() ?? [])].filter(([, d]) => d.ready > 0).map(([t]) => t)]);
  return [...names].sort().map((task) => {
    const c = counts.find((x) => x.task === task);
    const d = depths?.get(task);
    return { task, queued: c?.queued ?? 0, dispatched: c?.dispatched ?? 0, brokerReady: d?.ready ?? null, consumers: d?.consumers ?? null };
  });
}

async function workers(ctx: Context, opts: JsonOpts, io: CliIO): Promise<number> {
  const list = await listWorkers(ctx.db, Date.now(), ctx.config.heartbeatMs);
  if (opts.json) {
    io.out(`${JSON.stringify(list, null, 2)}\n`);
    return 0;
  }
  if (list.length === 0) {
    io.out('no workers seen in the last day\n');
    return 0;
  }
  const rows = list.map((w) => [
    w.id,
    w.state,
    w.host,
    String(w.pid),
    String(w.running),
    String(w.concurrency),
    `${formatDate(w.lastHeartbeatAt)} (${Math.round((Date.now() - w.lastHeartbeatAt) / 1000)} s ago)`,
    w.abilities.join(','),
  ]);
  io.out(table(['ID', 'STATE', 'HOST', 'PID', 'RUNNING', 'CONCURRENCY', 'LAST HEARTBEAT', 'ABILITIES'], rows));
  return 0;
}

export function registerQueueCommands(program: Command, io: CliIO): void {
  program
    .command('queue:pause')
    .description('stop starting jobs (running jobs finish)')
    .action(
      action<object>(io, async (ctx) => {
        await ctx.service.setPaused(true, 'paused from the command line');
        await recordAudit(ctx.db, ctx.log, { actor: COMMAND_LINE, action: 'queue.pause' });
        io.out('processing paused: running jobs finish, no new job starts\n');
        return 0;
      }),
    );
  program
    .command('queue:resume')
    .description('start jobs again')
    .action(
      action<object>(io, async (ctx) => {
        await ctx.service.setPaused(false, '');
        await recordAudit(ctx.db, ctx.log, { actor: COMMAND_LINE, action: 'queue.resume' });
        io.out('processing resumed\n');
        return 0;
      }),
    );
  program
    .command('queue:clear')
    .description('cancel every queued job')
    .action(
      action<object>(io, async (ctx) => {
        // The broker's queues are purged too: connected first, or the purge does nothing.
        await brokerReady(ctx);
        const n = await ctx.service.clearQueue('Command line');
        await recordAudit(ctx.db, ctx.log, { actor: COMMAND_LINE, action: 'queue.clear', target: `${n} job(s)` });
        io.out(`cancelled ${n} queued job(s)\n`);
        return 0;
      }),
    );
  program
    .command('queue:status')
    .option('--json', 'as JSON')
    .description('paused or not, queued and running counts; per task, queued jobs beside the broker\'s messages')
    .action(action<JsonOpts>(io, (ctx, _args, opts) => status(ctx, opts, io)));
  program
    .command('queue:pause-on-failure')
    .argument('<on|off>', 'whether a failed job pauses processing')
    .description('pause processing automatically when a job fails')
    .action(
      action<object>(
        io,
        async (ctx, [v]) => {
          const value = onOff(v);
          await setSetting(ctx.db, 'pause_on_failure', value === 'on' ? '1' : '0');
          await recordAudit(ctx.db, ctx.log, { actor: COMMAND_LINE, action: 'queue.pause-on-failure', detail: value });
          io.out(`pause on failure: ${value}\n`);
          return 0;
        },
        { check: ([v]) => void onOff(v) },
      ),
    );
  program
    .command('workers')
    .option('--json', 'as JSON')
    .description('list workers: host, pid, abilities, running jobs, heartbeat')
    .action(action<JsonOpts>(io, (ctx, _args, opts) => workers(ctx, opts, io)));
}
