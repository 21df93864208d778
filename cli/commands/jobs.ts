/** The job history: list, show, cancel, retry, clear, export. */
import { COMMAND_LINE, recordAudit } from '../../app/audit.js';
import { Writable } from 'node:stream';
import { Option, type Command } from 'commander';
import type { Context } from '../../app/context.js';
import { exportFileName, formatDate, jobInfo, jobUser, writeJobsCsv } from '../../app/export.js';
import { clearScope } from '../../app/policy.js';
import { listJobs } from '../../app/store/job-list.js';
import { listEvents, readOutput } from '../../app/store/jobs.js';
import { STATUS_LABELS, type Tab } from '../../app/types.js';
import { action } from '../action.js';
import { brokerReady } from '../broker.js';
import { iso, jobId, positiveInt, table, type CliIO } from '../io.js';

interface ListOpts {
  tab: Tab;
  limit: string;
  json?: boolean;
}

const tabOption = (): Option => new Option('--tab <tab>', 'which jobs').choices(['all', 'active', 'failed']).default('all');

function progressText(j: { progressCurrent: number | null; progressTotal: number | null; progressText: string | null }): string {
  if (j.progressTotal) return `${j.progressCurrent ?? 0}/${j.progressTotal}`;
  return j.progressText ?? '';
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

async function list(ctx: Context, opts: ListOpts, io: CliIO): Promise<number> {
  const limit = positiveInt(opts.limit, '--limit', 0);
  const { jobs } = await listJobs(ctx.db, { tab: opts.tab, userId: null, limit });
  if (opts.json) {
    const rows = jobs.map((j) => ({
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
    }));
    io.out(`${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  }
  if (jobs.length === 0) {
    io.out(`no ${opts.tab === 'all' ? '' : `${opts.tab} `}jobs\n`);
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
}

async function show(ctx: Context, raw: string, json: boolean, io: CliIO): Promise<number> {
  const job = await ctx.service.get(jobId(raw));
  const events = await listEvents(ctx.db, job.id);
  const output = await readAllOutput(ctx, job.id);
  if (json) {
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
}

export function registerJobCommands(program: Command, io: CliIO): void {
  program
    .command('jobs:list')
    .description('list jobs, newest first')
    .addOption(tabOption())
    .option('--limit <n>', 'how many (0 means all)', '50')
    .option('--json', 'print a JSON array')
    .action(action<ListOpts>(io, (ctx, _args, opts) => list(ctx, opts, io)));

  program
    .command('jobs:show')
    .argument('<id>', 'job id')
    .option('--json', 'as JSON')
    .description('show a job: times, worker, attempts, events and output')
    .action(action<{ json?: boolean }>(io, (ctx, [raw], opts) => show(ctx, raw, opts.json === true, io)));

  program
    .command('jobs:cancel')
    .argument('<id>', 'job id')
    .description('cancel a queued or running job')
    .action(
      action<object>(io, async (ctx, [raw]) => {
        const outcome = await ctx.service.cancel(jobId(raw), COMMAND_LINE);
        await recordAudit(ctx.db, ctx.log, { actor: COMMAND_LINE, action: 'job.cancel', target: `job ${jobId(raw)}`, detail: outcome });
        io.out(outcome === 'cancelled' ? `job ${raw} cancelled\n` : `job ${raw} is being stopped by its worker\n`);
        return 0;
      }),
    );

  program
    .command('jobs:retry')
    .argument('<id>', 'job id')
    .description('retry a failed or cancelled job (refused, exit 1, for one that failed on its input: it would only fail again)')
    .action(
      action<object>(io, async (ctx, [raw]) => {
        const id = jobId(raw);
        // A retry publishes the job again: as `run`, not before the broker is connected.
        await brokerReady(ctx);
        const job = await ctx.service.retry(id, COMMAND_LINE);
        await recordAudit(ctx.db, ctx.log, { actor: COMMAND_LINE, action: 'job.retry', target: `job ${id}` });
        io.out(`job ${job.id} queued again (attempt ${job.attempt + 1})\n`);
        return 0;
      }),
    );

  program
    .command('jobs:clear')
    .description('delete every inactive (completed, failed, cancelled) job')
    .action(
      action<object>(io, async (ctx) => {
        const cleared = await ctx.service.cleanup.clearInactive(clearScope(null));
        await recordAudit(ctx.db, ctx.log, { actor: COMMAND_LINE, action: 'jobs.clear', target: `${cleared} job(s)` });
        io.out(`cleared ${cleared} inactive job(s)\n`);
        return 0;
      }),
    );

  program
    .command('jobs:delete')
    .argument('<id>', 'job id')
    .description('discard a finished (completed, failed, cancelled) job with its output, history and files')
    .action(
      action<object>(
        io,
        async (ctx, [raw]) => {
          const job = await ctx.service.get(jobId(raw));
          // The command line clears every inactive job: it may discard any finished one.
          await ctx.service.cleanup.discard(job.id);
          await recordAudit(ctx.db, ctx.log, { actor: COMMAND_LINE, action: 'job.discard', target: `job ${job.id}`, detail: `${job.task}, ${job.status}` });
          io.out(`job ${job.id} discarded\n`);
          return 0;
        },
        { check: ([raw]) => void jobId(raw) },
      ),
    );

  program
    .command('jobs:export')
    .argument('[file]', 'where to write the CSV (default: stdout)')
    .addOption(tabOption())
    .description('export the job history as CSV (AtoM columns first)')
    .action(
      action<{ tab: Tab }>(io, async (ctx, [file], opts) => {
        const sink =
          file !== undefined
            ? io.openWrite(file)
            : new Writable({
                write(chunk, _e, cb) {
                  io.out(String(chunk));
                  cb();
                },
              });
        const n = await writeJobsCsv(ctx.db, { tab: opts.tab, userId: null }, sink);
        if (file !== undefined) io.err(`exported ${n} job(s) to ${file}\n`);
        else if (n === 0) io.err(`no jobs to export (a file would be named ${exportFileName()})\n`);
        return 0;
      }),
    );
}
