/**
 * Rows AtoM imports differently from a strict reader, imported here as AtoM imports them,
 * compared record by record. The AtoM source each rule follows (AtoM 2.x,
 * lib/task/import/csvImportTask.class.php and lib/flatfile/QubitFlatfileImport.class.php):
 * - a short row is padded with blanks and a long row's extra cells are ignored
 *   (QubitFlatfileImport reads each column by its header position); a blank row is
 *   skipped without a word;
 * - a parentId that matches nothing imports the row at the top level with a warning
 *   (csvImportTask: "Could not find parent ... importing as top-level"); a parentId that
 *   is the id of an existing description is that description (csvImportTask looks the
 *   parentId up in the keymap first, then as an information object id);
 * - `NULL` in an event column is no value (csvImportTask's event columns skip "NULL");
 * - a blank identifier or repository never matches (getByTitleIdentifierAndRepo is only
 *   asked with all three values);
 * - match-and-update adds notes and access points beside the old ones and moves the
 *   record when its row names a parent; the keymap keeps an entry per source
 *   (QubitFlatfileImport::createKeymapEntry);
 * - --roundtrip, --default-parent-slug, --default-legacy-parent-id, --skip-rows (the
 *   options of csvImportTask's configure()).
 * And Docket's own: every row not imported kept in full, with its reason, as the job's
 * result file whatever the output cap; a failed import's checkpoint and rejects removed
 * with the job; two moves at once never make a loop; a slug taken by another import
 * meanwhile is told apart from other errors. On SQLite and on MariaDB.
 */
import { expect } from 'chai';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { parse } from 'csv-parse/sync';
import { getDescription, getDescriptionBySlug, insertDescription, listChildren, moveDescription } from '../../app/archive/descriptions.js';
import type { Description } from '../../app/archive/types.js';
import type { Context } from '../../app/context.js';
import { readOutput } from '../../app/store/jobs.js';
import type { Job } from '../../app/types.js';
import { isSlugCollision } from '../../workers/tasks/archive/slug-collision.js';
import { Worker } from '../../workers/worker.js';
import { backends, exportEnv, makeTestEnv, requireService, type TestEnv, jobEnded } from '../helpers.js';

const seen = new Set<string>();
const targets = backends().filter((b) => !seen.has(b.db) && seen.add(b.db));

