/**
 * 8. The administrator's task runner: `docket run noop --wait` on MariaDB + RabbitMQ
 * with one worker waiting, from the command's start to its exit. It covers what a
 * person waits for: the process start, opening the database and the broker, the
 * enqueue and publish, the worker's claim, and the poll that sees the job completed.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { getJob } from '../../app/store/jobs.js';
import { makeDocketEnv } from '../lib/docket-env.js';
import { DOCKET_ENTRY, ROOT, startWorker, type Proc } from '../lib/proc.js';
import { repeat } from '../lib/repeat.js';
import { median, spread } from '../lib/stats.js';
import type { BenchOptions, Row, Scenario } from '../lib/types.js';

/** Runs `docket run noop --wait`; resolves with its wall time and the job id it printed. */
async function timedRun(env: NodeJS.ProcessEnv): Promise<{ ms: number; id: number }> {
  const loader = DOCKET_ENTRY.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const t = process.hrtime.bigint();
  const child = spawn(process.execPath, [...loader, join(ROOT, DOCKET_ENTRY), 'run', 'noop', '--wait'], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  child.stdout!.resume();
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const id = Number(/job (\d+) queued/.exec(err)?.[1]);
  if (code !== 0 || !id) throw new Error(`docket run noop --wait failed (${code}): ${err.trim().slice(-500)}`);
  // The broker was up: a line saying otherwise means the CLI published too early.
  if (/unreachable/.test(err)) throw new Error(`docket run said the broker was unreachable: ${err.trim()}`);
  return { ms, id };
}

export const scenario: Scenario = {
  id: 8,
  title: 'docket run noop --wait, command to exit (MariaDB + RabbitMQ)',
  needs: ['mysql', 'amqp'],
  async run(opts: BenchOptions): Promise<Row[]> {
    const perRun = opts.quick ? 3 : 7;
    const walls: number[] = [];
    const starts: number[] = [];
    const env = await makeDocketEnv({ db: 'mysql', transport: 'amqp' });
    let worker: Proc | null = null;
    try {
      const ctx = await env.context();
      worker = await startWorker(env.env, 2);
      // One unmeasured command: the first publish declares the task's queue.
      await timedRun(env.env);
      await repeat(opts, async (r) => {
        const ms: number[] = [];
        for (let i = 0; i < perRun; i++) {
          const { ms: wall, id } = await timedRun(env.env);
          const job = (await getJob(ctx.db, id))!;
          ms.push(wall);
          starts.push((job.startedAt as number) - job.queuedAt);
        }
        walls.push(median(ms));
        opts.log(`  run ${r + 1}: median ${median(ms).toFixed(0)} ms of ${perRun} commands (${ms.map((m) => m.toFixed(0)).join(', ')})`);
      });
    } finally {
      await worker?.stop();
      await env.cleanup();
    }
    const wall = spread(walls);
    const note = `${perRun} commands per run, one after another, from ${DOCKET_ENTRY}; one worker (concurrency 2)`;
    return [
      { scenario: 8, measure: 'docket run noop --wait, command to exit', unit: 'ms', value: wall, target: '< 1000 ms', pass: opts.quick ? null : wall.median < 1000, note },
      { scenario: 8, measure: 'its job: started_at − queued_at', unit: 'ms', value: spread(starts), target: 'reported', pass: null, note: 'every command of every run' },
    ];
  },
};
