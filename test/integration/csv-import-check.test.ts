/**
 * csv-import's check pass with `--on-error fail`: every bad reference of the file is
 * reported in one pass, parentIds and qubitParentSlugs alike, so that one correction of
 * the file is enough. A row of another width than the header is no error (AtoM's
 * QubitFlatfileImport pads a short row and ignores a long row's extra cells), and a
 * parentId that is an existing description's id is a parent (AtoM's csvImportTask
 * accepts it).
 */
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from '../../app/context.js';
import { UnrecoverableError } from '../../app/errors.js';
import { ImportFile } from '../../workers/tasks/archive/csv-import-file.js';
import { backends, makeTestEnv, requireService, type TestEnv } from '../helpers.js';

const seen = new Set<string>();
const targets = backends().filter((b) => !seen.has(b.db) && seen.add(b.db));

for (const backend of targets) {
  describe(`csv-import's check with --on-error fail on ${backend.name}`, function () {
    this.timeout(60_000);
    let env: TestEnv;
    let ctx: Context;
    let dir: string;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      env = await makeTestEnv(backend);
      ctx = await env.context();
      dir = mkdtempSync(join(tmpdir(), 'docket-check-'));
    });

    after(async () => {
      await env?.cleanup();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function checkError(name: string, lines: string[], strict = true): Promise<string> {
      const path = join(dir, name);
      writeFileSync(path, lines.join('\n') + '\n');
      try {
        await new ImportFile(path, name).check(ctx.db, strict);
      } catch (err) {
        expect(err).to.be.instanceOf(UnrecoverableError);
        return (err as Error).message;
      }
      throw new Error('the check passed a bad file');
    }

    it('reports the rows with a missing parent in one message, and not the rows of another width', async () => {
      const message = await checkError('both.csv', [
        'legacyId,parentId,qubitParentSlug,title',
        '1,,,Fonds',
        '2,1,,Series,extra',
        '3,99,,Orphan',
        '4,,no-such-slug,Lost',
        '5,1',
        '6,1,,Fine',
      ]);
      expect(message).to.include('nothing was written');
      expect(message).to.not.include('fields');
      expect(message).to.include('row 3: parentId "99" matches no earlier row');
      expect(message).to.include('row 4: qubitParentSlug "no-such-slug" matches no description');
      expect(message).to.not.include('row 6');
    });

    it('counts what it does not list', async () => {
      const rows = ['legacyId,parentId,title'];
      for (let i = 1; i <= 12; i++) rows.push(`w${i},,Too,many`);
      for (let i = 1; i <= 12; i++) rows.push(`p${i},missing-${i},Orphan`);
      const message = await checkError('many.csv', rows);
      expect(message).to.include('row 13: parentId "missing-1"');
      expect(message).to.include('row 22: parentId "missing-10"');
      expect(message).to.include('; and 2 more.');
    });

    it('passes a parentId that is an existing description id, and rows of another width', async () => {
      const [id] = (await ctx.db('descriptions').insert({ slug: `check-parent-${Date.now()}`, position: 0, created_at: 0, updated_at: 0 })) as number[];
      const path = join(dir, 'byid.csv');
      writeFileSync(path, `legacyId,parentId,title\n1,${Number(id)},Series\n2,1,Short\n3,1\n4,1,Long,extra\n`);
      expect(await new ImportFile(path, 'byid.csv').check(ctx.db, true)).to.equal(4);
    });

    it('passes a good file, returning its number of rows', async () => {
      const path = join(dir, 'good.csv');
      writeFileSync(path, 'legacyId,parentId,title\n1,,Fonds\n2,1,Series\n');
      expect(await new ImportFile(path, 'good.csv').check(ctx.db, true)).to.equal(2);
    });
  });
}
