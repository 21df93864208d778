/** The diagnostic tasks (DESIGN.md §3): for tests and benchmarks, administrators only. */
import type { TaskSpec } from './types.js';

/** Does nothing; the benchmarks measure the engine with it. */
export const noopSpec: TaskSpec = {
  name: 'noop',
  title: 'No-op',
  description: 'Does nothing and completes (diagnostic).',
  adminOnly: true,
  params: {},
};

export const sleepSpec: TaskSpec = {
  name: 'sleep',
  title: 'Sleep',
  description: 'Waits a number of seconds, reporting progress each second (diagnostic).',
  adminOnly: true,
  params: {
    seconds: { type: 'number', description: 'how long to wait', default: 1, min: 0, max: 86_400 },
    fail: { type: 'boolean', description: 'throw at the end instead of completing', default: false },
  },
};

export const printSpec: TaskSpec = {
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
};

export const diagnosticSpecs: TaskSpec[] = [noopSpec, sleepSpec, printSpec];
