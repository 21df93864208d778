/**
 * What a failed job still leaves (its error's result: a summary, a file) becomes its result
 * when the failure is final; a failure that is retried, or turns into a cancel, removes the
 * file; a retry by hand clears the result and removes the file, since the new attempt
 * makes its own. Once on each database (the file store differs: folder or database).
 */
import { expect } from 'chai';
import { Readable } from 'node:stream';
import type { Context } from '../../app/context.js';
import { NotFoundError } from '../../app/errors.js';
import { claimJobs, getJob } from '../../app/store/jobs.js';
import { backends, makeTestEnv, requireService, type TestEnv } from '../helpers.js';

const seen = new Set<string>();
const targets = backends().filter((b) => b.transport === 'db' && !seen.has(b.db) && seen.add(b.db));

for (const backend of targets) {
  describe(`a failed job's result on ${backend.name}`, () => {
    let env: TestEnv;
    let ctx: Context;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      env = await makeTestEnv(backend);
      ctx = await env.context();
    });
    after(async () => env?.cleanup());

    /** A running job (attempt 1 of `maxAttempts`) and a result file stored for it. */
    async function runningWithFile(maxAttempts = 1) {
      const { job } = await ctx.service.enqueue({ task: 'sleep', params: {}, origin: 'cli', user: null });
      await ctx.db('jobs').where({ id: job.id }).update({ max_attempts: maxAttempts });
      await claimJobs(ctx.db, [job.id], 'w1', Date.now(), 60_000);
      const file = await ctx.files.put(Readable.from(['a,b\n1,2\n']), { jobId: job.id, kind: 'result', name: 'x-not-imported.csv', contentType: 'text/csv', maxBytes: 1 << 20 });
      const result = { summary: '1 row not imported (1 from row 1 on)', file: { stored: file.id, downloadName: 'x-not-imported.csv' } };
      return { id: job.id, file: file.id, result };
    }

    const gone = async (id: string) => {
      try {
        (await ctx.files.get(id)).stream.destroy();
        return false;
      } catch (err) {
        if (err instanceof NotFoundError) return true;
        throw err;
      }
    };

    it('keeps it as the result of a final failure, and a retry by hand clears it and removes the file', async () => {
      const j = await runningWithFile();
      expect(await ctx.service.fail({ id: j.id, attempt: 1 }, 'w1', { message: 'refused', unrecoverable: true, result: j.result })).to.equal('failed');
      const failed = (await getJob(ctx.db, j.id))!;
      expect([failed.resultSummary, failed.resultFile, failed.resultName]).to.deep.equal([j.result.summary, j.file, 'x-not-imported.csv']);
      expect(await gone(j.file)).to.equal(false);
      await ctx.service.retry(j.id, 'alice');
      const again = (await getJob(ctx.db, j.id))!;
      expect([again.status, again.resultSummary, again.resultFile, again.resultName]).to.deep.equal(['queued', null, null, null]);
      expect(await gone(j.file)).to.equal(true);
    });

    it('removes the file of a failure that is retried', async () => {
      const j = await runningWithFile(3);
      expect(await ctx.service.fail({ id: j.id, attempt: 1 }, 'w1', { message: 'it broke', retryBackoffMs: 0, result: j.result })).to.equal('retried');
      expect((await getJob(ctx.db, j.id))!.resultFile).to.equal(null);
      expect(await gone(j.file)).to.equal(true);
    });

    it('clears an earlier attempt\'s result when the final failure leaves none', async () => {
      const j = await runningWithFile();
      await ctx.db('jobs').where({ id: j.id }).update({ result_summary: 'old', result_file: j.file, result_name: 'old.csv' });
      expect(await ctx.service.fail({ id: j.id, attempt: 1 }, 'w1', { message: 'broke', unrecoverable: true })).to.equal('failed');
      const failed = (await getJob(ctx.db, j.id))!;
      expect([failed.resultSummary, failed.resultFile, failed.resultName]).to.deep.equal([null, null, null]);
    });
  });
}
