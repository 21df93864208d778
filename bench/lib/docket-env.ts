/**
 * An isolated Docket for one scenario: its own MariaDB database (`docket_bench_<tag>`)
 * or SQLite file, its own RabbitMQ queue prefix, log and results folders. Everything
 * is removed by `cleanup`, also after a failure.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory from 'knex';
import { loadConfig, type Config } from '../../app/config.js';
import { createContext, type Context } from '../../app/context.js';
import { AmqpTransport } from '../../app/transports/amqp-transport.js';
import { listTasks } from '../../app/tasks/index.js';
import { AMQP_URL, MYSQL_URL } from './services.js';

export interface DocketEnv {
  config: Config;
  /** The variables a `docket` child process needs. */
  env: NodeJS.ProcessEnv;
  dir: string;
  /** Opens a migrated context in this process (closed by cleanup). */
  context(): Promise<Context>;
  cleanup(): Promise<void>;
}

export async function makeDocketEnv(
  kind: { db: 'mysql' | 'sqlite'; transport: 'amqp' | 'db' },
  extra: Record<string, string> = {},
): Promise<DocketEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'docket-bench-'));
  const tag = randomBytes(4).toString('hex');
  let databaseUrl: string;
  let dropDb: (() => Promise<void>) | null = null;
  if (kind.db === 'mysql') {
    const name = `docket_bench_${tag}`;
    const admin = knexFactory({ client: 'mysql2', connection: MYSQL_URL });
    try {
      await admin.raw(`create database \`${name}\` character set utf8mb4 collate utf8mb4_unicode_ci`);
    } finally {
      await admin.destroy();
    }
    const u = new URL(MYSQL_URL);
    u.pathname = `/${name}`;
    databaseUrl = u.toString();
    dropDb = async () => {
      const k = knexFactory({ client: 'mysql2', connection: MYSQL_URL });
      try {
        await k.raw(`drop database if exists \`${name}\``);
      } finally {
        await k.destroy();
      }
    };
  } else {
    databaseUrl = `sqlite:${join(dir, 'docket.sqlite3')}`;
  }
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    AMQP_URL: kind.transport === 'amqp' ? AMQP_URL : '',
    AMQP_PREFIX: `docket-bench-${tag}`,
    DOCKET_JOB_LOG_DIR: join(dir, 'logs', 'jobs'),
    DOCKET_LOG_DIR: join(dir, 'logs'),
    DOCKET_RESULTS_DIR: join(dir, 'results'),
    // The hot path is measured as an operator runs it: warnings and errors only.
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    // Kept for ever: the scenarios' million jobs are dated months back, and retention
    // would remove them under the page and export measurements (scenario 10 turns it on).
    DOCKET_RETENTION_DAYS: '0',
    DOCKET_RETENTION_FAILED_DAYS: '0',
    ...extra,
  };
  const config = loadConfig(env);
  const contexts: Context[] = [];
  let migrated = false;
  return {
    config,
    env,
    dir,
    async context() {
      const ctx = await createContext({ config, broker: 'required', migrate: !migrated });
      migrated = true;
      contexts.push(ctx);
      return ctx;
    },
    async cleanup() {
      const errors: unknown[] = [];
      for (const c of contexts.splice(0)) {
        try {
          if (c.transport instanceof AmqpTransport) await c.transport.deleteQueues(listTasks().map((t) => t.name));
          await c.close();
        } catch (err) {
          errors.push(err);
        }
      }
      try {
        if (dropDb) await dropDb();
      } catch (err) {
        errors.push(err);
      }
      rmSync(dir, { recursive: true, force: true });
      if (errors.length) throw errors[0];
    },
  };
}
