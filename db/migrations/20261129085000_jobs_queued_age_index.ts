import type { Knex } from 'knex';

/**
 * GET /metrics' oldest queued job per task, as a lookup. Without it the question
 * ("queued, may start now, smallest queued_at per task") was answered through
 * `jobs_claim` by reading every queued job's row for its `run_after` and `queued_at`:
 * 112 ms of a 157 ms scrape with 20,000 queued jobs on MariaDB (bench/metrics-scrape.ts
 * --wide). With (status, run_after, task, queued_at), the jobs that may start now
 * (`run_after` null) give each task's minimum by a loose index scan, one seek per task,
 * and the few waiting out a backoff are a short range. The cost is one more index entry
 * to move when a job changes status.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.index(['status', 'run_after', 'task', 'queued_at'], 'jobs_queued_age');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropIndex(['status', 'run_after', 'task', 'queued_at'], 'jobs_queued_age');
  });
}
