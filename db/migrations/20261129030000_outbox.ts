import type { Knex } from 'knex';

/**
 * Notifications (mail and webhooks) and the outbox that carries them.
 *
 * - `users.email`, `users.notify_default`: where a user's mails go, and whether their new
 *   jobs mail them at the end unless the request says otherwise (off by default).
 * - `job_subscriptions`: what a job asked to be told about, one row per event it
 *   listens to (`*` is stored as is): `kind` `mail` (target an address, or null for the
 *   owner's address when sent) or `webhook` (target the URL template). Written with the
 *   job, so a status change can queue its notifications with one INSERT ... SELECT in its
 *   own transaction; the (job_id, event) index keeps that statement a lookup, also on the
 *   jobs of nobody who asked.
 * - `outbox`: one row per notification to send (DESIGN principle 10), inserted in the
 *   transaction of the status change. `state` is `pending` until sent (`sent`) or given
 *   up (`failed`); `due_at` is the next try; `lease_owner`/`lease_until` keep two
 *   processes' sweeps from sending one row at once (a process that dies mid-send lets its
 *   lease run out, and the row is taken again: delivery is at least once, and the row id
 *   is the delivery id receivers deduplicate on).
 * No foreign keys, as elsewhere: removing jobs in batches removes their rows too.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.string('email', 254).nullable();
    t.boolean('notify_default').notNullable().defaultTo(false);
  });
  await knex.schema.createTable('job_subscriptions', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('job_id').unsigned().notNullable();
    t.string('event', 16).notNullable();
    t.string('kind', 8).notNullable();
    t.string('target', 2048).nullable();
    t.index(['job_id', 'event'], 'job_subscriptions_job');
  });
  await knex.schema.createTable('outbox', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('job_id').unsigned().notNullable();
    t.string('event', 16).notNullable();
    t.string('kind', 8).notNullable();
    t.string('target', 2048).nullable();
    t.string('state', 8).notNullable().defaultTo('pending');
    t.bigInteger('created_at').notNullable();
    t.bigInteger('due_at').notNullable();
    t.integer('tries').notNullable().defaultTo(0);
    t.string('lease_owner', 100).nullable();
    t.bigInteger('lease_until').nullable();
    t.integer('last_status').nullable();
    t.string('last_error', 1024).nullable();
    t.index(['state', 'due_at'], 'outbox_due');
    t.index(['job_id'], 'outbox_job');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('outbox');
  await knex.schema.dropTable('job_subscriptions');
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('notify_default');
    t.dropColumn('email');
  });
}
