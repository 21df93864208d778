/**
 * 8. The administrator's task runner: `docket run noop --wait` on MariaDB + RabbitMQ
 * and on SQLite with the db transport, with one worker waiting, from the command's start to its exit. It covers what a
 * person waits for: the process start, opening the database and the broker, the
 * enqueue and publish, the worker's claim, and the poll that sees the job completed.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getJob } from '../../app/store/jobs.js';
import { makeDocketEnv } from '../lib/docket-env.js';
import { DOCKET_ENTRY, ROOT, startWorker, type Proc } from '../lib/proc.js';
import { repeat } from '../lib/repeat.js';
import { median, spread } from '../lib/stats.js';
import { probe } from '../lib/services.js';
import type { BenchOptions, Row, Scenario } from '../lib/types.js';

/**
 * CPU ms of this process's children that ended and were waited for (cutime + cstime):
 * read around one command, it is that command's own CPU, a figure that a busy machine
 * stretches far less than the wall time.
 */
function reapedCpuMs(): number {
  const s = readFileSync('/proc/self/stat', 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[13]) + Number(f[14])) * 10;
}

/** Runs `docket run noop --wait`; resolves with its wall time, its CPU and the job id it printed. */
async function timedRun(env: NodeJS.ProcessEnv, entry = DOCKET_ENTRY): Promise<{ ms: number; cpu: number; id: number }> {
  const loader = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const cpu0 = reapedCpuMs();
  const t = process.hrtime.bigint();
  const child = spawn(process.execPath, [...loader, join(ROOT, entry), 'run', 'noop', '--wait'], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  child.stdout!.resume();
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const cpu = reapedCpuMs() - cpu0;
  const id = Number(/job (\d+) queued/.exec(err)?.[1]);
  if (code !== 0 || !id) throw new Error(`docket run noop --wait failed (${code}): ${err.trim().slice(-500)}`);
  // The broker was up: a line saying otherwise means the CLI published too early.
  if (/unreachable/.test(err)) throw new Error(`docket run said the broker was unreachable: ${err.trim()}`);
  return { ms, cpu, id };
}

/** The backends measured: the production pair, and SQLite with the db transport. */
const BACKENDS = [
  { name: 'MariaDB + RabbitMQ', kind: { db: 'mysql', transport: 'amqp' }, needs: ['mysql', 'amqp'] },
  { name: 'SQLite + db transport', kind: { db: 'sqlite', transport: 'db' }, needs: [] },
] as const;

export const scenario: Scenario = {
  id: 8,
  title: 'docket run noop --wait, command to exit (MariaDB + RabbitMQ, SQLite)',
  needs: [],
  async run(opts: BenchOptions): Promise<Row[]> {
    const perRun = opts.quick ? 3 : 10;
    const rows: Row[] = [];
    for (const b of BACKENDS) {
      const lacking: string[] = [];
      for (const n of b.needs) {
        const why = await probe(n);
        if (why) lacking.push(why);
      }
      if (lacking.length) {
        rows.push({ scenario: 8, measure: `docket run noop --wait, ${b.name}: SKIPPED (${lacking.join('; ')})`, unit: '', value: spread([NaN]), target: '', pass: null });
        continue;
      }
      rows.push(...(await measure(opts, b.name, { ...b.kind }, perRun)));
    }
    return rows;
  },
};

async function measure(opts: BenchOptions, backend: string, kind: { db: 'mysql' | 'sqlite'; transport: 'amqp' | 'db' }, perRun: number): Promise<Row[]> {
  const walls: number[] = [];
  const cpus: number[] = [];
  const starts: number[] = [];
  // BENCH_S8_BASELINE names another build's entry (e.g. `dist-old/cli/docket.js`, a copy
  // of dist/ from another commit): its commands alternate with this build's, one by one,
  // on the same worker, and its figures come as rows of their own, for an A/B on a noisy machine.
  const baseline = process.env.BENCH_S8_BASELINE;
  const base = { walls: [] as number[], cpus: [] as number[] };
  const env = await makeDocketEnv(kind);
  let worker: Proc | null = null;
  try {
    const ctx = await env.context();
    worker = await startWorker(env.env, 2);
    // One unmeasured command: the first publish declares the task's queue.
    await timedRun(env.env);
    await repeat(opts, async (r) => {
      const ms: number[] = [];
      const cpu: number[] = [];
      const bms: number[] = [];
      const bcpu: number[] = [];
      for (let i = 0; i < perRun; i++) {
        if (baseline) {
          const b = await timedRun(env.env, baseline);
          bms.push(b.ms);
          bcpu.push(b.cpu);
        }
        const { ms: wall, cpu: used, id } = await timedRun(env.env);
        const job = (await getJob(ctx.db, id))!;
        ms.push(wall);
        cpu.push(used);
        starts.push((job.startedAt as number) - job.queuedAt);
      }
      walls.push(median(ms));
      cpus.push(median(cpu));
      if (baseline) {
        base.walls.push(median(bms));
        base.cpus.push(median(bcpu));
        opts.log(`  run ${r + 1}, ${backend}, baseline ${baseline}: median ${median(bms).toFixed(0)} ms (${bms.map((m) => m.toFixed(0)).join(', ')}), CPU ${median(bcpu)} ms`);
      }
      opts.log(`  run ${r + 1}, ${backend}: median ${median(ms).toFixed(0)} ms of ${perRun} commands (${ms.map((m) => m.toFixed(0)).join(', ')}), CPU ${median(cpu)} ms`);
    });
  } finally {
    await worker?.stop();
    await env.cleanup();
  }
  const wall = spread(walls);
  const note = `${perRun} commands per run, one after another, from ${DOCKET_ENTRY}; one worker (concurrency 2)`;
  const production = kind.db === 'mysql';
  return [
    {
      scenario: 8,
      measure: `docket run noop --wait, command to exit, ${backend}`,
      unit: 'ms',
      value: wall,
      target: production ? '≤ 300 ms' : 'reported',
      pass: opts.quick || !production ? null : wall.median <= 300,
      note,
    },
    {
      scenario: 8,
      measure: `its CPU (user + system), ${backend}`,
      unit: 'ms',
      value: spread(cpus),
      target: 'reported',
      pass: null,
      note: 'the command process alone, in 10 ms ticks: what a busy machine inflates least',
    },
    { scenario: 8, measure: `its job: started_at − queued_at, ${backend}`, unit: 'ms', value: spread(starts), target: 'reported', pass: null, note: 'every command of every run' },
    ...(baseline
      ? [
          { scenario: 8, measure: `baseline ${baseline}: command to exit, ${backend}`, unit: 'ms', value: spread(base.walls), target: 'reported', pass: null, note: 'interleaved with the commands above' },
          { scenario: 8, measure: `baseline ${baseline}: its CPU, ${backend}`, unit: 'ms', value: spread(base.cpus), target: 'reported', pass: null },
        ]
      : []),
  ];
}
