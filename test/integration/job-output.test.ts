import { expect } from 'chai';
import type { Context } from '../../app/context.js';
import { getJob, readOutput } from '../../app/store/jobs.js';
import type { Job } from '../../app/types.js';
import { backends, makeTestEnv, requireService, type TestEnv } from '../helpers.js';

/** Storing a job's output: every chunk for the running attempt, none for a zombie. */
for (const backend of backends().filter((b) => b.transport === 'db')) {
  describe(`job output store on ${backend.name}`, function () {
    let env: TestEnv;
    let ctx: Context;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      env = await makeTestEnv(backend);
      ctx = await env.context();
    });

    after(async () => {
      await env?.cleanup();
    });

    async function running(): Promise<Job> {
      const { job } = await ctx.service.enqueue({ task: 'print', params: { lines: 1 }, origin: 'cli' });
      const [claimed] = await ctx.service.claimMany([job.id], 'output-test-worker');
      if (!claimed) throw new Error(`cannot claim job ${job.id}`);
      return claimed;
    }

    const texts = async (id: number): Promise<Array<[string, string]>> =>
      (await readOutput(ctx.db, id)).map((c) => [c.stream, c.text]);

    it('stores a batch of chunks in order and counts their bytes, text exactly as given', async () => {
      const job = await running();
      // Quotes, backslashes, NULs, characters of every UTF-8 length, and a megabyte.
      const odd = `it's "quoted" \\ back\\slashed \\n \u0000 nul é € 😀\n`;
      const big = 'line\n'.repeat(200_000);
      const parts = [
        { stream: 'stdout' as const, text: odd, bytes: Buffer.byteLength(odd) },
        { stream: 'stderr' as const, text: 'oops\n', bytes: 5 },
        { stream: 'stdout' as const, text: big, bytes: big.length },
      ];
      expect(await ctx.service.appendOutputParts(job, parts)).to.equal(true);
      expect(await ctx.service.appendOutputParts(job, [{ stream: 'stdout', text: 'last\n', bytes: 5 }])).to.equal(true);
      // As the worker gives them: UTF-8 bytes, stored as text.
      const bytes = Buffer.from(odd);
      expect(await ctx.service.appendOutputParts(job, [{ stream: 'stdout', text: bytes, bytes: bytes.length }])).to.equal(true);
      expect(await texts(job.id)).to.deep.equal([
        ['stdout', odd],
        ['stderr', 'oops\n'],
        ['stdout', big],
        ['stdout', 'last\n'],
        ['stdout', odd],
      ]);
      const row = (await getJob(ctx.db, job.id))!;
      expect(row.outputBytes).to.equal(2 * Buffer.byteLength(odd) + 5 + big.length + 5);
      expect(row.outputTruncated).to.equal(false);
      expect(await ctx.service.appendOutputParts(job, [{ stream: 'system', text: '[cut]\n', bytes: 6 }], { truncated: true })).to.equal(true);
      expect((await getJob(ctx.db, job.id))!.outputTruncated).to.equal(true);
    });

    it('refuses the output of a stale attempt or of a job no longer running, storing none of it', async () => {
      const job = await running();
      const zombie = { id: job.id, attempt: job.attempt + 1 };
      const parts = [
        { stream: 'stdout' as const, text: 'a\n', bytes: 2 },
        { stream: 'stdout' as const, text: 'b\n', bytes: 2 },
      ];
      expect(await ctx.service.appendOutputParts(zombie, parts)).to.equal(false);
      expect(await texts(job.id)).to.deep.equal([]);
      expect((await getJob(ctx.db, job.id))!.outputBytes).to.equal(0);

      await ctx.service.completeMany([{ job, result: { summary: 'done' } }], 'output-test-worker');
      expect(await ctx.service.appendOutputParts(job, parts)).to.equal(false);
      expect(await texts(job.id)).to.deep.equal([]);
      // The end of a job may still write its last words when asked to.
      expect(await ctx.service.appendOutputParts(job, parts, { allowFinal: true })).to.equal(true);
      expect(await texts(job.id)).to.deep.equal([
        ['stdout', 'a\n'],
        ['stdout', 'b\n'],
      ]);
    });
  });
}
