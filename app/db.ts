import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type { DatabaseConfig } from './config.js';
import { migrationSource } from '../db/migrations/index.js';
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
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

/** A cheap round trip, for health checks and start-up. */
export async function ping(db: Db): Promise<void> {
  await db.raw('select 1 as ok');
}
