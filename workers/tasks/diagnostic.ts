import { setTimeout as sleep } from 'node:timers/promises';
import { noopSpec, printSpec, sleepSpec } from '../../app/tasks/diagnostic.js';
import type { TaskDefinition } from './types.js';

/** The diagnostic tasks' handlers; noop does nothing, and the benchmarks measure the engine with it. */
export const noop: TaskDefinition = {
  ...noopSpec,
  async run() {
    return;
  },
};

export const sleepTask: TaskDefinition = {
  ...sleepSpec,
  async run(ctx) {
    const seconds = Number(ctx.params.seconds);
    const end = Date.now() + seconds * 1000;
    const total = Math.ceil(seconds);
    let done = 0;
    ctx.progress(0, total, `sleeping ${seconds} s`);
    while (Date.now() < end) {
      await sleep(Math.min(1000, end - Date.now()), undefined, { signal: ctx.signal }).catch(() => undefined);
      if (ctx.signal.aborted) throw new Error(`stopped: ${String(ctx.signal.reason ?? 'aborted')}`);
      done = Math.min(total, done + 1);
      ctx.progress(done, total, `slept ${done} of ${total} s`);
    }
    if (ctx.params.fail) throw new Error(`sleep finished and failed on purpose after ${seconds} s`);
    return { summary: `slept ${seconds} s` };
  },
};

const leaked: Buffer[] = [];

export const print: TaskDefinition = {
  ...printSpec,
  async run(ctx) {
    if (ctx.params.pid) process.stdout.write(`pid ${process.pid}\n`);
    // Filled, so that the memory is really resident, and kept past the job's end.
    for (let i = 0; i < Number(ctx.params.leak); i++) leaked.push(Buffer.alloc(1024 * 1024, 1));
    const lines = Number(ctx.params.lines);
    const pad = 'x'.repeat(Number(ctx.params.width));
    const delay = Number(ctx.params.delay);
    const toStderr = Boolean(ctx.params.stderr);
    // Batching lines into larger writes keeps a million-line job cheap.
    let buf = '';
    for (let i = 1; i <= lines; i++) {
      const line = `line ${i}${pad ? ' ' + pad : ''}\n`;
      if (toStderr && i % 10 === 0) {
        if (buf) process.stdout.write(buf);
        buf = '';
        process.stderr.write(line);
      } else {
        buf += line;
      }
      if (buf.length >= 65536 || delay > 0) {
        process.stdout.write(buf);
        buf = '';
      }
      if (delay > 0) {
        ctx.progress(i, lines, `line ${i} of ${lines}`);
        await sleep(delay);
      } else if (i % 100_000 === 0) {
        ctx.progress(i, lines, `line ${i} of ${lines}`);
      }
    }
    if (buf) process.stdout.write(buf);
    if (ctx.params.exit !== undefined && ctx.params.exit !== null) {
      // Simulates a task that dies: the worker must record the exit, not hang.
      await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
      process.exit(Number(ctx.params.exit));
    }
    return { summary: `printed ${lines} lines` };
  },
};
