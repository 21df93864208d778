/**
 * The dispatcher's index (migration 20261208000000): its round finds the same jobs as by
 * `status = 'queued' and dispatched_at is null`, through `jobs_undispatched`, following a
 * confirmation, a claim and a retry; and the migration goes down and up on each database.
 */
import { expect } from 'chai';
import type { Context } from '../../app/context.js';
import { migrate } from '../../app/db.js';
import { isSqlite } from '../../app/dialect.js';
import { chainsToAdvance, HELD } from '../../app/store/group-chain.js';
import { markDispatched, undispatched } from '../../app/store/job-dispatch.js';
import { migrationSource } from '../../db/migrations/index.js';
import { backends, jobRow, makeTestEnv, requireService, type TestEnv } from '../helpers.js';

const MIGRATION = '20261208000000_jobs_undispatched_index';

const seen = new Set<string>();
for (const backend of backends().filter((b) => !seen.has(b.db) && seen.add(b.db))) {
  describe(`the dispatcher's index of unconfirmed jobs, on ${backend.name}`, function () {
    this.timeout(60_000);
    let env: TestEnv;
    let ctx: Context;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      env = await makeTestEnv(backend);
      ctx = await env.context();
    });
    after(async () => env?.cleanup());

    const row = (status: string, extra: Record<string, unknown> = {}) => jobRow({ status, ...extra });

    /** Whether the virtual column is there (SQLite's table_info leaves generated columns out). */
    async function hasColumn(): Promise<boolean> {
      return ctx.db('jobs').select('undispatched').limit(1).then(
        () => true,
        () => false,
      );
    }

    /** The plan of the round's query names the index. */
    async function plan(): Promise<string> {
      const q = ctx.db('jobs').select('id').where({ undispatched: 1 }).where('queued_at', '<=', 5000).orderBy('id', 'asc').limit(500).toSQL().toNative();
      if (isSqlite(ctx.db)) {
        const rows = (await ctx.db.raw(`explain query plan ${q.sql}`, q.bindings as never)) as Array<{ detail: string }>;
        return rows.map((r) => r.detail).join('; ');
      }
      const [rows] = (await ctx.db.raw(`explain ${q.sql}`, q.bindings as never)) as [Array<{ key: string | null }>];
      return rows.map((r) => String(r.key)).join('; ');
    }

    it('finds the unconfirmed queued jobs through its index, and follows a confirmation, a claim and a retry', async () => {
      await ctx.db('jobs').delete();
      await ctx.db('jobs').insert([
        row('queued'),
        row('queued', { dispatched_at: 1100 }),
        row('running', { attempt: 1 }),
        row('queued', { run_after: 9_000_000 }),
        row('queued', { queued_at: 4000 }),
        row('completed', { finished_at: 1200 }),
        row('queued', { queued_at: 1500 }),
      ]);
      const ids = (await ctx.db('jobs').orderBy('id').pluck('id')).map(Number);
      const round = async () => (await undispatched(ctx.db, 2000, 3000, 500)).map((j) => j.id);
      expect(await round()).to.deep.equal([ids[0], ids[6]]);
      // Its time come: the delayed job too.
      expect((await undispatched(ctx.db, 9_000_001, 3000, 500)).map((j) => j.id)).to.deep.equal([ids[0], ids[3], ids[6]]);
      // The broker confirmed one; another was claimed before its confirmation came.
      await markDispatched(ctx.db, [{ id: ids[0], attempt: 0 }], 2100);
      await ctx.db('jobs').where({ id: ids[6] }).update({ status: 'running', attempt: 1 });
      expect(await round()).to.deep.equal([]);
      // A retry queues it again with no message in the broker.
      await ctx.db('jobs').where({ id: ids[6] }).update({ status: 'queued', dispatched_at: null });
      expect(await round()).to.deep.equal([ids[6]]);
      // Among thousands of confirmed queued jobs (a bulk enqueue draining), the round
      // reads through the index rather than walking the queue.
      for (let i = 0; i < 20; i++) await ctx.db('jobs').insert(Array.from({ length: 200 }, () => row('queued', { dispatched_at: 1100 })));
      if (!isSqlite(ctx.db)) await ctx.db.raw('analyze table jobs');
      expect(await plan()).to.include('jobs_undispatched');
      expect(await round()).to.deep.equal([ids[6]]);
    });

    it("finds the held steps of chains through it, one published before it was held too", async () => {
      await ctx.db('jobs').delete();
      const group = async () => {
        const [id] = (await ctx.db('job_groups').insert({ name: 'chain', chain: true, origin: 'cli', job_count: 2, created_at: 1000 }, ['id'])) as Array<number | { id: number }>;
        return Number(typeof id === 'object' ? id.id : id);
      };
      const [g1, g2, g3] = [await group(), await group(), await group()];
      await ctx.db('jobs').insert([
        // Step 0 completed, step 1 still held: the sweep advances it.
        row('completed', { group_id: g1, group_seq: 0, finished_at: 1100 }),
        row('queued', { group_id: g1, group_seq: 1, run_after: HELD }),
        // A step retried and published, then held again behind the step before it.
        row('failed', { group_id: g2, group_seq: 0, finished_at: 1100 }),
        row('queued', { group_id: g2, group_seq: 1, run_after: HELD, dispatched_at: 1200 }),
        // Still running: nothing to do.
        row('running', { group_id: g3, group_seq: 0, attempt: 1 }),
        row('queued', { group_id: g3, group_seq: 1, run_after: HELD }),
      ]);
      for (let i = 0; i < 10; i++) await ctx.db('jobs').insert(Array.from({ length: 200 }, () => row('queued', { dispatched_at: 1100 })));
      expect((await chainsToAdvance(ctx.db, 100)).sort((a, b) => a - b)).to.deep.equal([g1, g2]);
      // Held steps never come out of the dispatcher's round, even unconfirmed.
      expect(await undispatched(ctx.db, 2000, 3000, 500)).to.deep.equal([]);
    });

    it('the migration goes down and up again', async () => {
      await ctx.db.migrate.down({ migrationSource, name: MIGRATION });
      expect(await hasColumn()).to.equal(false);
      expect(await migrate(ctx.db)).to.deep.equal([MIGRATION]);
      expect(await hasColumn()).to.equal(true);
      expect(await plan()).to.include('jobs_undispatched');
    });
  });
}
