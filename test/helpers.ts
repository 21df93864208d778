/**
 * Test fixtures shared by every tier. Each test file gets its own SQLite file or MySQL
 * database and its own RabbitMQ queue prefix, so suites never see each other's jobs.
 *
 * Real services come from the environment (set by .ci/run):
 *   DOCKET_TEST_MYSQL_URL   mysql://root@127.0.0.1:3306/test   (a server to create databases on)
 *   DOCKET_TEST_AMQP_URL    amqp://guest:guest@127.0.0.1:5672
 *   DOCKET_TEST_REQUIRE_SERVICES=1  a missing service fails its suites instead of skipping them
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knexFactory from 'knex';
import amqp from 'amqplib';
import { loadConfig, type Config } from '../app/config.js';
import { createContext, type Context } from '../app/context.js';
import type { Db } from '../app/db.js';
import { getJob } from '../app/store/jobs.js';
import { FINAL_STATUSES, type Job } from '../app/types.js';

// Tests are quiet unless LOG_LEVEL asks otherwise.
process.env.LOG_LEVEL ??= 'error';

export type DbKind = 'sqlite' | 'mysql';
export type TransportKind = 'db' | 'amqp';
export interface Backend {
  db: DbKind;
  transport: TransportKind;
  name: string;
}

export const MYSQL_URL = process.env.DOCKET_TEST_MYSQL_URL || null;
export const AMQP_URL = process.env.DOCKET_TEST_AMQP_URL || null;
export const REQUIRE_SERVICES = process.env.DOCKET_TEST_REQUIRE_SERVICES === '1';

/** The backends a suite should run on: SQLite + db always, the real services when configured. */
export function backends(): Backend[] {
  const list: Backend[] = [{ db: 'sqlite', transport: 'db', name: 'SQLite + db transport' }];
  if (MYSQL_URL || REQUIRE_SERVICES) list.push({ db: 'mysql', transport: 'db', name: 'MariaDB + db transport' });
  if ((MYSQL_URL && AMQP_URL) || REQUIRE_SERVICES) {
    list.push({ db: 'mysql', transport: 'amqp', name: 'MariaDB + RabbitMQ' });
  }
  return list;
}

/** Checks a service is configured and reachable; skips the suite (or fails, in CI) if not. */
export async function requireService(ctx: Mocha.Context, kind: 'mysql' | 'amqp'): Promise<void> {
  const url = kind === 'mysql' ? MYSQL_URL : AMQP_URL;
  const why = url ? await unreachable(kind, url) : `DOCKET_TEST_${kind.toUpperCase()}_URL is not set`;
  if (!why) return;
  if (REQUIRE_SERVICES) throw new Error(`${kind} is required (DOCKET_TEST_REQUIRE_SERVICES=1) but ${why}`);
  ctx.skip();
}

async function unreachable(kind: 'mysql' | 'amqp', url: string): Promise<string | null> {
  try {
    if (kind === 'amqp') {
      const c = await amqp.connect(url, { timeout: 3000 });
      await c.close();
    } else {
      const k = knexFactory({ client: 'mysql2', connection: url });
      await k.raw('select 1');
      await k.destroy();
    }
    return null;
  } catch (err) {
    return `${url} is unreachable: ${(err as Error).message}`;
  }
}

export interface TestEnv {
  config: Config;
  env: NodeJS.ProcessEnv;
  /** Opens a context (migrated) on this environment; closed by `cleanup`. */
  context(): Promise<Context>;
  cleanup(): Promise<void>;
}

/**
 * Sets `keys` of a test environment's variables in this process (a worker started here
 * hands them to its children; unset ones are removed) and returns what puts the earlier
 * values back, for the suite's `after`.
 */
export function exportEnv(vars: Record<string, string | undefined>, keys: readonly string[]): () => void {
  const saved = new Map(keys.map((k) => [k, process.env[k]] as const));
  const put = (k: string, v: string | undefined) => {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  };
  for (const k of keys) put(k, vars[k]);
  return () => {
    for (const [k, v] of saved) put(k, v);
  };
}

/**
 * A fresh environment: its own database (SQLite file or MySQL database), queue prefix,
 * log and results folders. `env` holds the variables for a child process (CLI, worker).
 */
export async function makeTestEnv(
  backend: { db: DbKind; transport: TransportKind },
  extra: Record<string, string> = {},
): Promise<TestEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'docket-test-'));
  const tag = randomBytes(4).toString('hex');
  let databaseUrl: string;
  let dropDb: (() => Promise<void>) | null = null;
  if (backend.db === 'mysql') {
    if (!MYSQL_URL) throw new Error('DOCKET_TEST_MYSQL_URL is not set');
    const name = `docket_t_${tag}`;
    const admin = knexFactory({ client: 'mysql2', connection: MYSQL_URL });
    await admin.raw(`create database \`${name}\` character set utf8mb4 collate utf8mb4_unicode_ci`);
    await admin.destroy();
    const u = new URL(MYSQL_URL);
    u.pathname = `/${name}`;
    databaseUrl = u.toString();
    dropDb = async () => {
      const k = knexFactory({ client: 'mysql2', connection: MYSQL_URL });
      await k.raw(`drop database if exists \`${name}\``);
      await k.destroy();
    };
  } else {
    databaseUrl = `sqlite:${join(dir, 'docket.sqlite3')}`;
  }
  if (backend.transport === 'amqp' && !AMQP_URL) throw new Error('DOCKET_TEST_AMQP_URL is not set');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    AMQP_URL: backend.transport === 'amqp' ? (AMQP_URL as string) : '',
    AMQP_PREFIX: `docket-test-${tag}`,
    DOCKET_JOB_LOG_DIR: join(dir, 'logs', 'jobs'),
    DOCKET_LOG_DIR: join(dir, 'logs'),
    DOCKET_RESULTS_DIR: join(dir, 'results'),
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
    DOCKET_HEARTBEAT_MS: '500',
    DOCKET_LEASE_MS: '3000',
    ...extra,
  };
  const config = loadConfig(env);
  const contexts: Context[] = [];
  return {
    config,
    env,
    async context() {
      const ctx = await createContext({ config, broker: 'required' });
      contexts.push(ctx);
      return ctx;
    },
    async cleanup() {
      for (const c of contexts.splice(0)) {
        if (c.transport.kind === 'amqp') {
          const { AmqpTransport } = await import('../app/transports/amqp-transport.js');
          const { listTasks } = await import('../app/tasks/index.js');
          if (c.transport instanceof AmqpTransport) await c.transport.deleteQueues(listTasks().map((t) => t.name));
        }
        await c.close();
      }
      if (dropDb) await dropDb();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls until `fn` returns a truthy value, or fails after `ms` with `what`. */
export async function waitUntil<T>(fn: () => Promise<T> | T, ms: number, what: string): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until job `id` has ended (completed, failed or cancelled); the job as it ended. */
export function jobEnded(db: Db, id: number, ms = 30_000): Promise<Job> {
  return waitUntil(
    async () => {
      const j = await getJob(db, id);
      return j && FINAL_STATUSES.includes(j.status) ? j : null;
    },
    ms,
    `job ${id} to end`,
  );
}

/**
 * A `jobs` row to insert directly, for tests of the store's queries: a queued `noop`
 * queued at 1000, unless `extra` says otherwise.
 */
export function jobRow(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { task: 'noop', params: '{}', status: 'queued', priority: 0, origin: 'cli', attempt: 0, max_attempts: 1, queued_at: 1000, ...extra };
}
