import type { Knex } from 'knex';
import * as m20261122000000 from './20261122000000_jobs.js';
import * as m20261122010000 from './20261122010000_sessions.js';
import * as m20261122010100 from './20261122010100_jobs_task_index.js';
import * as m20261122020000 from './20261122020000_descriptions.js';
import * as m20261126000000 from './20261126000000_jobs_fewer_status_indexes.js';
import * as m20261126010000 from './20261126010000_login_failures.js';
import * as m20261129000000 from './20261129000000_files.js';
import * as m20261129010000 from './20261129010000_token_expiry_user_disabled.js';
import * as m20261129023000 from './20261129023000_import_checkpoints_translations.js';
import * as m20261129030000 from './20261129030000_outbox.js';
import * as m20261129040000 from './20261129040000_audit.js';
import * as m20261129040100 from './20261129040100_jobs_finished_index.js';
import * as m20261129050000 from './20261129050000_groups.js';
import * as m20261129060000 from './20261129060000_jobs_failure_kind.js';
import * as m20261129070000 from './20261129070000_keymap_rejects_tree_lock.js';
import * as m20261129080000 from './20261129080000_user_webhooks.js';
import * as m20261129085000 from './20261129085000_jobs_queued_age_index.js';
import * as m20261129150000 from './20261129150000_description_lists.js';
import * as m20261207000000 from './20261207000000_jobs_partial_status_indexes.js';
import * as m20261208000000 from './20261208000000_jobs_undispatched_index.js';

/**
 * The migrations, in order. Append-only: a released migration is never edited.
 * They are listed here rather than read from the folder so that the same list works
 * from TypeScript source and from the build.
 */
const migrations: Array<[string, Knex.Migration]> = [
  ['20261122000000_jobs', m20261122000000],
  ['20261122010000_sessions', m20261122010000],
  ['20261122010100_jobs_task_index', m20261122010100],
  ['20261122020000_descriptions', m20261122020000],
  ['20261126000000_jobs_fewer_status_indexes', m20261126000000],
  ['20261126010000_login_failures', m20261126010000],
  ['20261129000000_files', m20261129000000],
  ['20261129010000_token_expiry_user_disabled', m20261129010000],
  ['20261129023000_import_checkpoints_translations', m20261129023000],
  ['20261129030000_outbox', m20261129030000],
  ['20261129040000_audit', m20261129040000],
  ['20261129040100_jobs_finished_index', m20261129040100],
  ['20261129050000_groups', m20261129050000],
  ['20261129060000_jobs_failure_kind', m20261129060000],
  ['20261129070000_keymap_rejects_tree_lock', m20261129070000],
  ['20261129080000_user_webhooks', m20261129080000],
  ['20261129085000_jobs_queued_age_index', m20261129085000],
  ['20261129150000_description_lists', m20261129150000],
  ['20261207000000_jobs_partial_status_indexes', m20261207000000],
  ['20261208000000_jobs_undispatched_index', m20261208000000],
];

/** Every migration's name, to tell at one query whether any is pending. */
export const MIGRATION_NAMES: readonly string[] = migrations.map((m) => m[0]);

export const migrationSource: Knex.MigrationSource<[string, Knex.Migration]> = {
  getMigrations: async () => migrations,
  getMigrationName: (m) => m[0],
  getMigration: async (m) => m[1],
};
