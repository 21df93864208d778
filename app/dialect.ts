/**
 * Every difference between SQLite and MySQL/MariaDB that Docket's own code has to know,
 * each behind a name and with the reason it exists. The rest of the code calls these and
 * never asks which engine it runs on.
 *
 * Differences knex already hides, which the code relies on (no branch needed):
 * - `insert().onConflict().merge()` is ON CONFLICT ... DO UPDATE on SQLite and ON
 *   DUPLICATE KEY UPDATE on MySQL (login failures count with it).
 * - `text(..., 'mediumtext')` is MEDIUMTEXT on MySQL and TEXT on SQLite (no size limit).
 * - BIGINT times: epoch milliseconds on both engines, so no time-zone or precision quirks.
 */
import type { Knex } from 'knex';
import type { DatabaseConfig } from './config.js';

type Db = Knex;

/**
 * Which engine a connection talks to. Outside this module only the plain-SQL runner
 * (store/raw.ts) asks, to pick the driver's own API (better-sqlite3 vs mysql2).
 */
export function isSqlite(db: Db): boolean {
  const client = db.client.config.client as string;
  return client === 'better-sqlite3' || client === 'sqlite3';
}

/**
 * knex options per engine.
 * - SQLite runs in WAL mode with a busy timeout, because the web process, workers and
 *   the CLI are separate processes writing one file; one connection per process, since
 *   better-sqlite3 is synchronous and a pool would only queue behind the file lock.
 *   Foreign keys are off by default in SQLite; MySQL always enforces them.
 * - MySQL gets a small pool and BIGINTs as plain numbers (all our times are epoch ms,
 *   far below 2^53), and utf8mb4 so that any text a job prints is stored.
 */
export function knexOptions(cfg: DatabaseConfig, opts: { pool?: number } = {}): Knex.Config {
  if (cfg.client === 'sqlite') {
    return {
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
    };
  }
  return {
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
  };
}

/**
 * Takes the write lock at the start of a knex transaction. SQLite starts a deferred
 * transaction as a reader; one that reads and then writes fails with "database is
 * locked" (whatever the busy timeout) if another process wrote in between. A write that
 * changes nothing, issued first, takes the lock up front. MySQL needs nothing: InnoDB
 * locks rows as it goes.
 */
export async function takeWriteLock(db: Db, trx: Knex.Transaction): Promise<void> {
  if (isSqlite(db)) await trx.raw('update jobs set id = id where id = -1');
}

/**
 * Locks the rows a select inside a transaction reads, until it ends (MySQL: FOR UPDATE,
 * so that a concurrent change of those rows waits). SQLite has no row locks and needs
 * none: a write transaction holds the whole database (`takeWriteLock`).
 */
export function lockRows<T extends Knex.QueryBuilder>(db: Db, q: T): T {
  return isSqlite(db) ? q : (q.forUpdate() as T);
}

/**
 * The statement that opens a plain-SQL transaction (store/raw.ts). On SQLite, IMMEDIATE
 * takes the write lock at BEGIN, for the same reason as `takeWriteLock`.
 */
export function beginTransactionSql(db: Db): string {
  return isSqlite(db) ? 'BEGIN IMMEDIATE' : 'START TRANSACTION';
}

/**
 * A chunk of output as the driver should bind it. MySQL takes UTF-8 bytes as they are
 * (no re-encoding of a megabyte of output). SQLite keeps the type of what it is given,
 * so a Buffer would be stored as a BLOB and read back as bytes: it gets text.
 */
export function outputChunkValue(db: Db, text: string | Buffer): string | Buffer {
  return isSqlite(db) ? text.toString() : text;
}

/**
 * The id of the first row of a multi-row INSERT, from what the driver returned: MySQL
 * returns the first id of the statement (LAST_INSERT_ID()), SQLite the last one
 * (last_insert_rowid()).
 */
export function firstInsertedId(db: Db, returned: number, rows: number): number {
  return isSqlite(db) ? returned - rows + 1 : returned;
}

const autoincModes = new WeakMap<Db, Promise<boolean>>();

