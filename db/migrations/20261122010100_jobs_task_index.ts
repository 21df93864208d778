import type { Knex } from 'knex';

/**
 * The jobs page's filter by job name: the newest jobs of one task, read in id order
 * from an index instead of scanning the table for a rare task.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.index(['task', 'id'], 'jobs_task_id');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropIndex(['task', 'id'], 'jobs_task_id');
  });
}
