import type { Knex } from 'knex';

/**
 * The job engine's tables. Times are BIGINT milliseconds since the epoch on both
 * engines: no time-zone or precision differences between MySQL and SQLite.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.increments('id').primary();
    t.string('username', 100).notNullable().unique();
    t.string('password_hash', 100).notNullable();
    t.string('role', 20).notNullable();
    t.bigInteger('created_at').notNullable();
  });

  await knex.schema.createTable('api_tokens', (t) => {
    t.increments('id').primary();
    t.integer('user_id').unsigned().notNullable().references('users.id').onDelete('CASCADE');
    t.string('name', 100).notNullable();
    t.string('token_hash', 64).notNullable().unique();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('last_used_at').nullable();
  });

  await knex.schema.createTable('jobs', (t) => {
    t.bigIncrements('id').primary();
    t.string('task', 64).notNullable();
    t.text('params', 'mediumtext').notNullable();
    t.string('status', 16).notNullable();
    t.tinyint('priority').notNullable().defaultTo(2);
    t.integer('user_id').unsigned().nullable();
    t.string('username', 100).nullable();
    t.string('origin', 8).notNullable();
    t.string('unique_key', 191).nullable();
    t.integer('attempt').notNullable().defaultTo(0);
    t.integer('max_attempts').notNullable().defaultTo(3);
    t.string('worker_id', 100).nullable();
    t.bigInteger('lease_expires_at').nullable();
    t.bigInteger('queued_at').notNullable();
    t.bigInteger('dispatched_at').nullable();
    t.bigInteger('run_after').nullable();
    t.bigInteger('started_at').nullable();
    t.bigInteger('finished_at').nullable();
    t.integer('progress_current').nullable();
    t.integer('progress_total').nullable();
    t.string('progress_text', 255).nullable();
    t.string('result_summary', 500).nullable();
    t.string('result_file', 100).nullable();
    t.string('result_name', 255).nullable();
    t.string('object_ref', 100).nullable();
    t.text('error').nullable();
    t.string('cancel_requested_by', 100).nullable();
    t.bigInteger('output_bytes').notNullable().defaultTo(0);
    t.boolean('output_truncated').notNullable().defaultTo(false);
    // The jobs page: an archivist's tabs, an administrator's tabs (keyset on id).
    t.index(['user_id', 'status', 'id'], 'jobs_user_status_id');
    t.index(['user_id', 'id'], 'jobs_user_id');
    t.index(['status', 'id'], 'jobs_status_id');
    // The db transport's claim and the dispatcher: queued jobs of a task, best first.
    t.index(['status', 'task', 'priority', 'id'], 'jobs_claim');
    // The reaper: running jobs whose lease ran out.
    t.index(['status', 'lease_expires_at'], 'jobs_lease');
    t.index(['worker_id', 'status'], 'jobs_worker');
    t.index(['unique_key', 'status'], 'jobs_unique');
  });

  await knex.schema.createTable('job_events', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('job_id').unsigned().notNullable();
    t.bigInteger('at').notNullable();
    t.string('type', 20).notNullable();
    t.integer('attempt').notNullable().defaultTo(0);
    t.string('actor', 100).notNullable();
    t.text('message').nullable();
    t.index(['job_id', 'id'], 'job_events_job');
  });

  await knex.schema.createTable('job_output', (t) => {
    t.bigIncrements('id').primary();
    t.bigInteger('job_id').unsigned().notNullable();
    t.integer('attempt').notNullable();
    t.string('stream', 8).notNullable();
    t.text('chunk', 'mediumtext').notNullable();
    t.bigInteger('at').notNullable();
    t.index(['job_id', 'id'], 'job_output_job');
  });

  await knex.schema.createTable('workers', (t) => {
    t.string('id', 100).primary();
    t.string('host', 255).notNullable();
    t.integer('pid').notNullable();
    t.text('abilities').notNullable();
    t.integer('concurrency').notNullable();
    t.bigInteger('started_at').notNullable();
    t.bigInteger('last_heartbeat_at').notNullable();
    t.bigInteger('stopped_at').nullable();
    t.integer('running').notNullable().defaultTo(0);
    t.index(['last_heartbeat_at'], 'workers_heartbeat');
  });

  await knex.schema.createTable('settings', (t) => {
    t.string('name', 100).primary();
    t.text('value').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const name of ['settings', 'workers', 'job_output', 'job_events', 'jobs', 'api_tokens', 'users']) {
    await knex.schema.dropTableIfExists(name);
  }
}
