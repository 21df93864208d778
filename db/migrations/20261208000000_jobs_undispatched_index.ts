import type { Knex } from 'knex';

/**
 * The dispatcher's round (every process's sweep, once a second) looks for queued jobs
 * that no broker confirmed (`status = 'queued' and dispatched_at is null`, by id), and
 * the chains' round for held steps (`status = 'queued' and run_after = HELD`). No index
 * held those rows: each round read every queued job to find the few it wanted, 9,150
 * rows a round on average while a bulk enqueue of 20,000 jobs drained (benchmark
 * scenario 1), and a whole backlog per round and per process with a million jobs
 * waiting.
 *
 * `undispatched` is a virtual column, 1 for a queued job not handed to the broker (no
 * `dispatched_at`, or a held chain step: its message, if one is still on its way, is
 * refused at the claim, and its release publishes it again) and null otherwise, indexed
 * with the id: both rounds read only the rows they act on. A job moves in this index
 * once (when the broker's confirmation is recorded, or when it is claimed, whichever
 * comes first), as its value goes from 1 to null; a retry puts it back.
 */
const HELD = String(Number.MAX_SAFE_INTEGER);
const UNDISPATCHED = `case when status = 'queued' and (dispatched_at is null or run_after = ${HELD}) then 1 end`;
const sqlite = (knex: Knex) => ['better-sqlite3', 'sqlite3'].includes(knex.client.config.client as string);

export async function up(knex: Knex): Promise<void> {
  if (sqlite(knex)) {
    await knex.raw(`alter table jobs add column undispatched integer generated always as (${UNDISPATCHED}) virtual`);
    await knex.raw('create index jobs_undispatched on jobs (undispatched, id)');
    return;
  }
  await knex.raw(`alter table jobs add column undispatched tinyint as (${UNDISPATCHED}) virtual, add index jobs_undispatched (undispatched, id)`);
}

export async function down(knex: Knex): Promise<void> {
  if (sqlite(knex)) {
    await knex.raw('drop index if exists jobs_undispatched');
    await knex.raw('alter table jobs drop column undispatched');
    return;
  }
  await knex.raw('alter table jobs drop index jobs_undispatched, drop column undispatched');
}
