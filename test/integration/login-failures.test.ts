import { expect } from 'chai';
import type { Context } from '../../app/context.js';
import { addFailure, failuresOf, forgetFailures, pruneFailures, takeBackFailure } from '../../app/store/login-failures.js';
import { backends, makeTestEnv, requireService, type TestEnv } from '../helpers.js';

const dbKinds = [...new Map(backends().map((b) => [b.db, b])).values()];

for (const backend of dbKinds) {
  describe(`failed-login counts on ${backend.db === 'mysql' ? 'MariaDB' : 'SQLite'}`, function () {
    let env: TestEnv;
    let ctx: Context;
    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      env = await makeTestEnv({ db: backend.db, transport: 'db' });
      ctx = await env.context();
    });
    after(async () => env?.cleanup());

    const WINDOW = 1000;

    it('counts failures within a window, and starts a new window after it ends', async () => {
      expect(await addFailure(ctx.db, 'address:1', 10_000, WINDOW)).to.deep.equal({ hits: 1, resetAt: 11_000 });
      expect(await addFailure(ctx.db, 'address:1', 10_500, WINDOW)).to.deep.equal({ hits: 2, resetAt: 11_000 });
      expect(await addFailure(ctx.db, 'address:2', 10_500, WINDOW)).to.deep.equal({ hits: 1, resetAt: 11_500 });
      expect(await failuresOf(ctx.db, 'address:1', 10_999)).to.deep.equal({ hits: 2, resetAt: 11_000 });
      // The window is over: no failures now, and the next one counts from 1 again.
      expect(await failuresOf(ctx.db, 'address:1', 11_000)).to.equal(null);
      expect(await addFailure(ctx.db, 'address:1', 11_200, WINDOW)).to.deep.equal({ hits: 1, resetAt: 12_200 });
    });

    it('takes a failure back, never below zero; forgets a client; prunes ended windows only', async () => {
      await addFailure(ctx.db, 'user:a', 20_000, WINDOW);
      await takeBackFailure(ctx.db, 'user:a');
      await takeBackFailure(ctx.db, 'user:a');
      expect(await failuresOf(ctx.db, 'user:a', 20_001)).to.deep.equal({ hits: 0, resetAt: 21_000 });
      await addFailure(ctx.db, 'user:b', 20_000, WINDOW);
      await forgetFailures(ctx.db, 'user:b');
      expect(await failuresOf(ctx.db, 'user:b', 20_001)).to.equal(null);
      await addFailure(ctx.db, 'user:c', 30_000, WINDOW);
      // Windows ending at or before 21,000: address:2 (11,500), address:1 (12,200), user:a (21,000).
      expect(await pruneFailures(ctx.db, 21_000)).to.equal(3);
      expect(await ctx.db('login_failures').orderBy('client').pluck('client')).to.deep.equal(['user:c']);
    });
  });
}
