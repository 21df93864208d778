import type { Knex } from 'knex';

/**
 * Retention's question, "finished jobs of this status that ended before T, oldest first",
 * as a range of one index. Without it the sweep would walk `jobs_status_id` and test
 * `finished_at` row by row: once the old jobs are gone, every round would read every
 * recent finished job to find none. The cost is one more index entry to move when a job
 * changes status (a claim, a finish), measured in the benchmark's scenarios 1 and 10.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.index(['status', 'finished_at'], 'jobs_status_finished');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropIndex(['status', 'finished_at'], 'jobs_status_finished');
  });
}
