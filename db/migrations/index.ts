import type { Knex } from 'knex';
import * as m20261122000000 from './20261122000000_jobs.js';

/**
 * The migrations, in order. Append-only: a released migration is never edited.
 * They are listed here rather than read from the folder so that the same list works
 * from TypeScript source and from the build.
 */
const migrations: Array<[string, Knex.Migration]> = [['20261122000000_jobs', m20261122000000]];

export const migrationSource: Knex.MigrationSource<[string, Knex.Migration]> = {
  getMigrations: async () => migrations,
  getMigrationName: (m) => m[0],
  getMigration: async (m) => m[1],
};
