/**
 * 6. Output capture: one job printing 1,000,000 lines, against the same handler in a
 * plain child printing to /dev/null. Every line must reach both the database and the
 * job's log file (the per-job cap is raised to 64 MiB for this, as an operator would
 * for a job known to be chatty).
 */
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../../app/context.js';
import { getJob, readOutput } from '../../app/store/jobs.js';
import { waitForCount } from '../lib/bullmq.js';
import { makeDocketEnv } from '../lib/docket-env.js';
import { ROOT, startWorker, type Proc } from '../lib/proc.js';
import { repeat } from '../lib/repeat.js';
import { spread } from '../lib/stats.js';
import type { BenchOptions, Row, Scenario } from '../lib/types.js';

async function baselineMs(lines: number): Promise<number> {
  const devnull = openSync('/dev/null', 'w');
  try {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/lib/print-baseline.ts'), String(lines)], {
      cwd: ROOT,
      stdio: ['ignore', devnull, 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    const m = /baseline-ms ([\d.]+)/.exec(err);
    if (code !== 0 || !m) throw new Error(`the baseline printer failed (${code}): ${err.slice(-500)}`);
    return Number(m[1]);
  } finally {
    closeSync(devnull);
  }
}

function countLines(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

async function storedLines(ctx: Context, id: number): Promise<number> {
  let n = 0;
  let after = 0;
  for (;;) {
    const chunks = await readOutput(ctx.db, id, after, 200);
    for (const c of chunks) if (c.stream !== 'system') n += countLines(c.text);
    if (chunks.length < 200) return n;
    after = chunks[chunks.length - 1].id;
  }
}

export const scenario: Scenario = {
  id: 6,
  title: 'one job printing 1,000,000 lines vs printing to /dev/null',
  needs: ['mysql', 'amqp'],
  async run(opts: BenchOptions): Promise<Row[]> {
    const lines = opts.quick ? 100_000 : 1_000_000;
    const ratios: number[] = [];
    const walls: number[] = [];
    const bases: number[] = [];
    const captured: Array<{ db: number; file: number }> = [];
    const env = await makeDocketEnv({ db: 'mysql', transport: 'amqp' }, { DOCKET_OUTPUT_CAP_BYTES: String(64 * 1024 * 1024) });
    let worker: Proc | null = null;
    try {
      const ctx = await env.context();
      worker = await startWorker(env.env, 1);
      await repeat(opts, async (r) => {
        const base = await baselineMs(lines);
        const { job } = await ctx.service.enqueue({ task: 'print', params: { lines }, origin: 'cli' });
        await waitForCount('the print job', async () => ((await getJob(ctx.db, job.id))?.finishedAt ? 1 : 0), 1, 60_000, 100);
        const done = (await getJob(ctx.db, job.id))!;
        if (done.status !== 'completed') throw new Error(`the print job ended ${done.status}: ${done.error}`);
        const wall = (done.finishedAt as number) - (done.startedAt as number);
        const got = {
          db: await storedLines(ctx, job.id),
          file: countLines(readFileSync(join(env.config.jobLogDir, `${job.id}.log`), 'utf8')),
        };
        walls.push(wall);
        bases.push(base);
        ratios.push(wall / base);
        captured.push(got);
        opts.log(`  run ${r + 1}: job ${wall} ms, /dev/null ${base.toFixed(0)} ms, lines stored ${got.db}, in log file ${got.file}`);
      });
    } finally {
      await worker?.stop();
      await env.cleanup();
    }
    const ratio = spread(ratios);
    const least = Math.min(...captured.flatMap((c) => [c.db, c.file]));
    const note = `${lines.toLocaleString('en')} lines; job: claim to completion with every chunk stored`;
    return [
      { scenario: 6, measure: 'print job wall time', unit: 'ms', value: spread(walls), target: 'reported', pass: null, note },
      { scenario: 6, measure: 'same handler to /dev/null', unit: 'ms', value: spread(bases), target: 'reported', pass: null, note: 'timed inside a warm child' },
      { scenario: 6, measure: 'wall time ratio job / dev-null', unit: '×', value: ratio, target: '≤ 1.25×', pass: opts.quick ? null : ratio.median <= 1.25 },
      {
        scenario: 6,
        measure: 'lines captured (fewest of db and log file)',
        unit: 'lines',
        value: spread(captured.map((c) => Math.min(c.db, c.file))),
        target: `all ${lines.toLocaleString('en')}`,
        pass: least === lines,
        detail: { captured },
      },
    ];
  },
};
