/**
 * A job's error, result summary, progress text and history messages always fit their
 * columns (MariaDB refuses what does not), so every change is recorded.
 */
import { expect } from 'chai';
import type { Context } from '../../app/context.js';
import { TRANSIENT_RETRY_MS } from '../../app/job-service.js';
import { listEvents } from '../../app/store/jobs.js';
import { TEXT_LIMITS } from '../../app/store/limits.js';
import { backends, makeTestEnv, requireService, type TestEnv } from '../helpers.js';

const dbKinds = [...new Map(backends().map((b) => [b.db, b])).values()];

for (const backend of dbKinds) {
  describe(`text limits on ${backend.db === 'mysql' ? 'MariaDB' : 'SQLite'}`, function () {
    let env: TestEnv;
    let ctx: Context;
    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      env = await makeTestEnv({ db: backend.db, transport: 'db' });
      ctx = await env.context();
    });
    after(async () => env?.cleanup());

    async function running(): Promise<{ id: number; attempt: number }> {
      const { job } = await ctx.service.enqueue({ task: 'sleep', params: {}, user: null, origin: 'cli' });
      const [claimed] = await ctx.service.claimMany([job.id], 'w-limits');
      if (!claimed) throw new Error('not claimed');
      return claimed;
    }

    it('records a 1.3 MB error as Failed, with the reason cut and a notice', async () => {
      const job = await running();
      const huge = 'the header has columns this import does not know: ' + '"c", '.repeat(260_000);
      expect(await ctx.service.fail(job, 'w-limits', { message: huge, unrecoverable: true })).to.equal('failed');
      const after = await ctx.service.get(job.id);
      expect(after.status).to.equal('failed');
      expect(after.error?.length).to.be.at.most(TEXT_LIMITS.error);
      expect(after.error).to.match(/^the header has columns this import does not know: "c", /);
      expect(after.error).to.match(/… \(1,300,050 characters, cut\)$/);
      const failedEvent = (await listEvents(ctx.db, job.id)).find((e) => e.type === 'failed');
      expect(failedEvent?.message).to.equal(after.error);
    });

    it('cuts a retried failure, a result summary and a progress text to their columns', async () => {
      const retried = await running();
      expect(await ctx.service.fail(retried, 'w-limits', { message: 'e'.repeat(100_000), lost: true })).to.equal('retried');
      const events = await listEvents(ctx.db, retried.id);
      const ev = events.find((e) => e.type === 'retried');
      expect(ev?.message?.length).to.be.at.most(TEXT_LIMITS.message);
      expect(ev?.message).to.include('characters, cut); retrying (attempt 2 of 3)');

      // Output the database could not take: retried a second later, not failed for good.
      const stored = await running();
      const before = Date.now();
      expect(await ctx.service.fail(stored, 'w-limits', { message: "cannot store the job's output: database is locked", transient: true })).to.equal('retried');
      const again = await ctx.service.get(stored.id);
      expect(again.status).to.equal('queued');
      expect(Number(again.runAfter)).to.be.within(before + TRANSIENT_RETRY_MS, Date.now() + TRANSIENT_RETRY_MS);
      const retriedEv = (await listEvents(ctx.db, stored.id)).find((e) => e.type === 'retried');
      expect(retriedEv?.message).to.match(/database is locked; retrying \(attempt 2 of 3\) in 1 s$/);

      const job = await running();
      expect(await ctx.service.progress(job, 1, 2, 'p'.repeat(10_000))).to.equal(true);
      const p = await ctx.service.get(job.id);
      expect(p.progressText).to.have.length(TEXT_LIMITS.progressText);
      expect(p.progressText).to.match(/… \(10,000 characters, cut\)$/);
      const completed = await ctx.service.completeMany([{ job, result: { summary: 's'.repeat(5000) } }], 'w-limits');
      expect([...completed]).to.deep.equal([job.id]);
      const done = await ctx.service.get(job.id);
      expect(done.status).to.equal('completed');
      expect(done.resultSummary).to.have.length(TEXT_LIMITS.resultSummary);
      expect(done.resultSummary).to.match(/… \(5,000 characters, cut\)$/);
    });
  });
}
