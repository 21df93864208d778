import type { Knex } from 'knex';

/**
 * The file store: uploads and results of jobs, reachable from every host.
 *
 * - `files` holds one row per file whatever keeps its bytes (`backend`): `database`
 *   (the rows of `file_chunks`) or `folder` (a file under the results folder of the
 *   host that wrote it). A file is visible only once `complete` is set, at the end of
 *   its upload; `updated_at` moves while it is written, so that the maintenance sweep
 *   can tell a crashed upload (incomplete, untouched for an hour) from a slow one.
 * - `job_id` is null for an upload whose job is not created yet (a form posts the file
 *   before the job exists); the sweep removes such a file if no job claims it.
 * - A chunk is 256 KiB at most: far below MariaDB's max_allowed_packet (16 MiB by
 *   default on 10.11, 4 MiB on MySQL 5.7, sent as hex it doubles) and below a tenth of
 *   InnoDB's redo log, which MySQL 8 requires of a blob written in one transaction.
 *   MEDIUMBLOB, since a plain BLOB stops at 64 KiB.
 * - No foreign keys: a large file's chunks are deleted in batches, never in one
 *   cascading statement that would hold locks for the whole file.
 */
export async function up(knex: Knex): Promise<void> {
  const sqlite = ['better-sqlite3', 'sqlite3'].includes(knex.client.config.client as string);
  await knex.schema.createTable('files', (t) => {
    t.string('id', 40).primary();
    t.bigInteger('job_id').unsigned().nullable();
    t.string('kind', 16).notNullable();
    t.string('name', 255).notNullable();
    t.string('content_type', 255).notNullable();
    t.string('backend', 16).notNullable();
    t.bigInteger('size').notNullable().defaultTo(0);
    t.boolean('complete').notNullable().defaultTo(false);
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.index(['job_id'], 'files_job');
    // The sweep's question: incomplete (or unclaimed) files untouched for an hour.
    t.index(['complete', 'updated_at'], 'files_sweep');
  });
  await knex.schema.createTable('file_chunks', (t) => {
    t.string('file_id', 40).notNullable();
    t.integer('seq').notNullable();
    t.specificType('data', sqlite ? 'blob' : 'mediumblob').notNullable();
    t.primary(['file_id', 'seq']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('file_chunks');
  await knex.schema.dropTableIfExists('files');
}
