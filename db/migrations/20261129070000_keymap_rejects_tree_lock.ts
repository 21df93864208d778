import type { Knex } from 'knex';

/**
 * What AtoM's imports need beyond one legacyId per description:
 * - `description_keymap`: AtoM's keymap (its `keymap` table: source_id, target_id,
 *   source_name), one entry per source a description was imported or matched from, so a
 *   description imported from two files matches from both. `descriptions.legacy_id` and
 *   `source_name` stay as the first entry (pages and exports read them); the entries there
 *   are copied in.
 * - `import_rejects`: every row a csv-import did not import, in full, with the reason,
 *   written in its batch's transaction (so a resumed import neither loses nor repeats
 *   one); the job's result is made from them, whatever the output cap. Removed with the
 *   job, as its checkpoint.
 * - `tree_locks`: one row, locked (`SELECT ... FOR UPDATE`) by every transaction that may
 *   move a description, so that two moves never both pass the "not under its own
 *   descendant" check and make a cycle (app/archive/tree-lock.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('description_keymap', (t) => {
    t.string('source_name', 191).notNullable();
    t.string('legacy_id', 191).notNullable();
    t.integer('description_id').unsigned().notNullable().references('descriptions.id').onDelete('CASCADE');
    t.bigInteger('created_at').notNullable();
    t.primary(['source_name', 'legacy_id', 'description_id']);
    t.index(['description_id'], 'description_keymap_description');
  });
  await knex.raw(
    'insert into description_keymap (source_name, legacy_id, description_id, created_at) ' +
      'select source_name, legacy_id, id, created_at from descriptions where legacy_id is not null and source_name is not null',
  );
  await knex.schema.createTable('import_rejects', (t) => {
    t.bigInteger('job_id').unsigned().notNullable();
    t.integer('row_number').notNullable();
    t.text('reason').notNullable();
    t.text('cells', 'mediumtext').notNullable();
    t.primary(['job_id', 'row_number']);
  });
  await knex.schema.createTable('tree_locks', (t) => {
    t.string('name', 32).primary();
  });
  await knex('tree_locks').insert({ name: 'descriptions' });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('tree_locks');
  await knex.schema.dropTableIfExists('import_rejects');
  await knex.schema.dropTableIfExists('description_keymap');
}
