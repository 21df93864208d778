/**
 * The hot path's SQL runner: a worker claims and completes jobs many times a second, and
 * knex's query builder and transaction machinery cost more CPU than the statements
 * themselves (a worker profile showed a third of its time in knex code). These few
 * statements are written once as plain SQL with `?` placeholders, valid on MySQL and
 * SQLite alike, and run on a connection taken straight from knex's pool, inside one
 * transaction. Everything else keeps using knex.
 */
import type { Db } from '../db.js';
import { beginTransactionSql, isSqlite } from '../dialect.js';

export type Row = Record<string, unknown>;

export interface RawResult {
  rows: Row[];
  /** Rows changed by an INSERT, UPDATE or DELETE. */
  affected: number;
  /** The id an INSERT gave its (first) row; 0 for other statements. */
  insertId: number;
}

export type RawQuery = (sql: string, bindings?: readonly unknown[]) => Promise<RawResult>;

/** `?, ?, ?` for a list of n values. */
export function marks(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

interface SqliteStatement {
  reader: boolean;
  all(...params: unknown[]): Row[];
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
}
interface MysqlConnection {
  query(sql: string, values: readonly unknown[], cb: (err: Error | null, result: unknown) => void): void;
  execute(sql: string, values: readonly unknown[], cb: (err: Error | null, result: unknown) => void): void;
  destroy(): void;
}

/** Prepared SQLite statements per connection, reused across batches. */
const prepared = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>();

function sqliteQuery(conn: SqliteConnection): RawQuery {
  let cache = prepared.get(conn);
  if (!cache) prepared.set(conn, (cache = new Map()));
  const stmts = cache;
  return async (sql, bindings = []) => {
    let stmt = stmts.get(sql);
    if (!stmt) {
      stmt = conn.prepare(sql);
      // Batch sizes vary, and each size is its own statement: keep the cache bounded.
      if (stmts.size > 500) stmts.clear();
      stmts.set(sql, stmt);
    }
    if (stmt.reader) return { rows: stmt.all(...bindings), affected: 0, insertId: 0 };
    const info = stmt.run(...bindings);
    return { rows: [], affected: info.changes, insertId: Number(info.lastInsertRowid) };
  };
}

/**
 * `prepared`: statements go by the binary protocol (mysql2 caches them per connection),
 * parameters travel as they are, with no escaping on either side and no parsing of a
 * literal by the server: for large text (job output) several times faster than a query.
 * Transaction control always goes as a plain query.
 */
function mysqlQuery(conn: MysqlConnection, prepared: boolean): RawQuery {
  return (sql, bindings = []) =>
    new Promise((resolve, reject) => {
      const run = prepared && bindings.length > 0 ? conn.execute.bind(conn) : conn.query.bind(conn);
      run(sql, bindings, (err, result) => {
        if (err) reject(err);
        else if (Array.isArray(result)) resolve({ rows: result as Row[], affected: 0, insertId: 0 });
        else {
          const r = result as { affectedRows?: number; insertId?: number };
          resolve({ rows: [], affected: Number(r.affectedRows ?? 0), insertId: Number(r.insertId ?? 0) });
        }
      });
    });
}

interface PoolClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(conn: unknown): Promise<unknown>;
}

/**
 * Runs `fn` in one transaction on a connection of the pool (SQLite statements are always
 * prepared and reused; on MySQL `prepared` chooses the binary protocol). SQLite takes the write lock
 * at BEGIN (IMMEDIATE), as `writeTransaction` does, so a read-then-write never fails with
 * "database is locked". Rolls back and rethrows when `fn` throws.
 */
export async function rawTransaction<T>(
  db: Db,
  fn: (q: RawQuery) => Promise<T>,
  opts: { prepared?: boolean } = {},
): Promise<T> {
  const client = db.client as unknown as PoolClient;
  const conn = await client.acquireConnection();
  const sqlite = isSqlite(db);
  const q = sqlite ? sqliteQuery(conn as SqliteConnection) : mysqlQuery(conn as MysqlConnection, opts.prepared ?? false);
  try {
    await q(beginTransactionSql(db));
    let out: T;
    try {
      out = await fn(q);
      await q('COMMIT');
    } catch (err) {
      // A MySQL connection that cannot roll back must not go back to the pool mid-transaction.
      await q('ROLLBACK').catch(() => (sqlite ? undefined : (conn as MysqlConnection).destroy()));
      throw err;
    }
    return out;
  } finally {
    await client.releaseConnection(conn);
  }
}
