import type { Knex } from 'knex';

/**
 * The audit trail: who did what to which job, token or account, from where and when.
 * Its own table, not job events: it outlives the jobs (DOCKET_AUDIT_DAYS against
 * DOCKET_RETENTION_DAYS) and holds actions that touch no job (logins, tokens, pause).
 *
 * - `id` orders the trail (keyset pages, newest first); `at` is epoch ms.
 * - `actor` is a username, `Command line`, or a name the sweep acts under; a failed
 *   login's actor is the name that was tried, so no foreign key to `users`.
 * - `(at)` serves the prune and `since`; `(actor, id)` and `(action, id)` the filters.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('at').notNullable();
    t.string('actor', 100).notNullable();
    t.string('address', 64).nullable();
    t.string('action', 32).notNullable();
    t.string('target', 200).nullable();
    t.string('detail', 500).nullable();
    t.index(['at'], 'audit_at');
    t.index(['actor', 'id'], 'audit_actor');
    t.index(['action', 'id'], 'audit_action');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('audit');
}
