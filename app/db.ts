import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { DatabaseConfig } from './config.js';
import { MIGRATION_NAMES, migrationSource } from '../db/migrations/index.js';
import { knexOptions, takeWriteLock } from './dialect.js';

export type Db = Knex;

/**
 * Opens the jobs database with its engine's options (WAL and a single connection on
 * SQLite, a small pool on MySQL: see `knexOptions` in dialect.ts, which holds every
 * SQLite/MySQL difference and why).
 */
export function openDb(cfg: DatabaseConfig, opts: { pool?: number } = {}): Db {
  if (cfg.client === 'sqlite' && cfg.filename !== ':memory:') mkdirSync(dirname(cfg.filename), { recursive: true });
  return knexFactory(knexOptions(cfg, opts));
}

/**
 * A transaction that holds the write lock from its first statement, so that one that
 * reads and then writes never fails with "database is locked" on SQLite (see
 * `takeWriteLock` in dialect.ts).
 */
export async function writeTransaction<T>(db: Db, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return db.transaction(async (trx) => {
    await takeWriteLock(db, trx);
    return fn(trx);
  });
}

export async function migrate(db: Db): Promise<string[]> {
  if (await upToDate(db)) return [];
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

/**
 * True when every migration is recorded as run: one SELECT, where knex's `latest` takes
 * its lock table in a committed transaction and reads several tables each time. Every
 * command opens the database through `migrate`, so a short one (`docket run`) feels the
 * difference; anything pending or unknown, or no table yet, goes the whole way.
 */
async function upToDate(db: Db): Promise<boolean> {
  try {
    const rows = (await db('knex_migrations').select('name')) as Array<{ name: string }>;
    const done = new Set(rows.map((r) => r.name));
    // A name this build does not know (a newer release ran) goes through knex, which refuses it.
    return done.size === MIGRATION_NAMES.length && MIGRATION_NAMES.every((n) => done.has(n));
  } catch {
    return false;
  }
}

/** A cheap round trip, for health checks and start-up. */
export async function ping(db: Db): Promise<void> {
  await db.raw('select 1 as ok');
}
