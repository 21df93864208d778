/**
 * A BullMQ worker process for the comparison: BullMQ's recommended in-process
 * processor (here a no-op), with the concurrency given. Usage:
 *   node --import tsx bench/lib/bullmq-worker.ts QUEUE CONCURRENCY
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { REDIS_URL } from './services.js';

const [queueName, concurrencyArg] = process.argv.slice(2);
const concurrency = Number(concurrencyArg);
if (!queueName || !Number.isInteger(concurrency) || concurrency < 1) {
  process.stderr.write('usage: bullmq-worker.ts QUEUE CONCURRENCY\n');
  process.exit(2);
}

// BullMQ's workers need a connection that retries forever (maxRetriesPerRequest null).
const connection = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const worker = new Worker(queueName, async () => undefined, { connection, concurrency });
worker.on('error', (err) => process.stderr.write(`bullmq worker error: ${err.message}\n`));
await worker.waitUntilReady();
process.stdout.write(`bullmq worker ready on ${queueName} (concurrency ${concurrency})\n`);

const stop = async (): Promise<void> => {
  await worker.close();
  connection.disconnect();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
