/**
 * A graphile-worker process for the comparison: the task (a no-op) runs in this
 * process, as graphile-worker runs every task. Usage:
 *   node bench/lib/graphile-worker.mjs CONNECTION_STRING CONCURRENCY
 */
import { Logger, run } from 'graphile-worker';

const [connectionString, concurrencyArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
if (!connectionString || !Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write('usage: graphile-worker.mjs CONNECTION_STRING CONCURRENCY\n');
  process.exit(2);
}

// Warnings and errors only, as the Docket workers log at warn.
const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') process.stderr.write(`graphile ${level}: ${message}\n`);
});
const runner = await run({
  connectionString,
  concurrency,
  // One pool connection per concurrent job, and one to listen for new jobs.
  maxPoolSize: concurrency + 2,
  noHandleSignals: true,
  logger,
  taskList: { noop: async () => undefined },
});
process.stdout.write(`graphile worker ready (concurrency ${concurrency})\n`);

const stop = async () => {
  await runner.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