for (const backend of targets) {
  describe(`Rows of AtoM's CSV files on ${backend.name}`, function () {
    this.timeout(120_000);
    let env: TestEnv;
    let ctx: Context;
    let worker: Worker;
    let tmp: string;
    let restoreEnv: (() => void) | undefined;

    async function outputOf(id: number): Promise<string> {
      let out = '';
      let after = 0;
      for (;;) {
        const chunks = await readOutput(ctx.db, id, after, 1000);
        for (const c of chunks) out += c.text;
        if (chunks.length < 1000) return out;
        after = chunks[chunks.length - 1].id;
      }
    }

    async function waitFor(id: number): Promise<Job> {
      return jobEnded(ctx.db, id, 100_000);
    }

    async function importFile(file: string, extra: Record<string, unknown> = {}): Promise<{ job: Job; output: string }> {
      const { job } = await ctx.service.enqueue({ task: 'csv-import', params: { file, ...extra }, origin: 'cli', user: null });
      const done = await waitFor(job.id);
      return { job: done, output: await outputOf(job.id) };
    }

    function writeCsv(name: string, lines: string[]): string {
      const path = join(tmp, name);
      writeFileSync(path, `${lines.join('\n')}\n`);
      return path;
    }

    const bySlug = async (slug: string): Promise<Description> => {
      const d = await getDescriptionBySlug(ctx.db, slug);
      expect(d, `description ${slug}`).to.not.equal(null);
      return d!;
    };

    async function count(): Promise<number> {
      const r = (await ctx.db('descriptions').count({ n: '*' }).first()) as { n: number | string };
      return Number(r.n);
    }

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      // A small output cap: the report of a few hundred rows is cut, the rows not imported are not.
      // A lease of 20 s: two imports at once hold the write lock in turn on a shared, busy
      // machine, and no test here is about a lost worker.
      env = await makeTestEnv(backend, { DOCKET_OUTPUT_CAP_BYTES: '4096', DOCKET_LEASE_MS: '20000', DOCKET_HEARTBEAT_MS: '1000' });
      restoreEnv = exportEnv(env.env, ['DATABASE_URL', 'DOCKET_RESULTS_DIR', 'DOCKET_JOB_LOG_DIR', 'DOCKET_OUTPUT_CAP_BYTES']);
      ctx = await env.context();
      tmp = join(env.config.resultsDir, '..', 'csv-rows');
      mkdirSync(tmp, { recursive: true });
      worker = new Worker(ctx.service, ctx.transport, { concurrency: 1 });
      await worker.start();
    });

    after(async () => {
      await worker?.stop(5000);
      await env?.cleanup();
      restoreEnv?.();
    });

    beforeEach(async () => {
      await ctx.db('description_keymap').del();
      await ctx.db('description_translations').del();
      await ctx.db('descriptions').update({ parent_id: null });
      await ctx.db('descriptions').del();
    });

    it('pads a short row and ignores a long row\'s extra cells, each with a warning; skips blank rows without a word', async () => {
      const file = writeCsv('widths.csv', [
        'legacyId,parentId,identifier,title,scopeAndContent',
        'F1,,F,Fonds one,All of it',
        'S1,F1,S,Short series',
        ',,,,',
        '',
        'S2,F1,L,Long series,Some,extra cells,here',
      ]);
      const { job, output } = await importFile(file);
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(job.resultSummary).to.equal('3 rows: 3 created, 0 updated, 0 skipped');
      expect(output).to.include('Row 2: Warning: has 4 fields where the header has 5; the last column is taken as blank');
      expect(output).to.include(`Row 4: Warning: has 7 fields where the header has 5; the 2 extra fields were ignored (2 not blank)`);
      // The row of blank cells (row 3) has no line of its own; an empty line is no row.
      expect(output).to.not.match(/Row 3:/);
      const fonds = await bySlug('fonds-one');
      const short = await bySlug('short-series');
      const long = await bySlug('long-series');
      expect([short.parentId, short.identifier, short.scopeAndContent]).to.deep.equal([fonds.id, 'S', null]);
      expect([long.parentId, long.identifier, long.scopeAndContent]).to.deep.equal([fonds.id, 'L', 'Some']);
      expect(job.resultFile).to.equal(null);
    });

    it('imports a row whose parentId matches nothing at the top level with a warning, its branch below it; takes a parentId that is a description id', async () => {
      const existingId = await insertDescription(ctx.db, {
        identifier: 'E',
        title: 'Existing fonds',
        levelOfDescription: 'Fonds',
        extentAndMedium: null,
        scopeAndContent: null,
        repository: null,
        publicationStatus: 'draft',
        culture: 'en',
        events: [],
        alternativeIdentifiers: [],
        lists: {},
        extra: {},
        parentId: null,
        position: 0,
        slug: 'existing-fonds',
      });
      const file = writeCsv('parents.csv', [
        'legacyId,parentId,title',
        'O1,nowhere,Orphan series',
        'O2,O1,Orphan file',
        `C1,${existingId},Child of existing`,
      ]);
      const { job, output } = await importFile(file);
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(job.resultSummary).to.equal('3 rows: 3 created, 0 updated, 0 skipped');
      expect(output).to.match(/Row 1: Warning: parentId "nowhere" matches no earlier row .* nor any description's id; imported at the top level/);
      expect(output).to.include(`Row 3: parentId "${existingId}" is no legacyId of this source; it is the id of description ${existingId}`);
      const orphan = await bySlug('orphan-series');
      expect(orphan.parentId).to.equal(null);
      expect((await bySlug('orphan-file')).parentId).to.equal(orphan.id);
      expect((await bySlug('child-of-existing')).parentId).to.equal(existingId);
    });

    it('reads NULL in an event column as no value', async () => {
      const file = writeCsv('null.csv', [
        'legacyId,title,eventDates,eventTypes,eventStartDates,eventEndDates,eventActors',
        '1,All NULL,NULL,NULL,NULL,NULL,NULL',
        '2,Second event empty,1900|NULL,Creation|Accumulation,1900-01-01|NULL,1900-12-31|NULL,Smith|Jones',
      ]);
      const { job } = await importFile(file);
      expect(job.status, job.error ?? '').to.equal('completed');
      const all = await bySlug('all-null');
      expect([all.events, all.extra]).to.deep.equal([[], {}]);
      // One object per event: the second keeps its type and actor, its NULL dates are blank.
      const second = await bySlug('second-event-empty');
      const blank = { actorHistory: '', place: '', description: '' };
      expect(second.events).to.deep.equal([
        { type: 'Creation', date: '1900', startDate: '1900-01-01', endDate: '1900-12-31', actor: 'Smith', ...blank },
        { type: 'Accumulation', date: '', startDate: '', endDate: '', actor: 'Jones', ...blank },
      ]);
      expect(JSON.stringify(second)).to.not.include('NULL');
    });

    it('never matches on a blank identifier or repository: an unrelated "Untitled box list" is left alone', async () => {
      const first = writeCsv('box.csv', ['legacyId,identifier,title,repository,scopeAndContent', 'B1,,Untitled box list,,The first list']);
      expect((await importFile(first, { sourceName: 'boxes-a' })).job.status).to.equal('completed');
      const second = writeCsv('box2.csv', ['legacyId,identifier,title,repository,scopeAndContent', 'X9,,Untitled box list,,Another list']);
      const { job, output } = await importFile(second, { sourceName: 'boxes-b', update: 'match-and-update' });
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(job.resultSummary).to.equal('1 rows: 1 created, 0 updated, 0 skipped');
      expect(output).to.not.include('Matching description found');
      expect((await bySlug('untitled-box-list')).scopeAndContent).to.equal('The first list');
      expect((await bySlug('untitled-box-list-2')).scopeAndContent).to.equal('Another list');
      // All three given and equal: a match, as before.
      const third = writeCsv('box3.csv', ['legacyId,identifier,title,repository,scopeAndContent', 'Z1,B-7,Box seven,Archives,Seven']);
      await importFile(third, { sourceName: 'boxes-c' });
      const again = writeCsv('box4.csv', ['legacyId,identifier,title,repository,scopeAndContent', 'Z2,B-7,Box seven,Archives,Seven again']);
      const upd = await importFile(again, { sourceName: 'boxes-d', update: 'match-and-update' });
      expect(upd.job.resultSummary).to.equal('1 rows: 0 created, 1 updated, 0 skipped');
      expect((await bySlug('box-seven')).scopeAndContent).to.equal('Seven again');
    });

    it('match-and-update adds notes and access points beside the old ones and moves the record under the parent its row names', async () => {
      const first = writeCsv('notes.csv', [
        'legacyId,parentId,identifier,title,generalNote,subjectAccessPoints,scopeAndContent',
        'A,,A,Fonds A,,,',
        'B,,B,Fonds B,,,',
        'S,A,S,Series S,First note,Ships|Harbours,Old scope',
      ]);
      expect((await importFile(first, { sourceName: 'notes' })).job.status).to.equal('completed');
      const update = writeCsv('notes.csv', [
        'legacyId,parentId,identifier,title,generalNote,subjectAccessPoints,scopeAndContent',
        'S,B,S,Series S,Second note,Harbours|Lighthouses,New scope',
      ]);
      const { job, output } = await importFile(update, { sourceName: 'notes', update: 'match-and-update' });
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(job.resultSummary).to.equal('1 rows: 0 created, 1 updated, 0 skipped');
      const b = await bySlug('fonds-b');
      expect(output).to.include(`updated in place: Series S (moved under ${b.id})`);
      const s = await bySlug('series-s');
      expect(s.lists.generalNote).to.deep.equal(['First note', 'Second note']);
      expect(s.lists.subjectAccessPoints).to.deep.equal(['Ships', 'Harbours', 'Lighthouses']);
      expect(s.scopeAndContent).to.equal('New scope');
      expect(s.parentId).to.equal(b.id);
      expect((await listChildren(ctx.db, (await bySlug('fonds-a')).id)).items).to.deep.equal([]);
    });

    it('keeps a keymap entry per source: a description imported from two files matches from both', async () => {
      const one = writeCsv('one.csv', ['legacyId,identifier,title,repository', 'L1,K-1,Kept twice,Archives']);
      expect((await importFile(one, { sourceName: 'first-source' })).job.status).to.equal('completed');
      const two = writeCsv('two.csv', ['legacyId,identifier,title,repository,scopeAndContent', 'M7,K-1,Kept twice,Archives,From two']);
      expect((await importFile(two, { sourceName: 'second-source', update: 'match-and-update' })).job.resultSummary).to.equal(
        '1 rows: 0 created, 1 updated, 0 skipped',
      );
      const d = await bySlug('kept-twice');
      const keys = (await ctx.db('description_keymap').where({ description_id: d.id }).orderBy('source_name').select('source_name', 'legacy_id')) as Array<{
        source_name: string;
        legacy_id: string;
      }>;
      expect(keys.map((k) => `${k.source_name}:${k.legacy_id}`)).to.deep.equal(['first-source:L1', 'second-source:M7']);
      expect([d.legacyId, d.sourceName]).to.deep.equal(['L1', 'first-source']);
      // Matched by legacyId alone, from either source (identifier and title changed).
      for (const [source, legacyId, scope] of [
        ['first-source', 'L1', 'By the first'],
        ['second-source', 'M7', 'By the second'],
      ]) {
        const f = writeCsv(`${source}.csv`, ['legacyId,identifier,title,scopeAndContent', `${legacyId},K-1b,Renamed,${scope}`]);
        const { job } = await importFile(f, { sourceName: source, update: 'match-and-update', skipUnmatched: true });
        expect(job.resultSummary).to.equal('1 rows: 0 created, 1 updated, 0 skipped');
        expect((await getDescription(ctx.db, d.id))!.scopeAndContent).to.equal(scope);
      }
      expect(await count()).to.equal(1);
    });

    it('--roundtrip matches on the export\'s own ids; --default-parent-slug and --default-legacy-parent-id place rows without a parent; --skip-rows skips the first rows', async () => {
      const base = writeCsv('base.csv', ['legacyId,parentId,title', 'P,,Parent fonds', 'Q,,Other fonds']);
      await importFile(base, { sourceName: 'base' });
      const parent = await bySlug('parent-fonds');
      const other = await bySlug('other-fonds');
      // An export of this instance: legacyId is the description's id.
      const rt = writeCsv('rt.csv', ['legacyId,parentId,title,scopeAndContent', `${parent.id},,Parent fonds,Round trip`, `${other.id + 1000},,Not here,x`]);
      const r1 = await importFile(rt, { update: 'match-and-update', roundtrip: true, skipUnmatched: true });
      expect(r1.job.resultSummary).to.equal('2 rows: 0 created, 1 updated, 1 skipped');
      expect((await getDescription(ctx.db, parent.id))!.scopeAndContent).to.equal('Round trip');

      const under = writeCsv('under.csv', ['legacyId,parentId,title', 'U1,,Placed by slug', 'U2,U1,Below it']);
      expect((await importFile(under, { defaultParentSlug: 'parent-fonds' })).job.status).to.equal('completed');
      expect((await bySlug('placed-by-slug')).parentId).to.equal(parent.id);
      expect((await bySlug('below-it')).parentId).to.equal((await bySlug('placed-by-slug')).id);

      const byLegacy = writeCsv('bylegacy.csv', ['legacyId,parentId,title', 'V1,,Placed by legacyId']);
      expect((await importFile(byLegacy, { sourceName: 'base', defaultLegacyParentId: 'Q' })).job.status).to.equal('completed');
      expect((await bySlug('placed-by-legacyid')).parentId).to.equal(other.id);

      const skip = writeCsv('skip.csv', ['legacyId,parentId,title', 'K1,,Skipped one', 'K2,,Skipped two', 'K3,,Kept three']);
      const s = await importFile(skip, { skipRows: 2 });
      expect(s.job.resultSummary).to.equal('1 rows: 1 created, 0 updated, 0 skipped');
      expect(s.output).to.include('Skipping the first 2 rows of the file (--skip-rows 2).');
      expect(await getDescriptionBySlug(ctx.db, 'skipped-one')).to.equal(null);
      expect((await bySlug('kept-three')).legacyId).to.equal('K3');
    });

    it('refuses bad combinations of the options with a clear reason', async () => {
      const f = writeCsv('opts.csv', ['legacyId,title', '1,A']);
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ roundtrip: true }, '--roundtrip matches rows on their legacyId as a description\'s id, so it needs --update or --skip-matched'],
        [{ defaultParentSlug: 'a', defaultLegacyParentId: 'b' }, 'give --default-parent-slug or --default-legacy-parent-id, not both'],
        [{ defaultParentSlug: 'no-such-slug' }, '--default-parent-slug "no-such-slug" matches no description'],
      ];
      for (const [params, message] of cases) {
        const { job } = await importFile(f, params);
        expect(job.status).to.equal('failed');
        expect(job.error).to.include(message);
      }
      let refused: Error | null = null;
      try {
        await ctx.service.enqueue({ task: 'csv-import', params: { file: f, skipRows: -1 }, origin: 'cli', user: null });
      } catch (err) {
        refused = err as Error;
      }
      expect(refused?.message).to.match(/skipRows/);
      expect(await count()).to.equal(0);
    });

    it('keeps every row not imported, with its reason, as the job\'s CSV, whatever the output cap', async () => {
      const lines = ['legacyId,parentId,qubitParentSlug,title,scopeAndContent'];
      for (let i = 1; i <= 300; i++) {
        if (i === 150) lines.push(`R${i},,no-such-slug,Row ${i},"Kept, with its comma"`);
        else lines.push(`R${i},,,Row ${i},Scope ${i}`);
      }
      const file = writeCsv('many.csv', lines);
      const { job, output } = await importFile(file);
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(job.resultSummary).to.equal('300 rows: 299 created, 0 updated, 1 skipped (1 with errors)');
      // The 4 KB cap cut the report's middle: row 150's line is not in it.
      expect(output).to.not.include('Row 150:');
      expect(job.resultFile).to.be.a('string');
      expect(job.resultName).to.equal('many-not-imported.csv');
      const stored = await ctx.files.get(job.resultFile!);
      const rows = parse(await text(stored.stream)) as string[][];
      expect(rows).to.deep.equal([
        ['importRow', 'importReason', 'legacyId', 'parentId', 'qubitParentSlug', 'title', 'scopeAndContent'],
        ['150', 'qubitParentSlug "no-such-slug" matches no description', 'R150', '', 'no-such-slug', 'Row 150', 'Kept, with its comma'],
      ]);
      // Kept with the job (an attempt run again after this one makes the same file), removed with it.
      expect((await ctx.db('import_rejects').where({ job_id: job.id }).select('row_number')).map((r: { row_number: number }) => Number(r.row_number))).to.deep.equal([150]);
      // Corrected, the file imports again: the two columns of ours are ignored.
      const fixed = writeCsv('fixed.csv', [
        'importRow,importReason,legacyId,parentId,qubitParentSlug,title,scopeAndContent',
        `150,fixed,R150,,row-1,Row 150,"Kept, with its comma"`,
      ]);
      const again = await importFile(fixed);
      expect(again.job.resultSummary).to.equal('1 rows: 1 created, 0 updated, 0 skipped; 2 unknown columns ignored');
      expect((await bySlug('row-150')).parentId).to.equal((await bySlug('row-1')).id);
    });

    it('removes a failed import\'s checkpoint and rows not imported when the job is discarded', async () => {
      const f = writeCsv('fail.csv', ['legacyId,title', '1,A']);
      const { job } = await importFile(f, { roundtrip: true });
      expect(job.status).to.equal('failed');
      await ctx.db('import_checkpoints').insert({ job_id: job.id, last_row: 1, state: '{}', updated_at: Date.now() });
      await ctx.db('import_rejects').insert({ job_id: job.id, row_number: 1, reason: 'test', cells: '[]' });
      await ctx.service.cleanup.discard(job.id);
      expect(await ctx.db('import_checkpoints').where({ job_id: job.id }).first()).to.equal(undefined);
      expect(await ctx.db('import_rejects').where({ job_id: job.id }).first()).to.equal(undefined);
    });

    it('never makes a loop from two moves at once ("A under B" and "B under A")', async () => {
      const f = writeCsv('loop.csv', ['legacyId,title', 'A,Loop A', 'B,Loop B']);
      await importFile(f);
      const a = await bySlug('loop-a');
      const b = await bySlug('loop-b');
      for (let round = 0; round < 5; round++) {
        await ctx.db('descriptions').whereIn('id', [a.id, b.id]).update({ parent_id: null });
        const results = await Promise.allSettled([moveDescription(ctx.db, a.id, b.id), moveDescription(ctx.db, b.id, a.id)]);
        const moved = results.filter((r) => r.status === 'fulfilled').length;
        expect(moved, JSON.stringify(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')))).to.equal(1);
        const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(String(refused.reason)).to.match(/cannot move .* one of its own descendants/);
        const pa = (await getDescription(ctx.db, a.id))!.parentId;
        const pb = (await getDescription(ctx.db, b.id))!.parentId;
        expect(pa === b.id && pb === a.id).to.equal(false);
      }
    });

    it('imports the same file twice at once: every row of both, each with a slug of its own', async function () {
      this.timeout(300_000);
      await worker.stop(5000);
      const two = new Worker(ctx.service, ctx.transport, { concurrency: 2 });
      await two.start();
      try {
        const lines = ['legacyId,parentId,title'];
        for (let i = 1; i <= 400; i++) lines.push(`${i},,Letter`);
        const file = writeCsv('same.csv', lines);
        const jobs = await Promise.all(
          ['first', 'second'].map(async (sourceName) => (await ctx.service.enqueue({ task: 'csv-import', params: { file, sourceName }, origin: 'cli', user: null })).job),
        );
        const done = await Promise.all(jobs.map((j) => waitFor(j.id)));
        for (const j of done) {
          expect(j.status, j.error ?? '').to.equal('completed');
          expect(j.resultSummary).to.equal('400 rows: 400 created, 0 updated, 0 skipped');
        }
        expect(await count()).to.equal(800);
        const slugs = (await ctx.db('descriptions').countDistinct({ n: 'slug' }).first()) as { n: number | string };
        expect(Number(slugs.n)).to.equal(800);
      } finally {
        await two.stop(5000);
        worker = new Worker(ctx.service, ctx.transport, { concurrency: 1 });
        await worker.start();
      }
    });

    it('tells a slug taken by another writer apart from other errors', async () => {
      await importFile(writeCsv('slug.csv', ['legacyId,title', '1,Taken']));
      let err: unknown = null;
      try {
        await ctx.db('descriptions').insert({ slug: 'taken', position: 1, created_at: 0, updated_at: 0 });
      } catch (e) {
        err = e;
      }
      expect(isSlugCollision(err)).to.equal(true);
      expect(isSlugCollision(new Error('UNIQUE constraint failed: jobs.unique_key'))).to.equal(false);
    });
  });
}
