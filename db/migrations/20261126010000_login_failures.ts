import type { Knex } from 'knex';

/**
 * Failed logins, counted per client in the database so that every web process shares
 * the limits: `address:<ip>` for the per-address limit, `user:<ip> <username>` for the
 * growing wait. A row lives until `reset_at`, its window's end.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('login_failures', (t) => {
    t.string('client', 200).primary();
    t.integer('hits').notNullable();
    t.bigInteger('reset_at').notNullable();
    t.index(['reset_at'], 'login_failures_reset');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('login_failures');
}
