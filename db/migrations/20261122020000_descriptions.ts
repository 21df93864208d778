import type { Knex } from 'knex';

/**
 * Archival descriptions (ISAD(G), as AtoM keeps them) and their finding-aid status.
 *
 * - The hierarchy is `parent_id` plus `position` among siblings; a tree walk orders
 *   children by (position, id). Nested sets would make the walk one query but every
 *   insert a shift of the whole table, which a 100,000-row import cannot afford.
 * - The fields AtoM's CSV carries that Docket shows or searches have their own columns;
 *   the other ISAD fields travel in `extra` (JSON text: column name → raw CSV value,
 *   `|`-separated lists kept as they are), so that an export gives them back unchanged.
 * - `legacy_id` + `source_name` is AtoM's keymap: which row of which import file made
 *   the description, used to resolve `parentId` and to match on `--update`.
 * - Times are BIGINT milliseconds, as in the jobs tables.
 * - String keys stay at 191 characters so that utf8mb4 indexes fit every MySQL setup.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('descriptions', (t) => {
    t.increments('id').primary();
    t.integer('parent_id').unsigned().nullable().references('descriptions.id');
    t.integer('position').notNullable().defaultTo(0);
    t.string('legacy_id', 191).nullable();
    t.string('source_name', 191).nullable();
    t.string('identifier', 191).nullable();
    t.string('title', 1024).nullable();
    t.string('level_of_description', 100).nullable();
    t.text('extent_and_medium').nullable();
    t.text('scope_and_content', 'mediumtext').nullable();
    t.string('repository', 500).nullable();
    t.string('event_dates', 1000).nullable();
    t.string('event_start_dates', 500).nullable();
    t.string('event_end_dates', 500).nullable();
    t.string('publication_status', 16).notNullable().defaultTo('draft');
    t.string('slug', 191).notNullable().unique('descriptions_slug');
    t.string('culture', 16).notNullable().defaultTo('en');
    t.text('extra', 'mediumtext').nullable();
    t.string('finding_aid_status', 16).nullable();
    t.bigInteger('finding_aid_job_id').unsigned().nullable();
    t.string('finding_aid_file', 100).nullable();
    t.string('finding_aid_name', 255).nullable();
    t.string('finding_aid_error', 1000).nullable();
    t.bigInteger('finding_aid_at').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    // Children of a description in order; top-level descriptions (parent_id null) too.
    t.index(['parent_id', 'position', 'id'], 'descriptions_parent');
    // The keymap: resolving parentId and matching rows on import.
    t.index(['source_name', 'legacy_id'], 'descriptions_legacy');
    // Matching on identifier + title + repository (AtoM's second way to match a row).
    t.index(['identifier'], 'descriptions_identifier');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('descriptions');
}
