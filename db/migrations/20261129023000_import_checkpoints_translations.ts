import type { Knex } from 'knex';

/**
 * What AtoM's files need beyond the descriptions table:
 * - `import_checkpoints`: per csv-import job, the last row whose batch committed and the
 *   import's totals at that point. It is written in the batch's own transaction, so the
 *   position and the rows it counts commit together: a new attempt (a lost worker, or a
 *   retry by hand) resumes right after it, and no row is imported twice. Removed when the
 *   import completes; a failed import keeps it for its retry.
 * - `description_translations`: a description's fields in another culture (AtoM's
 *   exports write a translation as a row repeating the legacyId in another `culture`).
 *   `fields` is JSON (column name → value), as `descriptions.extra`: a translation holds
 *   whatever columns its row had, no more.
 * RAD's own fields need no column: they live in `descriptions.extra` beside the other
 * ISAD fields Docket does not search (see app/archive/rad.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('import_checkpoints', (t) => {
    t.bigInteger('job_id').unsigned().primary();
    t.integer('last_row').notNullable();
    t.text('state').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
  await knex.schema.createTable('description_translations', (t) => {
    t.integer('description_id').unsigned().notNullable().references('descriptions.id').onDelete('CASCADE');
    t.string('culture', 16).notNullable();
    t.text('fields', 'mediumtext').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.primary(['description_id', 'culture']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('description_translations');
  await knex.schema.dropTableIfExists('import_checkpoints');
}
