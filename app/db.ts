import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { DatabaseConfig } from './config.js';
import { migrationSource } from '../db/migrations/index.js';

export type Db = Knex;

/**
 * Opens the jobs database. MySQL/SQLite differences live here and in `dialect.ts`:
 * - SQLite runs in WAL mode with a busy timeout, because the web process, workers and
 *   the CLI are separate processes writing one file; one connection per process, since
 *   better-sqlite3 is synchronous and a pool would only queue behind the file lock.
 * - MySQL gets a small pool and BIGINTs as plain numbers (all our times are epoch ms,
 *   far below 2^53).
 */
export function openDb(cfg: DatabaseConfig, opts: { pool?: number } = {}): Db {
  if (cfg.client === 'sqlite') {
    if (cfg.filename !== ':memory:') mkdirSync(dirname(cfg.filename), { recursive: true });
    return knexFactory({
      client: 'better-sqlite3',
      connection: { filename: cfg.filename },
      useNullAsDefault: true,
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: { pragma(s: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
          try {
            conn.pragma('journal_mode = WAL');
            conn.pragma('busy_timeout = 10000');
            conn.pragma('synchronous = NORMAL');
            conn.pragma('foreign_keys = ON');
            done(null, conn);
          } catch (err) {
            done(err as Error, conn);
          }
        },
      },
    });
  }
  return knexFactory({
    client: 'mysql2',
    connection: {
      host: cfg.host,
      port: cfg.port,
      user: cfg.user,
      password: cfg.password,
      database: cfg.database,
      supportBigNumbers: true,
      bigNumberStrings: false,
      charset: 'utf8mb4',
      connectTimeout: 5000,
    },
    pool: { min: 0, max: opts.pool ?? 8 },
    acquireConnectionTimeout: 10_000,
  });
}

export function isSqlite(db: Db): boolean {
  const client = db.client.config.client as string;
  return client === 'better-sqlite3' || client === 'sqlite3';
}

/**
 * A transaction that holds the write lock from its first statement. SQLite starts a
 * deferred transaction as a reader; one that reads and then writes fails with
 * "database is locked" (whatever the busy timeout) if another process wrote in between.
 * A write that changes nothing, issued first, takes the lock up front. MySQL needs
 * nothing: InnoDB locks rows as it goes.
 */
export async function writeTransaction<T>(db: Db, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return db.transaction(async (trx) => {
    if (isSqlite(db)) await trx.raw('update jobs set id = id where id = -1');
    return fn(trx);
  });
}

export async function migrate(db: Db): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

/** Runs one statement as a prepared statement; resolves with the rows it matched. */
export type Execute = (sql: string, params: Array<string | number | Buffer | null>) => Promise<number>;

/**
 * Runs `fn` in a transaction on one MySQL connection of the pool, whose statements go
 * by the binary protocol (prepared statements): parameters travel as they are, with no
 * escaping on either side and no parsing of a literal by the server. For large text
 * (job output) that is several times faster than a query. Knex has no prepared
 * statements, so the connection is borrowed from its pool and given back. MySQL only.
 */
export async function preparedTransaction<T>(db: Db, fn: (execute: Execute) => Promise<T>): Promise<T> {
  const conn = (await db.client.acquireConnection()) as RawConnection;
  const query = (sql: string): Promise<unknown> =>
    new Promise((resolve, reject) => conn.query(sql, (err, res) => (err ? reject(err) : resolve(res))));
  const execute: Execute = (sql, params) =>
    new Promise((resolve, reject) =>
      conn.execute(sql, params, (err, res) => (err ? reject(err) : resolve(Number(res?.affectedRows ?? 0)))),
    );
  try {
    await query('start transaction');
    try {
      const result = await fn(execute);
      await query('commit');
      return result;
    } catch (err) {
      // A connection that cannot roll back must not go back to the pool mid-transaction.
      await query('rollback').catch(() => conn.destroy());
      throw err;
    }
  } finally {
    await db.client.releaseConnection(conn);
  }
}

/** The part of a mysql2 (callback) connection that preparedTransaction uses. */
interface RawConnection {
  query(sql: string, cb: (err: Error | null, res?: unknown) => void): void;
  execute(sql: string, params: unknown[], cb: (err: Error | null, res?: { affectedRows?: number }) => void): void;
  destroy(): void;
}

/** A cheap round trip, for health checks and start-up. */
export async function ping(db: Db): Promise<void> {
  await db.raw('select 1 as ok');
}
