/**
 * Scenario 12: kill the worker running a large CSV import, 5 times, at random points of
 * the file (the check pass included): every row is imported exactly once, under the
 * right parent. The import commits in batches with its position (its checkpoint) in the
 * same transaction, so each new attempt resumes after the last committed row. A lost
 * worker's job is retried automatically while it has attempts left; once they are spent
 * the operator retries it by hand (`docket jobs:retry`), which resumes the same way.
 *
 * Default counts: 20,000 rows; `--full`: 100,000 rows, and MariaDB with RabbitMQ too.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../../../app/context.js';
import { count, persist, pidOfWorker, rowOf, sleep, type Check } from '../harness.js';
import { MYSQL_AMQP, MYSQL_DB, SQLITE_DB, staged, SWEEP_ALLOWANCE_MS, type Scenario } from '../scenario.js';

const KILLS = 5;
/** A series every this many rows; the items between are its children. */
const SERIES_EVERY = 1000;

/** The file: a fonds, series under it, items under the series before them. */
function writeFile(path: string, rows: number): void {
  const lines = ['legacyId,parentId,identifier,title,levelOfDescription,scopeAndContent'];
  lines.push('1,,F,Fonds,Fonds,The whole');
  let series = 1;
  for (let i = 2; i <= rows; i++) {
    if ((i - 2) % SERIES_EVERY === 0) {
      series = i;
      lines.push(`${i},1,S${i},Series ${i},Series,Rows after ${i}`);
    } else {
      lines.push(`${i},${series},I${i},Item ${i},Item,Item number ${i}`);
    }
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

async function lastCommitted(ctx: Context, jobId: number): Promise<number> {
  const r = (await ctx.db('import_checkpoints').where({ job_id: jobId }).first('last_row')) as { last_row: number } | undefined;
  return r ? Number(r.last_row) : 0;
}

/** Checks of the descriptions the import left: each row once, under its parent. */
async function checkRows(ctx: Context, rows: number): Promise<Check[]> {
  const db = ctx.db;
  const total = Number(((await db('descriptions').count({ n: '*' }).first()) as { n: number | string }).n);
  const dupes = (await db('descriptions').select('legacy_id').count({ n: '*' }).groupBy('legacy_id').havingRaw('count(*) > 1')) as unknown[];
  const ids = new Map<string, { id: number; parent: number | null }>();
  for (let after = 0; ; ) {
    const page = (await db('descriptions').where('id', '>', after).orderBy('id').limit(10_000).select('id', 'legacy_id', 'parent_id')) as Array<{
      id: number;
      legacy_id: string;
      parent_id: number | null;
    }>;
    for (const r of page) ids.set(String(r.legacy_id), { id: Number(r.id), parent: r.parent_id === null ? null : Number(r.parent_id) });
    if (page.length < 10_000) break;
    after = Number(page[page.length - 1].id);
  }
  let missing = 0;
  let misplaced = 0;
  let series = 1;
  for (let i = 1; i <= rows; i++) {
    const d = ids.get(String(i));
    if (!d) {
      missing++;
      continue;
    }
    if (i >= 2 && (i - 2) % SERIES_EVERY === 0) series = i;
    const want = i === 1 ? null : (i - 2) % SERIES_EVERY === 0 ? ids.get('1')?.id : ids.get(String(series))?.id;
    if (d.parent !== (want ?? -1) && !(i === 1 && d.parent === null)) misplaced++;
  }
  return [
    { what: `every row imported exactly once: ${total.toLocaleString('en-US')} of ${rows.toLocaleString('en-US')}`, ok: total === rows && dupes.length === 0 && missing === 0, detail: `${dupes.length} legacyIds twice, ${missing} missing` },
    { what: 'every row under its parent', ok: misplaced === 0, detail: `${misplaced} misplaced` },
  ];
}

export const s12: Scenario = {
  n: 12,
  title: `kill the worker ${KILLS} times during a large CSV import`,
  backends: (full) => (full ? [SQLITE_DB, MYSQL_DB, MYSQL_AMQP] : [SQLITE_DB, MYSQL_DB]),
  async run(backend, o) {
    const rows = o.full ? 100_000 : 20_000;
    // Two workers: the one running the import is killed (and replaced); the other one's
    // sweep finds the lost lease within a second and takes the job, so a replacement's
    // slow start on a busy machine never keeps it waiting.
    // A lease of 10 s (the suite's default is 3 s): on SQLite a 500-row batch holds the
    // one write lock, and on a shared, busy machine a live worker's renewal could wait past
    // 3 s behind it and be taken for lost. That case is safe too (a batch commits only in
    // the job's running attempt), but the scenario is about workers killed.
    const extraEnv = { DOCKET_LEASE_MS: '10000', DOCKET_HEARTBEAT_MS: '1000' };
    return staged(backend, o, { workers: { count: 2, concurrency: 1 }, extraEnv }, async ({ env, ctx, fleet, started }) => {
      const file = join(env.config.resultsDir, '..', `import-${rows}.csv`);
      writeFile(file, rows);
      const { job } = await ctx.service.enqueue({ task: 'csv-import', params: { file }, origin: 'cli', user: null });
      // Random points of the file, in order, one in the first half of each fifth of 90 % of
      // it: at least a tenth of a fifth apart, so that a kill that lands a poll late (a few
      // hundred rows past its point) never also passes the next point, and the last leaves
      // a tenth of the file to run. The first is in the first 2 %, often in the check pass.
      const span = Math.floor((rows * 0.9) / KILLS);
      const points = Array.from({ length: KILLS }, (_, k) => k * span + Math.floor(Math.random() * (span / 2)));
      points[0] = Math.min(points[0], Math.floor(rows * 0.02));
      const killedAt: number[] = [];
      let byHand = 0;
      let runner: number | null = null;
      const deadline = Date.now() + (o.full ? 1_800_000 : 600_000);
      let status: string;
      for (const point of points) {
        // Wait until the job runs on a live worker and has committed past the point.
        for (;;) {
          if (Date.now() > deadline) throw new Error(`the import did not get past row ${point} in time`);
          const j = await persist(() => ctx.service.get(job.id));
          status = j.status;
          if (status === 'failed' && /lost|killed|exited/i.test(j.error ?? '')) {
            // Its attempts are spent: the operator retries it; it resumes all the same.
            await ctx.service.retry(job.id, 'fault suite');
            byHand++;
            continue;
          }
          if (status === 'completed' || status === 'failed' || status === 'cancelled') break;
          runner = pidOfWorker(j.workerId);
          const live = runner !== null && fleet!.ready.some((w) => w.pid === runner);
          if (status === 'running' && live && (await lastCommitted(ctx, job.id)) >= point) break;
          await sleep(50 + Math.random() * 100);
        }
        if (status !== 'running') break;
        const cp = await lastCommitted(ctx, job.id);
        if (runner !== null && fleet!.killPid(runner)) killedAt.push(cp);
      }
      // Then to the end, retrying by hand if the attempts ran out.
      for (;;) {
        if (Date.now() > deadline) break;
        const j = await persist(() => ctx.service.get(job.id));
        status = j.status;
        if (status === 'failed' && /lost|killed|exited/i.test(j.error ?? '')) {
          await ctx.service.retry(job.id, 'fault suite');
          byHand++;
        } else if (status === 'completed' || status === 'failed' || status === 'cancelled') {
          break;
        }
        await sleep(250);
      }
      const end = await persist(() => ctx.service.get(job.id));
      const checks: Check[] = [
        { what: `worker kills during the import: ${killedAt.length} (after rows ${killedAt.join(', ')})`, ok: killedAt.length === KILLS },
        { what: `the import completed (attempts: ${end.attempt}, retried by hand: ${byHand})`, ok: end.status === 'completed', detail: end.error ?? end.resultSummary ?? '' },
        { what: 'its summary counts every row once', ok: end.resultSummary === `${rows} rows: ${rows} created, 0 updated, 0 skipped`, detail: end.resultSummary ?? '' },
        ...(await persist(() => checkRows(ctx, rows))),
        { what: 'the checkpoint at the last row', ok: (await lastCommitted(ctx, job.id)) === rows },
      ];
      const c = await persist(() => count(ctx, [job.id], fleet!.kills, env.config.leaseMs + SWEEP_ALLOWANCE_MS));
      return rowOf(backend.name, c, started, checks);
    });
  },
};
