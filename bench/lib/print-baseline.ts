/**
 * Scenario 6's baseline: the `print` task's own handler in a plain child process whose
 * stdout goes to /dev/null, timed from inside (no process start). Prints its time in
 * ms on stderr. Usage: node --import tsx bench/lib/print-baseline.ts LINES
 */
import { print } from '../../workers/tasks/diagnostic.js';

const lines = Number(process.argv[2]);
const t0 = performance.now();
await print.run({
  jobId: 0,
  attempt: 1,
  params: { lines, width: 0, stderr: false, delay: 0 },
  resultsDir: '/tmp',
  signal: new AbortController().signal,
  openFile() {
    throw new Error('the print task reads no file');
  },
  putResult() {
    throw new Error('the print task writes no file');
  },
  db() {
    throw new Error('the baseline has no database');
  },
  progress() {},
});
// Everything handed to the pipe, as the worker's child waits for before it reports.
await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
process.stderr.write(`baseline-ms ${(performance.now() - t0).toFixed(1)}\n`);
