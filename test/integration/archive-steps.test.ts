/**
 * The archival tasks report their steps: csv-import (check the file, import rows, report)
 * and finding-aid (read the hierarchy, render, store), in order, as the worker stores them.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { getDescriptionBySlug } from '../../app/archive/descriptions.js';
import type { Context } from '../../app/context.js';
import type { Job } from '../../app/types.js';
import { Worker } from '../../workers/worker.js';
import { backends, makeTestEnv, requireService, type TestEnv, jobEnded } from '../helpers.js';

const IMPORT_ORDER = join(import.meta.dirname, '..', 'fixtures', 'atom', 'import_order.csv');

for (const backend of backends().filter((b) => b.transport === 'db')) {
  describe(`archival tasks' steps on ${backend.name}`, function () {
    this.timeout(60_000);
    let env: TestEnv;
    let ctx: Context;
    let worker: Worker;

    const run = async (task: string, params: Record<string, unknown>): Promise<Job> => {
      const { job } = await ctx.service.enqueue({ task, params, origin: 'cli', user: null });
      return jobEnded(ctx.db, job.id, 50_000);
    };
    const stored = (j: Job) => j.progressSteps?.map((s) => [s.label, s.status]);

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      env = await makeTestEnv(backend);
      ctx = await env.context();
      worker = new Worker(ctx.service, ctx.transport, { concurrency: 1 });
      await worker.start();
    });

    after(async () => {
      await worker?.stop(5000);
      await env?.cleanup();
    });

    it('csv-import, then finding-aid, each report their steps in order', async () => {
      const imported = await run('csv-import', { file: IMPORT_ORDER });
      expect(imported.status, imported.error ?? '').to.equal('completed');
      expect(stored(imported)).to.deep.equal([['Check the file', 2], ['Import rows', 2], ['Report', 1]]);
      const rows = imported.progressSteps?.[1];
      expect(rows).to.include({ current: 34, total: 34, extra: 'Working on row 34 / 34' });
      expect(rows?.startedAt).to.be.a('number');

      const fonds = await getDescriptionBySlug(ctx.db, 'csv-import-order-fonds');
      const aid = await run('finding-aid', { description: String(fonds?.id), format: 'pdf', model: 'inventory-summary' });
      expect(aid.status, aid.error ?? '').to.equal('completed');
      expect(stored(aid)).to.deep.equal([['Read the hierarchy', 2], ['Render', 2], ['Store', 1]]);
    });
  });
}
