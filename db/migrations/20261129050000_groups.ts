import type { Knex } from 'knex';

/**
 * Groups (envelopes) and chains, and progress as steps.
 *
 * - `job_groups` holds one row per group: its name, owner and whether it is a chain.
 *   Its status is never stored: it is read from its jobs' statuses (one indexed query),
 *   so that no transition can leave it out of date. Not named `groups`: GROUPS is a
 *   reserved word on MySQL 8.
 * - `jobs.group_id` and `jobs.group_seq` (0, 1, 2, ...) place a job in its group; the
 *   index answers "the jobs of group G in order" and "the step after step N".
 * - A chain's later steps are inserted at once as queued jobs held with `run_after` at
 *   a far-future sentinel (app/store/group-chain.ts): the claim and the dispatcher
 *   already skip a job whose time has not come, so a held step can never start early.
 * - `jobs.progress_steps` is the JSON list of a task's steps (label, status, extra text,
 *   times), written with the rest of the progress.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('job_groups', (t) => {
    t.bigIncrements('id').primary();
    t.string('name', 200).notNullable();
    t.boolean('chain').notNullable().defaultTo(false);
    t.integer('user_id').unsigned().nullable();
    t.string('username', 100).nullable();
    t.string('origin', 8).notNullable();
    t.integer('job_count').notNullable();
    t.bigInteger('created_at').notNullable();
    // The Envelopes list: one's own groups, newest first (keyset on id).
    t.index(['user_id', 'id'], 'job_groups_user_id');
  });
  await knex.schema.alterTable('jobs', (t) => {
    t.bigInteger('group_id').unsigned().nullable();
    t.integer('group_seq').nullable();
    t.text('progress_steps').nullable();
    t.index(['group_id', 'group_seq'], 'jobs_group');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropIndex(['group_id', 'group_seq'], 'jobs_group');
    t.dropColumn('group_id');
    t.dropColumn('group_seq');
    t.dropColumn('progress_steps');
  });
  await knex.schema.dropTableIfExists('job_groups');
}
