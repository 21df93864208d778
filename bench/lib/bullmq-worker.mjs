/**
 * A BullMQ worker process for the comparison. Usage:
 *   node bench/lib/bullmq-worker.mjs QUEUE CONCURRENCY inline|sandboxed REDIS_URL
 * inline: BullMQ's recommended in-process processor, here a no-op.
 * sandboxed: the processor is a file (bullmq-noop-processor.mjs) that BullMQ runs in
 * child processes (`useWorkerThreads: false`), as Docket runs every job in a child.
 * Plain JavaScript on purpose: BullMQ forks its children with this process's Node
 * flags, and under the tsx loader they never take a job.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const [queueName, concurrencyArg, mode, url] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
if (!queueName || !Number.isInteger(concurrency) || concurrency < 1 || !['inline', 'sandboxed'].includes(mode) || !url) {
  process.stderr.write('usage: bullmq-worker.mjs QUEUE CONCURRENCY inline|sandboxed REDIS_URL\n');
  process.exit(2);
}

// BullMQ's workers need a connection that retries forever (maxRetriesPerRequest null).
const connection = new Redis(url, { maxRetriesPerRequest: null });
const processor = mode === 'sandboxed' ? new URL('./bullmq-noop-processor.mjs', import.meta.url) : async () => undefined;
const worker = new Worker(queueName, processor, { connection, concurrency, useWorkerThreads: false });
worker.on('error', (err) => process.stderr.write(`bullmq worker error: ${err.message}\n`));
await worker.waitUntilReady();
process.stdout.write(`bullmq worker ready on ${queueName} (${mode}, concurrency ${concurrency})\n`);

const stop = async () => {
  await worker.close();
  connection.disconnect();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
