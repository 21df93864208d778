import type { Knex } from 'knex';

/**
 * Why a failed job failed, when that decides whether a retry can help: `input` when the
 * job's own input was refused (a CSV file's content, parameters that cannot work, a
 * description that does not exist). The same input can only fail again, so such a job
 * is not retried; it is corrected and run anew. Null for every other failure (a lost
 * worker, a time limit, a crash), which a retry may well get past.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.string('failure_kind', 16).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('failure_kind');
  });
}
