import type { Knex } from 'knex';

/**
 * Web sessions, kept in the jobs database so that they survive a restart of the web
 * process and work across several web processes. The layout is the one
 * connect-session-knex reads and writes (sid, sess as JSON text, expired as a date);
 * the store is told not to create the table itself.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('sessions', (t) => {
    t.string('sid', 128).primary();
    t.text('sess', 'mediumtext').notNullable();
    // DATETIME on MySQL ('YYYY-MM-DD HH:MM:SS', UTC); on SQLite the store writes ISO text.
    t.dateTime('expired').notNullable();
    t.index(['expired'], 'sessions_expired');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTableIfExists('sessions');
}