/**
 * True when the rows of one multi-row INSERT get consecutive ids, so they can be read back
 * as first id + i. SQLite has one writer at a time: always. InnoDB: unless
 * `innodb_autoinc_lock_mode` is 2 ("interleaved"), where concurrent inserts may interleave
 * ids. Asked once per connection pool; a server that cannot say counts as interleaved.
 */
export async function insertIdsConsecutive(db: Db): Promise<boolean> {
  if (isSqlite(db)) return true;
  let mode = autoincModes.get(db);
  if (!mode) {
    mode = db
      .raw('select @@innodb_autoinc_lock_mode as m')
      .then((res: unknown) => Number((res as Array<Array<{ m: number }>>)[0][0].m) !== 2)
      .catch(() => false);
    autoincModes.set(db, mode);
  }
  return mode;
}

/**
 * A session expiry time as connect-session-knex stores it, so that `expired < bound`
 * compares like with like: ISO text on SQLite ("2026-11-22T10:00:00.000Z", which sorts as
 * a string), a UTC DATETIME ('YYYY-MM-DD HH:MM:SS') on MySQL.
 */
export function sessionExpiryValue(db: Db, at: number): string {
  const iso = new Date(at).toISOString();
  return isSqlite(db) ? iso : iso.slice(0, 19).replace('T', ' ');
}

/**
 * Narrows a query to the rows whose `column` starts with `prefix` followed by a digit (on
 * MySQL: by anything; the caller checks the rest). The prefix holds only [a-z0-9-], so
 * neither pattern needs escaping. SQLite's LIKE ignores case and cannot use the index;
 * GLOB is case-sensitive and can. MySQL's LIKE with a constant prefix uses the index.
 */
export function whereStartsWithNumbered(db: Db, q: Knex.QueryBuilder, column: string, prefix: string): Knex.QueryBuilder {
  return isSqlite(db) ? q.whereRaw(`${column} glob ?`, [`${prefix}[0-9]*`]) : q.where(column, 'like', `${prefix}%`);
}

/**
 * A file that changes whenever any process commits, which a waiting consumer may watch to
 * wake at once (the db transport): SQLite's write-ahead log. MySQL has no such file (and
 * an in-memory SQLite database no other process), so polling is all there is there.
 */
export function commitSignalFile(cfg: DatabaseConfig): string | null {
  return cfg.client === 'sqlite' && cfg.filename !== ':memory:' ? `${cfg.filename}-wal` : null;
}

/**
 * What a claim appends to its read of the pause switch, so that the claim and a pause
 * are ordered: a pause that returned is seen by every claim after it, and a claim under
 * way when the pause is written ends before the pause's write does.
 * - MySQL/MariaDB: a plain read in a transaction reads a snapshot, which may predate a
 *   pause committed a moment later; LOCK IN SHARE MODE reads the latest value and holds a
 *   shared lock (on the row, or on the gap where it would be) until the claim commits, so
 *   the pause's UPDATE or INSERT waits for it. (MariaDB has no FOR SHARE; MySQL 8 still
 *   takes LOCK IN SHARE MODE.) Claims share the lock, so they never wait on each other.
 * - SQLite: nothing. The claim runs in BEGIN IMMEDIATE, which holds the one write lock
 *   from its start, so the pause's write waits for the claim and the claim reads what the
 *   last committed write left.
 */
export function lockForShareSql(db: Db): string {
  return isSqlite(db) ? '' : ' lock in share mode';
}

/**
 * A read that locks the rows it reads until the transaction ends: MySQL/MariaDB's
 * `FOR UPDATE`, which also makes the reads after it see the latest commits (InnoDB takes
 * a transaction's snapshot at its first plain read, not at a locking one). SQLite: the
 * plain read, since `writeTransaction` already holds the database's one write lock.
 */
export function forUpdate(db: Db, q: Knex.QueryBuilder): Knex.QueryBuilder {
  return isSqlite(db) ? q : q.forUpdate();
}

/**
 * A read that holds a shared lock on the rows it reads until the transaction ends
 * (MySQL/MariaDB's LOCK IN SHARE MODE, which also reads the latest commit rather than
 * the snapshot); SQLite: the plain read under `writeTransaction`'s write lock.
 */
export function forShare(db: Db, q: Knex.QueryBuilder): Knex.QueryBuilder {
  return isSqlite(db) ? q : q.forShare();
}
