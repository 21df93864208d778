/**
 * Retention's and /metrics' indexes on virtual columns (migration 20261207000000): the
 * readers find the same jobs as by `status`, a claim leaves `jobs_finished` alone and a
 * finish leaves `jobs_waiting` alone, and the migration goes down and up on each database.
 */
import { expect } from 'chai';
import type { Context } from '../../app/context.js';
import { migrate } from '../../app/db.js';
import { isSqlite } from '../../app/dialect.js';
import { expiredJobIds } from '../../app/store/job-delete.js';
import { oldestQueued } from '../../app/store/metrics.js';
import { migrationSource } from '../../db/migrations/index.js';
import { backends, jobRow, makeTestEnv, requireService, type TestEnv } from '../helpers.js';

const MIGRATION = '20261207000000_jobs_partial_status_indexes';

const seen = new Set<string>();
for (const backend of backends().filter((b) => !seen.has(b.db) && seen.add(b.db))) {
  describe(`retention's and metrics' indexes on virtual columns, on ${backend.name}`, function () {
    this.timeout(60_000);
    let env: TestEnv;
    let ctx: Context;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      env = await makeTestEnv(backend);
      ctx = await env.context();
    });
    after(async () => env?.cleanup());

    const row = (task: string, status: string, extra: Record<string, unknown> = {}) => jobRow({ task, status, ...extra });

    async function indexNames(): Promise<string[]> {
      if (isSqlite(ctx.db)) {
        const rows = (await ctx.db.raw("select name from sqlite_master where type = 'index' and tbl_name = 'jobs'")) as Array<{ name: string }>;
        return rows.map((r) => r.name);
      }
      const [rows] = (await ctx.db.raw('show index from jobs')) as [Array<{ Key_name: string }>];
      return [...new Set(rows.map((r) => r.Key_name))];
    }

    it('finds the same jobs as by status, and follows a claim and a finish', async () => {
      await ctx.db('jobs').delete();
      await ctx.db('jobs').insert([
        row('a', 'completed', { finished_at: 100 }),
        row('a', 'failed', { finished_at: 200 }),
        row('a', 'completed', { finished_at: 5000 }),
        row('a', 'running', { started_at: 10 }),
        row('a', 'queued', { queued_at: 300 }),
        row('a', 'queued', { queued_at: 50, run_after: 900 }),
        row('a', 'queued', { queued_at: 40, run_after: 9_000_000 }),
        row('b', 'queued', { queued_at: 700 }),
        // A finished job queued again by hand keeps its old finished_at: not expired as queued.
        row('b', 'queued', { queued_at: 800, finished_at: 10 }),
      ]);
      const ids = (await ctx.db('jobs').orderBy('id').pluck('id')).map(Number);
      expect(await expiredJobIds(ctx.db, ['completed'], 1000, 10)).to.deep.equal([ids[0]]);
      expect(await expiredJobIds(ctx.db, ['completed', 'failed', 'cancelled'], 6000, 10)).to.deep.equal([ids[0], ids[2], ids[1]]);
      const oldest = (now: number) => oldestQueued(ctx.db, now, ['a', 'b', 'c']).then((r) => r.sort((x, y) => x.task.localeCompare(y.task)));
      expect(await oldest(500)).to.deep.equal([{ task: 'a', queuedAt: 300 }, { task: 'b', queuedAt: 700 }]);
      expect(await oldest(1000)).to.deep.equal([{ task: 'a', queuedAt: 50 }, { task: 'b', queuedAt: 700 }]);
      // The virtual columns follow the row: a claim takes the job out of `waiting_task`,
      // a finish puts it in `finished_status`.
      await ctx.db('jobs').where({ id: ids[4] }).update({ status: 'running' });
      expect(await oldest(500)).to.deep.equal([{ task: 'b', queuedAt: 700 }]);
      await ctx.db('jobs').where({ id: ids[3] }).update({ status: 'cancelled', finished_at: 20 });
      expect(await expiredJobIds(ctx.db, ['cancelled'], 1000, 10)).to.deep.equal([ids[3]]);
    });

    it('the migration goes down to the status indexes and up again', async () => {
      expect(await indexNames()).to.include.members(['jobs_finished', 'jobs_waiting']);
      await ctx.db.migrate.down({ migrationSource, name: MIGRATION });
      const down = await indexNames();
      expect(down).to.include.members(['jobs_status_finished', 'jobs_queued_age']);
      expect(down).not.to.include.members(['jobs_finished']);
      expect(await ctx.db.schema.hasColumn('jobs', 'finished_status')).to.equal(false);
      expect(await migrate(ctx.db)).to.deep.equal([MIGRATION]);
      expect(await indexNames()).to.include.members(['jobs_finished', 'jobs_waiting']);
      expect(await expiredJobIds(ctx.db, ['completed'], 1000, 10)).to.have.length(1);
    });
  });
}
