/**
 * The local services the benchmarks run against, and a plain answer when one is
 * missing. URLs come from the environment, with the CI machine's defaults.
 */
import amqp from 'amqplib';
import knexFactory from 'knex';
import { Redis } from 'ioredis';

export const MYSQL_URL = process.env.BENCH_MYSQL_URL || process.env.DOCKET_TEST_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test';
export const AMQP_URL = process.env.BENCH_AMQP_URL || process.env.DOCKET_TEST_AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
export const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';

export type Service = 'mysql' | 'amqp' | 'redis';

export const SERVICE_NAMES: Record<Service, string> = {
  mysql: `MariaDB/MySQL at ${redact(MYSQL_URL)}`,
  amqp: `RabbitMQ at ${redact(AMQP_URL)}`,
  redis: `Redis at ${REDIS_URL}`,
};

/** Null when the service answers, else one line saying why not. */
export async function probe(service: Service): Promise<string | null> {
  try {
    if (service === 'mysql') {
      const k = knexFactory({ client: 'mysql2', connection: MYSQL_URL, acquireConnectionTimeout: 3000 });
      try {
        await k.raw('select 1');
      } finally {
        await k.destroy();
      }
    } else if (service === 'amqp') {
      const c = await amqp.connect(AMQP_URL, { timeout: 3000 });
      await c.close();
    } else {
      const r = new Redis(REDIS_URL, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
      r.on('error', () => undefined);
      try {
        await r.connect();
        await r.ping();
      } finally {
        r.disconnect();
      }
    }
    return null;
  } catch (err) {
    return `${SERVICE_NAMES[service]} is unreachable: ${(err as Error).message.split('\n')[0]}`;
  }
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
