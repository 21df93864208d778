import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskDefinition } from './types.js';

/** Does nothing; the benchmarks measure the engine with it. */
export const noop: TaskDefinition = {
  name: 'noop',
  title: 'No-op',
  description: 'Does nothing and completes (diagnostic).',
  adminOnly: true,
  params: {},
  async run() {
    return;
  },
};

export const sleepTask: TaskDefinition = {
  name: 'sleep',
  title: 'Sleep',
  description: 'Waits a number of seconds, reporting progress each second (diagnostic).',
  adminOnly: true,
  params: {
    seconds: { type: 'number', description: 'how long to wait', default: 1, min: 0, max: 86_400 },
    fail: { type: 'boolean', description: 'throw at the end instead of completing', default: false },
  },
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
  name: 'print',
  title: 'Print',
  description: 'Prints numbered lines to its output (diagnostic).',
  adminOnly: true,
  params: {
    lines: { type: 'integer', description: 'how many lines', default: 10, min: 0, max: 100_000_000 },
    width: { type: 'integer', description: 'padding after the line number', default: 0, min: 0, max: 10_000 },
    stderr: { type: 'boolean', description: 'print every tenth line to stderr', default: false },
    exit: { type: 'integer', description: 'exit the process with this code after printing', min: 0, max: 255 },
    delay: { type: 'number', description: 'milliseconds to wait between lines', default: 0, min: 0, max: 60_000 },
    pid: { type: 'boolean', description: 'print the process id first', default: false },
    leak: { type: 'integer', description: 'keep this many MB alive after the job (a leaky task)', default: 0, min: 0, max: 4096 },
  },
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
