import type { Knex } from 'knex';

/**
 * Retention's and /metrics' indexes narrowed to the rows they read, so that a job's claim
 * and its completion stop moving an entry in both (benchmark scenario 1).
 *
 * - `jobs_status_finished (status, finished_at)` moved on every status change, the claim
 *   included, though retention reads only finished jobs. It becomes `jobs_finished
 *   (finished_status, finished_at)`, where `finished_status` is a virtual column: the
 *   status of a job that has a `finished_at`, null otherwise. A claim (queued → running,
 *   no `finished_at` either side) leaves it alone; a finish moves it once.
 * - `jobs_queued_age (status, run_after, task, queued_at)` moved on every status change,
 *   the completion included, though /metrics reads only queued jobs. It becomes
 *   `jobs_waiting (waiting_task, run_after, queued_at)`, `waiting_task` the task of a
 *   queued job and null otherwise: a claim moves it once, a finish (running → final)
 *   leaves it alone.
 *
 * A virtual column is computed, never stored in the row; MariaDB and SQLite both index
 * it, and leave an index alone when an UPDATE does not change its value. The readers
 * (job-delete.ts `expiredJobIds`, metrics.ts `oldestQueued`) ask for the same rows as
 * before, by the new columns.
 */
const FINISHED = 'case when finished_at is not null then status end';
const WAITING = "case when status = 'queued' then task end";
const sqlite = (knex: Knex) => ['better-sqlite3', 'sqlite3'].includes(knex.client.config.client as string);

export async function up(knex: Knex): Promise<void> {
  if (sqlite(knex)) {
    await knex.raw(`alter table jobs add column finished_status varchar(16) generated always as (${FINISHED}) virtual`);
    await knex.raw(`alter table jobs add column waiting_task varchar(64) generated always as (${WAITING}) virtual`);
    await knex.raw('drop index if exists jobs_status_finished');
    await knex.raw('drop index if exists jobs_queued_age');
    await knex.raw('create index jobs_finished on jobs (finished_status, finished_at)');
    await knex.raw('create index jobs_waiting on jobs (waiting_task, run_after, queued_at)');
    return;
  }
  await knex.raw(
    `alter table jobs
       add column finished_status varchar(16) as (${FINISHED}) virtual,
       add column waiting_task varchar(64) as (${WAITING}) virtual,
       drop index jobs_status_finished,
       drop index jobs_queued_age,
       add index jobs_finished (finished_status, finished_at),
       add index jobs_waiting (waiting_task, run_after, queued_at)`,
  );
}

export async function down(knex: Knex): Promise<void> {
  if (sqlite(knex)) {
    await knex.raw('drop index if exists jobs_finished');
    await knex.raw('drop index if exists jobs_waiting');
    await knex.raw('alter table jobs drop column finished_status');
    await knex.raw('alter table jobs drop column waiting_task');
    await knex.raw('create index jobs_status_finished on jobs (status, finished_at)');
    await knex.raw('create index jobs_queued_age on jobs (status, run_after, task, queued_at)');
    return;
  }
  await knex.raw(
    `alter table jobs
       drop index jobs_finished,
       drop index jobs_waiting,
       drop column finished_status,
       drop column waiting_task,
       add index jobs_status_finished (status, finished_at),
       add index jobs_queued_age (status, run_after, task, queued_at)`,
  );
}
