/**
 * The fault suite's own tasks, also used by the controls tests: each one exercises one
 * engine rule — automatic retries with backoff, time limits, unique keys, and a probe
 * that leaves a trace of every attempt that ran to its end. They are not in the
 * production catalogue: a process gets them when `DOCKET_EXTRA_TASKS` names this module
 * (see app/tasks/extra.ts): the fault scenarios and the controls tests set it. Administrators (and the
 * command line) only, like the other diagnostic tasks.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { UnrecoverableError } from '../../app/errors.js';
import type { TaskContext, TaskDefinition } from '../../workers/tasks/types.js';

/** Where `fault-probe` marks each attempt that ran to its end, under the results folder. */
export const PROBE_MARKS = 'fault-probe';

/** Waits `ms`, or until the job's signal aborts (then throws with the reason). */
async function waitOrAbort(ctx: TaskContext, ms: number): Promise<void> {
  await sleep(ms, undefined, { signal: ctx.signal }).catch(() => undefined);
  if (ctx.signal.aborted) throw new Error(`stopped: ${String(ctx.signal.reason ?? 'aborted')}`);
}

/**
 * A short job that proves it ran: it waits, prints, then writes `<results>/fault-probe/
 * <job>.<attempt>`. Two marks for one job mean its work ran to the end twice (a worker
 * killed between the end of the work and the database write, the at-least-once window).
 * A crash of its process is retried, so a killed child costs an attempt, not the job.
 */
export const faultProbe: TaskDefinition = {
  name: 'fault-probe',
  title: 'Fault probe',
  description: 'Waits, prints, and marks each attempt that ran to its end (diagnostic).',
  adminOnly: true,
  maxAttempts: 5,
  retryOnError: { backoffMs: 100 },
  params: {
    ms: { type: 'integer', description: 'milliseconds to wait', default: 50, min: 0, max: 3_600_000 },
    lines: { type: 'integer', description: 'lines to print', default: 1, min: 0, max: 1_000_000 },
    delay: { type: 'integer', description: 'milliseconds to wait between lines', default: 0, min: 0, max: 60_000 },
    stubborn: { type: 'boolean', description: 'ignore SIGTERM while waiting (a cancel must kill it)', default: false },
  },
  async run(ctx) {
    if (ctx.params.stubborn) await sleep(Number(ctx.params.ms));
    else await waitOrAbort(ctx, Number(ctx.params.ms));
    const lines = Number(ctx.params.lines);
    const delay = Number(ctx.params.delay);
    for (let i = 1; i <= lines; i++) {
      process.stdout.write(`probe ${ctx.jobId} line ${i}\n`);
      if (delay > 0) await waitOrAbort(ctx, delay);
    }
    const dir = join(ctx.resultsDir, PROBE_MARKS);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `${ctx.jobId}.${ctx.attempt}`), String(Date.now()));
    return { summary: `probe done on attempt ${ctx.attempt}` };
  },
};

/** Fails its first attempts on purpose; retried with exponential backoff. */
export const flaky: TaskDefinition = {
  name: 'flaky',
  title: 'Flaky',
  description: 'Fails its first N attempts, then completes; or fails without retry (diagnostic).',
  adminOnly: true,
  maxAttempts: 4,
  retryOnError: { backoffMs: 300 },
  params: {
    failures: { type: 'integer', description: 'attempts that fail before one succeeds', default: 1, min: 0, max: 100 },
    unrecoverable: { type: 'boolean', description: 'fail with an error that is never retried', default: false },
  },
  async run(ctx) {
    if (ctx.params.unrecoverable) throw new UnrecoverableError('the input can never work (failed on purpose, no retry)');
    if (ctx.attempt <= Number(ctx.params.failures)) throw new Error(`attempt ${ctx.attempt} failed on purpose`);
    return { summary: `succeeded on attempt ${ctx.attempt}` };
  },
};

/** Runs into its time limits: the soft one aborts its signal, the hard one kills it. */
export const timeLimited: TaskDefinition = {
  name: 'time-limited',
  title: 'Time-limited',
  description: 'Sleeps past a soft limit of 1 s and a hard limit of 3 s (diagnostic).',
  adminOnly: true,
  maxAttempts: 1,
  timeLimitMs: { soft: 1000, hard: 3000 },
  params: {
    seconds: { type: 'number', description: 'how long to sleep', default: 10, min: 0, max: 3600 },
    ignoreAbort: { type: 'boolean', description: 'ignore the soft limit (and SIGTERM) and sleep on', default: false },
  },
  async run(ctx) {
    const end = Date.now() + Number(ctx.params.seconds) * 1000;
    while (Date.now() < end) {
      if (ctx.params.ignoreAbort) await sleep(Math.min(100, end - Date.now()));
      else await waitOrAbort(ctx, Math.min(100, end - Date.now()));
    }
    return { summary: `slept ${String(ctx.params.seconds)} s` };
  },
};

/** One job per key at a time: a second request while one is unfinished joins it. */
export const exclusive: TaskDefinition = {
  name: 'exclusive',
  title: 'Exclusive',
  description: 'Sleeps; requests with the same key join the unfinished job (diagnostic).',
  adminOnly: true,
  params: {
    key: { type: 'string', description: 'the unique key', required: true, maxLength: 100 },
    seconds: { type: 'number', description: 'how long to sleep', default: 1, min: 0, max: 3600 },
  },
  uniqueKey: (params) => `exclusive:${String(params.key)}`,
  async run(ctx) {
    await waitOrAbort(ctx, Number(ctx.params.seconds) * 1000);
    return { summary: `held ${String(ctx.params.key)}` };
  },
};

/** What `DOCKET_EXTRA_TASKS` loads from this module. */
export const tasks: TaskDefinition[] = [faultProbe, flaky, timeLimited, exclusive];

/** This module's path, for `DOCKET_EXTRA_TASKS` (every process of a run loads it). */
export const FAULT_TASKS_MODULE = fileURLToPath(import.meta.url);
