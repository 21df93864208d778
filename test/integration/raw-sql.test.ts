import { expect } from 'chai';
import type { Context } from '../../app/context.js';
import { rawTransaction } from '../../app/store/raw.js';
import { getJob, insertJob, listEvents } from '../../app/store/jobs.js';
import { backends, makeTestEnv, requireService, type TestEnv } from '../helpers.js';

const dbKinds = [...new Map(backends().map((b) => [b.db, b])).values()];

for (const backend of dbKinds) {
  describe(`the hot path's plain SQL on ${backend.db === 'mysql' ? 'MariaDB' : 'SQLite'}`, function () {
    let env: TestEnv;
    let ctx: Context;
    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      env = await makeTestEnv({ db: backend.db, transport: 'db' });
      ctx = await env.context();
    });
    after(async () => env?.cleanup());

    const add = (task = 'noop') =>
      insertJob(
        ctx.db,
        { task, params: { a: 1 }, priority: 2, userId: null, username: 'ada', origin: 'web', uniqueKey: null, maxAttempts: 3, objectRef: null, now: 5 },
        'ada',
      );

    it('inserts a job and its queued event, returning the new id', async () => {
      const a = await add();
      const b = await add();
      expect(b).to.equal(a + 1);
      const job = await getJob(ctx.db, b);
      expect([job?.status, job?.task, job?.params, job?.username, job?.queuedAt]).to.deep.equal(['queued', 'noop', { a: 1 }, 'ada', 5]);
      expect((await listEvents(ctx.db, b)).map((e) => [e.type, e.actor])).to.deep.equal([['queued', 'ada']]);
    });

    it('rolls the whole transaction back when a statement fails, and the connection stays usable', async () => {
      const id = await add();
      const err = await rawTransaction(ctx.db, async (q) => {
        await q(`update jobs set status = 'running' where id = ?`, [id]);
        await q('insert into no_such_table (x) values (?)', [1]);
      }).catch((e: Error) => e);
      expect(err).to.be.instanceOf(Error);
      expect((await getJob(ctx.db, id))?.status).to.equal('queued');
      const { rows, affected } = await rawTransaction(ctx.db, (q) => q('select id, status from jobs where id = ?', [id]));
      expect(affected).to.equal(0);
      expect(rows.map((r) => [Number(r.id), r.status])).to.deep.equal([[id, 'queued']]);
    });

    it('reports the rows an UPDATE changed', async () => {
      const ids = [await add(), await add()];
      const { affected } = await rawTransaction(ctx.db, (q) =>
        q(`update jobs set priority = 3 where id in (?, ?, ?) and status = 'queued'`, [...ids, -1]),
      );
      expect(affected).to.equal(2);
    });
  });
}
