import type { Knex } from 'knex';

/**
 * A user's profile-wide subscriptions: every job they own is told to these webhooks (or
 * mail addresses) as if it carried them. `events` is the chosen events between commas
 * (`,completed,failed,`, or `,*,`), so that the outbox's statement finds a subscription
 * with one portable LIKE. The (user_id) index keeps that statement a lookup per job.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('user_webhooks', (t) => {
    t.bigIncrements('id').primary();
    t.integer('user_id').unsigned().notNullable();
    t.string('kind', 8).notNullable();
    t.string('target', 2048).notNullable();
    t.string('events', 100).notNullable();
    t.bigInteger('created_at').notNullable();
    t.index(['user_id'], 'user_webhooks_user');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('user_webhooks');
}
