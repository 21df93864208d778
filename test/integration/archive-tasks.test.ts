/**
 * The archival tasks, run for real: a worker with child processes, jobs enqueued as the
 * CLI and the web do, results checked in the database and in the files (read back with
 * pdftotext and unrtf, real readers).
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { EXPORT_COLUMNS } from '../../app/archive/csv-columns.js';
import { walkTree } from '../../app/archive/description-tree.js';
import { getDescription, getDescriptionBySlug, listChildren } from '../../app/archive/descriptions.js';
import { isRepeatable } from '../../app/archive/repeatable.js';
import type { Description } from '../../app/archive/types.js';
import type { Context } from '../../app/context.js';
import { getJob, readOutput } from '../../app/store/jobs.js';
import { createUser } from '../../app/store/users.js';
import type { Job } from '../../app/types.js';
import { Worker } from '../../workers/worker.js';
import { backends, exportEnv, makeTestEnv, REQUIRE_SERVICES, requireService, type TestEnv, waitUntil, jobEnded } from '../helpers.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'atom');
const IMPORT_ORDER = join(FIXTURES, 'import_order.csv');
const ISAD_EXAMPLE = join(FIXTURES, 'example_information_objects_isad.csv');

function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Text of a PDF or RTF as a real reader sees it; null (test skipped) if the reader is missing. */
function readBack(ctx: Mocha.Context, format: 'pdf' | 'rtf' | 'rtf-html', path: string): string {
  const tool = format === 'pdf' ? 'pdftotext' : 'unrtf';
  if (!hasTool(tool)) {
    if (REQUIRE_SERVICES) throw new Error(`${tool} is required (DOCKET_TEST_REQUIRE_SERVICES=1) but not installed`);
    // Without the reader the file cannot be checked for content: skip, saying why.
    ctx.skip();
  }
  // unrtf's text mode writes ASCII only ("?" for the rest); its HTML mode writes entities.
  const args = format === 'pdf' ? ['-layout', path, '-'] : [format === 'rtf' ? '--text' : '--html', path];
  // Readers break lines where they like; collapse whitespace.
  return execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).replace(/\s+/g, ' ');
}

async function outputOf(ctx: Context, id: number): Promise<string> {
  let text = '';
  let after = 0;
  for (;;) {
    const chunks = await readOutput(ctx.db, id, after, 1000);
    for (const c of chunks) text += c.text;
    if (chunks.length < 1000) return text;
    after = chunks[chunks.length - 1].id;
  }
}

/** The tree under a description, one line per description: indentation, identifier, title, level. */
async function outline(ctx: Context, root: Description): Promise<string[]> {
  const lines: string[] = [];
  for await (const { description: d, depth } of walkTree(ctx.db, root)) {
    lines.push(`${'  '.repeat(depth)}${d.identifier ?? ''} ${d.title ?? ''} [${d.levelOfDescription ?? ''}]`);
  }
  return lines;
}

async function topLevel(ctx: Context): Promise<Description[]> {
  return (await listChildren(ctx.db, null, { limit: 1000 })).items;
}

async function count(ctx: Context): Promise<number> {
  const r = (await ctx.db('descriptions').count({ n: '*' }).first()) as { n: number | string };
  return Number(r.n);
}

// Archival tasks need a database, not a particular transport: one run per database.
const seen = new Set<string>();
const targets = backends().filter((b) => !seen.has(b.db) && seen.add(b.db));

for (const backend of targets) {
  describe(`archival tasks on ${backend.name}`, function () {
    this.timeout(60_000);
    let env: TestEnv;
    let ctx: Context;
    let worker: Worker;
    let tmp: string;
    let restoreEnv: (() => void) | undefined;

    /** Runs a task to its end as the CLI would (or as a web user); returns the job and its output. */
    async function run(
      task: string,
      params: Record<string, unknown>,
      as: { origin?: 'cli' | 'web'; userId?: number } = {},
    ): Promise<{ job: Job; output: string }> {
      const user = as.userId ? { id: as.userId, username: 'archivist1', role: 'archivist' as const } : null;
      const { job } = await ctx.service.enqueue({ task, params, origin: as.origin ?? 'cli', user });
      const done = await jobEnded(ctx.db, job.id, 50_000);
      return { job: done, output: await outputOf(ctx, job.id) };
    }

    /** A job's result, copied out of the file store into a file of its own (readers want a path). */
    async function storedCopy(job: Job): Promise<string> {
      const file = await ctx.files.get(job.resultFile!);
      const path = join(env.config.resultsDir, '..', `copy-${job.id}-${file.name}`);
      await pipeline(file.stream, createWriteStream(path));
      return path;
    }

    async function importFile(file: string, extra: Record<string, unknown> = {}) {
      return run('csv-import', { file, ...extra });
    }

    function writeCsv(name: string, text: string | Buffer): string {
      const path = join(tmp, name);
      writeFileSync(path, text);
      return path;
    }

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      env = await makeTestEnv(backend);
      // The worker's children open the database from their environment (see the report
      // on child processes): give them this test's database.
      restoreEnv = exportEnv(env.env, ['DATABASE_URL', 'DOCKET_RESULTS_DIR', 'DOCKET_JOB_LOG_DIR']);
      ctx = await env.context();
      tmp = join(env.config.resultsDir, '..', 'csv');
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
      // Children first would need an order; detaching everything first is simpler.
      await ctx.db('descriptions').update({ parent_id: null });
      await ctx.db('descriptions').del();
    });

    describe('csv-import', () => {
      it("imports AtoM's import_order.csv as one fonds with its series and items, in order", async () => {
        const { job, output } = await importFile(IMPORT_ORDER);
        expect(job.status, job.error ?? '').to.equal('completed');
        expect(await count(ctx)).to.equal(34);
        const tops = await topLevel(ctx);
        expect(tops.map((d) => d.title)).to.deep.equal(['CSV import order fonds']);
        const fonds = tops[0];
        expect(fonds.slug).to.equal('csv-import-order-fonds');
        expect(fonds.legacyId).to.equal('1');
        expect(fonds.sourceName).to.equal('import_order.csv');
        expect(job.objectRef).to.equal(`description:${fonds.id}`);
        const lines = await outline(ctx, fonds);
        const expected = [
          'F1 CSV import order fonds [Fonds]',
          '  SA Series A [Series]',
          ...Array.from({ length: 15 }, (_, i) => `    I${String(i + 1).padStart(2, '0')} SA Item ${i + 1} [Item]`),
          '  SB Series B [Series]',
          ...Array.from({ length: 10 }, (_, i) => `    I${String(i + 1).padStart(2, '0')} SB Item ${i + 1} [Item]`),
          '  SC Series C [Series]',
          ...Array.from({ length: 5 }, (_, i) => `    I${String(i + 1).padStart(2, '0')} SC Item ${i + 1} [Item]`),
        ];
        expect(lines).to.deep.equal(expected);
        expect(output).to.include('Row 1: Created description');
        expect(output).to.include('Import finished: 34 rows read; 34 created, 0 updated, 0 skipped.');
        expect(job.resultSummary).to.equal('34 rows: 34 created, 0 updated, 0 skipped');
        // Same titles under different series still get unique slugs.
        expect((await getDescriptionBySlug(ctx.db, 'sa-item-1'))?.title).to.equal('SA Item 1');
        expect(await getDescriptionBySlug(ctx.db, 'series-b')).to.not.equal(null);
      });

      it("imports AtoM's ISAD example with every field it carries", async () => {
        const { job } = await importFile(ISAD_EXAMPLE);
        expect(job.status, job.error ?? '').to.equal('completed');
        expect(await count(ctx)).to.equal(2);
        const fonds = (await getDescriptionBySlug(ctx.db, 'example-fonds'))!;
        expect(fonds.parentId).to.equal(null);
        expect(fonds.identifier).to.equal('F1');
        expect(fonds.levelOfDescription).to.equal('Fonds');
        expect(fonds.extentAndMedium).to.equal('Example fonds Extent and medium (ISAD 3.1.5)');
        expect(fonds.repository).to.equal('Example Repository');
        expect(fonds.scopeAndContent).to.equal('Example fonds Scope and content (ISAD 3.3.1)');
        expect(fonds.publicationStatus).to.equal('published');
        // One object per event, its type, dates and actor together.
        expect(fonds.events.map((e) => [e.type, e.date, e.startDate, e.endDate, e.actor])).to.deep.equal([
          ['Creation', 'January 1, 2015 - December 31, 2016', '2015-01-01', '2016-12-31', 'Creator (ISAD 3.2.1)'],
          ['Accumulation', '2016', '2016-00-00', '2016-00-00', 'Accumulator (ISAD 3.2.1)'],
        ]);
        expect(fonds.culture).to.equal('en');
        expect(fonds.extra.archivalHistory).to.equal('Example fonds Archival history (ISAD 3.2.3)');
        expect(fonds.extra.appraisal).to.equal('Example fonds Appraisal, destruction and scheduling (ISAD 3.3.2)');
        expect(fonds.lists.language).to.deep.equal(['en', 'fr']);
        expect(fonds.lists.subjectAccessPoints).to.deep.equal(['Subject access point 1', 'Subject access point 2']);
        expect(fonds.extra.digitalObjectURI).to.equal(
          'https://graphics.stanford.edu/courses/cs348b-competition/cs348b-92/newman.monitor.jpg',
        );
        expect(fonds.extra.descriptionStatus).to.equal('Draft');
        const [item] = (await listChildren(ctx.db, fonds.id)).items;
        expect(item.title).to.equal('Example Item');
        expect(item.identifier).to.equal('IT-1');
        expect(item.levelOfDescription).to.equal('Item');
        expect(item.publicationStatus).to.equal('draft');
        expect(item.events.map((e) => e.date)).to.deep.equal(['January 2015 - December 2016']);
        expect(item.lists.genreAccessPoints).to.deep.equal(['Textual record']);
        expect(item.extra.physicalObjectType).to.equal('Box');
      });

      it('match and update: updates the matched rows in place, leaving blank cells alone', async () => {
        await importFile(IMPORT_ORDER);
        const before = (await getDescriptionBySlug(ctx.db, 'series-b'))!;
        const edited = readFileSync(IMPORT_ORDER, 'utf8')
          .replace('18,1,SB,Series B,Series', '18,1,SB,Series B (revised),Series')
          .replace('19,18,I01,SB Item 1,Item', '19,18,,SB Item 1,Item');
        const file = writeCsv('import_order.csv', edited);
        const { job, output } = await importFile(file, { update: 'match-and-update' });
        expect(job.status, job.error ?? '').to.equal('completed');
        expect(await count(ctx)).to.equal(34);
        expect(output).to.include('Import finished: 34 rows read; 0 created, 34 updated, 0 skipped.');
        expect(output).to.match(/Row 18: Matching description found \(id \d+, series-b\); updated in place: Series B \(revised\)/);
        const after = (await getDescription(ctx.db, before.id))!;
        expect(after.title).to.equal('Series B (revised)');
        // The slug stays, and so does the identifier the CSV left blank.
        expect(after.slug).to.equal('series-b');
        expect((await getDescriptionBySlug(ctx.db, 'sb-item-1'))!.identifier).to.equal('I01');
      });

      it('delete and replace: the row replaces every field, blank cells clear them; id, slug and children stay', async () => {
        await importFile(IMPORT_ORDER);
        const series = (await getDescriptionBySlug(ctx.db, 'series-a'))!;
        const file = writeCsv(
          'import_order.csv',
          'legacyId,parentId,identifier,title,levelOfDescription,scopeAndContent\n2,1,,Series A replaced,Series,New scope\n',
        );
        const { job, output } = await importFile(file, { update: 'delete-and-replace' });
        expect(job.status, job.error ?? '').to.equal('completed');
        expect(output).to.include('replaced (delete and replace): Series A replaced');
        const after = (await getDescription(ctx.db, series.id))!;
        expect(after.title).to.equal('Series A replaced');
        expect(after.identifier).to.equal(null);
        expect(after.scopeAndContent).to.equal('New scope');
        expect(after.slug).to.equal('series-a');
        expect((await listChildren(ctx.db, series.id, { limit: 100 })).items).to.have.length(15);
        expect(await count(ctx)).to.equal(34);
      });

      it('skip matched: importing the same file again as new skips every row; new rows attach to imported parents', async () => {
        await importFile(IMPORT_ORDER);
        const more = `${readFileSync(IMPORT_ORDER, 'utf8')}35,2,I16,SA Item 16,Item\n`;
        const file = writeCsv('import_order.csv', more);
        const { job, output } = await importFile(file, { skipMatched: true });
        expect(job.status, job.error ?? '').to.equal('completed');
        expect(output).to.match(/Row 1: Matching description found \(id \d+, csv-import-order-fonds\)\. Skipping record: CSV import order fonds/);
        expect(output).to.include('Import finished: 35 rows read; 1 created, 0 updated, 34 skipped.');
        expect(output).to.include('Skipped: 34 matching an existing description, 0 matching none, 0 with errors.');
        const item = (await getDescriptionBySlug(ctx.db, 'sa-item-16'))!;
        const series = (await getDescriptionBySlug(ctx.db, 'series-a'))!;
        expect(item.parentId).to.equal(series.id);
        const last = (await listChildren(ctx.db, series.id, { limit: 100 })).items.pop()!;
        expect(last.id).to.equal(item.id);
      });

      it('import as new without skip-matched makes a second copy', async () => {
        await importFile(IMPORT_ORDER);
        const { job } = await importFile(IMPORT_ORDER);
        expect(job.status).to.equal('completed');
        expect(await count(ctx)).to.equal(68);
        const tops = await topLevel(ctx);
        expect(tops.map((d) => d.slug)).to.deep.equal(['csv-import-order-fonds', 'csv-import-order-fonds-2']);
        expect(await outline(ctx, tops[1])).to.deep.equal(await outline(ctx, tops[0]));
      });

      it('skip unmatched: rows matching nothing are skipped with AtoM\'s message', async () => {
        await importFile(IMPORT_ORDER);
        const file = writeCsv(
          'import_order.csv',
          'legacyId,parentId,identifier,title,levelOfDescription\n3,2,I01,SA Item 1 (updated),Item\n100,2,X9,Stray item,Item\n',
        );
        const { job, output } = await importFile(file, { update: 'match-and-update', skipUnmatched: true });
        expect(job.status, job.error ?? '').to.equal('completed');
        expect(output).to.include('Row 2: Unable to match row. Skipping record: Stray item (id: X9)');
        expect(output).to.include('Import finished: 2 rows read; 0 created, 1 updated, 1 skipped.');
        expect(await getDescriptionBySlug(ctx.db, 'stray-item')).to.equal(null);
        expect((await getDescriptionBySlug(ctx.db, 'sa-item-1'))!.title).to.equal('SA Item 1 (updated)');
        // Without --skip-unmatched the unmatched row is imported as new.
        const again = await importFile(file, { update: 'match-and-update' });
        expect(again.output).to.include('1 created, 1 updated, 0 skipped');
        expect((await getDescriptionBySlug(ctx.db, 'stray-item'))!.parentId).to.equal(
          (await getDescriptionBySlug(ctx.db, 'series-a'))!.id,
        );
      });

      it('limit: matches only under the given top-level description or repository', async () => {
        await importFile(ISAD_EXAMPLE);
        const fonds = (await getDescriptionBySlug(ctx.db, 'example-fonds'))!;
        await importFile(IMPORT_ORDER);
        // Match on identifier + title + repository (a new source name: no keymap match).
        const csv =
          'identifier,title,repository,scopeAndContent\nIT-1,Example Item,Example Repository,Limited update\n';
        const outside = await importFile(writeCsv('other.csv', csv), {
          update: 'match-and-update',
          skipUnmatched: true,
          limit: 'csv-import-order-fonds',
        });
        expect(outside.job.status, outside.job.error ?? '').to.equal('completed');
        expect(outside.output).to.include('Row 1: Unable to match row. Skipping record: Example Item (id: IT-1)');
        const inside = await importFile(writeCsv('other.csv', csv), {
          update: 'match-and-update',
          skipUnmatched: true,
          limit: fonds.slug,
        });
        expect(inside.output).to.include('0 created, 1 updated, 0 skipped');
        const byRepo = await importFile(writeCsv('other.csv', csv.replace('Limited update', 'By repository')), {
          update: 'match-and-update',
          skipUnmatched: true,
          limit: 'example-repository',
        });
        expect(byRepo.output).to.include('0 created, 1 updated, 0 skipped');
        const [item] = (await listChildren(ctx.db, fonds.id)).items;
        expect(item.scopeAndContent).to.equal('By repository');
        const nowhere = await importFile(writeCsv('other.csv', csv), { update: 'match-and-update', limit: 'no-such-thing' });
        expect(nowhere.job.status).to.equal('failed');
        expect(nowhere.job.error).to.include('--limit "no-such-thing" matches no top-level description');
      });

      it('with --strict, rejects a file with unknown columns, naming them, and writes nothing', async () => {
        const file = writeCsv('bad-header.csv', 'legacyId,titel,levelOfDescription,fooBar\n1,A,Fonds,x\n');
        const { job } = await importFile(file, { strict: true });
        expect(job.status).to.equal('failed');
        expect(job.error).to.include('columns this import does not know: "titel", "fooBar"');
        expect(job.attempt).to.equal(1);
        expect(await count(ctx)).to.equal(0);
      });

      it('skips bad rows with a line each, and the rows below them, and says the hierarchy is incomplete', async () => {
        // As AtoM (csvImportTask, QubitFlatfileImport): a parentId matching nothing puts
        // the row at the top level with a warning; a long row's extra cell is ignored;
        // a qubitParentSlug matching nothing skips the row and its branch.
        const file = writeCsv(
          'bad-rows.csv',
          [
            'legacyId,parentId,qubitParentSlug,identifier,title,levelOfDescription',
            '1,,,F1,Good fonds,Fonds',
            '2,1,,S1,Good series,Series',
            '3,99,,S2,Orphan series,Series',
            '4,3,,I1,Child of orphan,Item',
            '5,2,,I2,Too many fields,Item,extra',
            '6,2,,I3,Good item,Item',
            '7,,no-such-slug,S3,Lost series,Series',
            '8,7,,I4,Child of lost,Item',
            '',
          ].join('\n'),
        );
        const { job, output } = await importFile(file);
        expect(job.status, job.error ?? '').to.equal('completed');
        expect(output).to.include(
          'Row 3: Warning: parentId "99" matches no earlier row of this file (legacyId) and no description imported from "bad-rows.csv" nor any description\'s id; imported at the top level',
        );
        expect(output).to.include('Row 5: Warning: has 7 fields where the header has 6; the extra field was ignored (1 not blank)');
        expect(output).to.include('Row 7: qubitParentSlug "no-such-slug" matches no description. Skipping record: Lost series');
        expect(output).to.include('Row 8: its parent (the row with legacyId "7") was skipped. Skipping record: Child of lost');
        expect(output).to.include('Import finished: 8 rows read; 6 created, 0 updated, 2 skipped.');
        expect(output).to.include('Warning: 2 rows were not imported because of errors');
        expect(output).to.include('the imported hierarchy is incomplete');
        expect(job.resultSummary).to.equal('8 rows: 6 created, 0 updated, 2 skipped (2 with errors)');
        const fonds = (await getDescriptionBySlug(ctx.db, 'good-fonds'))!;
        expect(await outline(ctx, fonds)).to.deep.equal([
          'F1 Good fonds [Fonds]',
          '  S1 Good series [Series]',
          '    I2 Too many fields [Item]',
          '    I3 Good item [Item]',
        ]);
        const orphan = (await getDescriptionBySlug(ctx.db, 'orphan-series'))!;
        expect(await outline(ctx, orphan)).to.deep.equal(['S2 Orphan series [Series]', '  I1 Child of orphan [Item]']);
        expect(orphan.parentId).to.equal(null);
      });

      it('with --on-error fail, a bad file fails before anything is written', async () => {
        const file = writeCsv(
          'bad-rows.csv',
          'legacyId,parentId,identifier,title,levelOfDescription\n1,,F1,Good fonds,Fonds\n3,99,S2,Orphan series,Series\n4,,X,Bad slug parent,Item\n',
        );
        const withSlug = file.replace('bad-rows.csv', 'bad-slug.csv');
        writeFileSync(
          withSlug,
          'legacyId,qubitParentSlug,title\n1,no-such-slug,Lost\n2,,Fine\n',
        );
        const { job } = await importFile(file, { onError: 'fail' });
        expect(job.status).to.equal('failed');
        expect(job.error).to.include('nothing was written');
        expect(job.error).to.include('row 2: parentId "99" matches no earlier row');
        expect(await count(ctx)).to.equal(0);
        const slugJob = await importFile(withSlug, { onError: 'fail' });
        expect(slugJob.job.error).to.include('row 1: qubitParentSlug "no-such-slug" matches no description');
        // Rows of another width are no error, as in AtoM: padded or cut, with a warning.
        const widths = writeCsv('widths.csv', 'legacyId,title\n1,A\n2,B,C\n3\n');
        const w = await importFile(widths, { onError: 'fail' });
        expect(w.job.status, w.job.error ?? '').to.equal('completed');
        expect(await count(ctx)).to.equal(3);
      });

      it('fails a file that is not UTF-8, saying where, before writing anything', async () => {
        const latin1 = Buffer.concat([
          Buffer.from('legacyId,title\n1,Good\n2,Caf'),
          Buffer.from([0xe9]),
          Buffer.from(' du port\n'),
        ]);
        const { job } = await importFile(writeCsv('latin1.csv', latin1));
        expect(job.status).to.equal('failed');
        expect(job.error).to.include('not valid UTF-8');
        expect(job.error).to.include('line 3');
        expect(await count(ctx)).to.equal(0);
      });

      it('resolves qubitParentSlug against existing descriptions', async () => {
        await importFile(IMPORT_ORDER);
        const file = writeCsv('extra.csv', 'legacyId,qubitParentSlug,identifier,title,levelOfDescription\n1,series-c,I06,SC Item 6,Item\n');
        const { job } = await importFile(file);
        expect(job.status, job.error ?? '').to.equal('completed');
        const item = (await getDescriptionBySlug(ctx.db, 'sc-item-6'))!;
        expect(item.parentId).to.equal((await getDescriptionBySlug(ctx.db, 'series-c'))!.id);
        // The job points at what it made (no top-level description here: the item).
        expect(job.objectRef).to.equal(`description:${item.id}`);
      });

      it('refuses a server path, or somebody else\'s stored upload, for a job from the web', async () => {
        const user = await createUser(ctx.db, `archivist${Date.now()}`, 'a-long-password', 'archivist');
        const other = await ctx.files.put(Readable.from([readFileSync(IMPORT_ORDER)]), { jobId: null, kind: 'upload', name: 'x.csv', contentType: 'text/csv', maxBytes: 1e9 });
        for (const file of [IMPORT_ORDER, other.id]) {
          const refused = await run('csv-import', { file }, { origin: 'web', userId: user.id }).then(
            () => null,
            (err: Error) => err.message,
          );
          expect(refused).to.include('"file" is a file: send it as the "file" part of a multipart/form-data request');
        }
        expect(await count(ctx)).to.equal(0);
        await ctx.files.delete(other.id);
      });

      it('refuses option combinations that mean nothing', async () => {
        const a = await importFile(IMPORT_ORDER, { update: 'match-and-update', skipMatched: true });
        expect(a.job.error).to.include('--skip-matched applies only when importing as new');
        const b = await importFile(IMPORT_ORDER, { skipUnmatched: true });
        expect(b.job.error).to.include('--skip-unmatched applies only with --update');
        expect(await count(ctx)).to.equal(0);
      });
    });

    describe('csv-export', () => {
      it('exports a fonds in the import columns, and re-importing it as new rebuilds the hierarchy', async () => {
        await importFile(IMPORT_ORDER);
        const fonds = (await getDescriptionBySlug(ctx.db, 'csv-import-order-fonds'))!;
        const { job, output } = await run('csv-export', { description: fonds.slug });
        expect(job.status, job.error ?? '').to.equal('completed');
        expect(job.resultName).to.equal('csv-import-order-fonds.csv');
        expect(job.resultFile).to.match(/^f[0-9a-f]{32}$/);
        expect(output).to.include('Exported 34 descriptions');
        const path = await storedCopy(job);
        const rows = parse(readFileSync(path), { columns: false }) as string[][];
        expect(rows[0]).to.deep.equal([...EXPORT_COLUMNS]);
        expect(rows).to.have.length(35);
        const col = (name: string) => EXPORT_COLUMNS.indexOf(name);
        expect(rows[1][col('title')]).to.equal('CSV import order fonds');
        expect(rows[1][col('parentId')]).to.equal('');
        expect(rows[2][col('title')]).to.equal('Series A');
        expect(rows[2][col('parentId')]).to.equal(String(fonds.id));

        const again = await importFile(path);
        expect(again.job.status, again.job.error ?? '').to.equal('completed');
        const draftOnly = await run('csv-export', { description: fonds.slug, public: true });
        expect(draftOnly.job.status).to.equal('failed');
        expect(draftOnly.job.error).to.include('is a draft: an export of published descriptions only would be empty');
        const copy = (await getDescriptionBySlug(ctx.db, 'csv-import-order-fonds-2'))!;
        expect(copy.parentId).to.equal(null);
        expect(await outline(ctx, copy)).to.deep.equal(await outline(ctx, fonds));
      });

      it('round-trips every ISAD field of the AtoM example', async () => {
        await importFile(ISAD_EXAMPLE);
        const fonds = (await getDescriptionBySlug(ctx.db, 'example-fonds'))!;
        const { job } = await run('csv-export', { description: String(fonds.id) });
        const path = await storedCopy(job);
        // The export writes AtoM's `a|b` cells back from the lists, events and identifier
        // pairs: the file's own cells (a cell of AtoM's NULL, its "no value", comes back blank).
        const source = parse(readFileSync(ISAD_EXAMPLE), { columns: true }) as Array<Record<string, string>>;
        const exported = parse(readFileSync(path), { columns: true }) as Array<Record<string, string>>;
        expect(exported).to.have.length(source.length);
        for (const [i, row] of exported.entries()) {
          for (const c of Object.keys(row).filter(isRepeatable)) {
            const cell = source[i][c] ?? '';
            expect(row[c], `row ${i + 1}, ${c}`).to.equal(cell === 'NULL' ? '' : cell);
          }
        }
        await importFile(path);
        const copy = (await getDescriptionBySlug(ctx.db, 'example-fonds-2'))!;
        const strip = (d: Description) => ({
          identifier: d.identifier,
          title: d.title,
          level: d.levelOfDescription,
          extent: d.extentAndMedium,
          scope: d.scopeAndContent,
          repository: d.repository,
          events: d.events,
          alternativeIdentifiers: d.alternativeIdentifiers,
          lists: d.lists,
          status: d.publicationStatus,
          culture: d.culture,
          extra: d.extra,
        });
        expect(strip(copy)).to.deep.equal(strip(fonds));
        const [item] = (await listChildren(ctx.db, fonds.id)).items;
        const [itemCopy] = (await listChildren(ctx.db, copy.id)).items;
        expect(strip(itemCopy)).to.deep.equal(strip(item));
      });
    });

    describe('finding-aid', () => {
      for (const format of ['pdf', 'rtf'] as const) {
        for (const model of ['inventory-summary', 'full-details'] as const) {
          it(`generates a ${format.toUpperCase()} ${model} that a reader opens, with the titles in it`, async function () {
            await importFile(IMPORT_ORDER);
            const fonds = (await getDescriptionBySlug(ctx.db, 'csv-import-order-fonds'))!;
            // A full finding aid: the imported descriptions are drafts.
            const { job, output } = await run('finding-aid', { description: String(fonds.id), format, model, public: false });
            expect(job.status, job.error ?? '').to.equal('completed');
            expect(job.resultName).to.equal(`csv-import-order-fonds.${format}`);
            expect(output).to.include('Wrote 34 descriptions');
            const d = (await getDescription(ctx.db, fonds.id))!;
            expect(d.findingAidStatus).to.equal('generated');
            expect(d.findingAidJobId).to.equal(job.id);
            expect(d.findingAidFile).to.equal(job.resultFile);
            const path = await storedCopy(job);
            const head = readFileSync(path).subarray(0, 5).toString('latin1');
            expect(head).to.equal(format === 'pdf' ? '%PDF-' : '{\\rtf');
            const text = readBack(this, format, path);
            for (const title of ['CSV import order fonds', 'Series A', 'Series C', 'SA Item 15', 'SB Item 10', 'SC Item 5']) {
              expect(text).to.include(title);
            }
            expect(text).to.include(model === 'full-details' ? 'Full details' : 'Inventory summary');
            if (model === 'inventory-summary') expect(text).to.include('Reference code');
            // Reference codes join the identifiers from the top down.
            expect(text).to.include('F1-SB-I10');
          });
        }
      }

      it('escapes RTF control characters and writes non-ASCII text that unrtf reads back', async function () {
        const file = writeCsv(
          'unicode.csv',
          'legacyId,parentId,identifier,title,levelOfDescription,scopeAndContent\n' +
            '1,,Ω1,"Fonds {brace} \\ back, Café Œuvre",Fonds,"Line one\nLine two — ünïcödé"\n' +
            '2,1,S1,Série Ärger,Series,\n',
        );
        await importFile(file);
        const fonds = (await getDescriptionBySlug(ctx.db, 'fonds-brace-back-cafe-oeuvre'))!;
        expect(fonds, 'the slug drops accents and punctuation').to.not.equal(null);
        const { job } = await run('finding-aid', { description: fonds.slug, format: 'rtf', model: 'full-details', public: false });
        expect(job.status, job.error ?? '').to.equal('completed');
        const path = await storedCopy(job);
        const raw = readFileSync(path, 'latin1');
        expect(raw).to.include("Fonds \\{brace\\} \\\\ back, Caf\\u233\\'e9 \\u338\\'8cuvre");
        expect(readBack(this, 'rtf', path)).to.include('Fonds {brace} \\ back');
        const html = readBack(this, 'rtf-html', path);
        expect(html).to.include('Caf&eacute; &OElig;uvre');
        expect(html).to.include('S&eacute;rie &Auml;rger');
        expect(html).to.include('Line one<br> Line two &mdash; &uuml;n&iuml;c&ouml;d&eacute;');
        const pdf = await run('finding-aid', { description: fonds.slug, format: 'pdf', model: 'full-details', public: false });
        const pdfText = readBack(this, 'pdf', await storedCopy(pdf.job));
        expect(pdfText).to.include('Café Œuvre');
        expect(pdfText).to.include('Série Ärger');
        // Outside Windows-1252: set in the TrueType font (the test machines have one).
        expect(pdfText).to.include('Ω1');
      });

      it('a public finding aid leaves out drafts and everything below them', async function () {
        await importFile(IMPORT_ORDER);
        const fonds = (await getDescriptionBySlug(ctx.db, 'csv-import-order-fonds'))!;
        await run('publication-status', { description: fonds.slug, status: 'published', descendants: true });
        await run('publication-status', { description: 'series-b', status: 'draft' });
        await run('publication-status', { description: 'sa-item-3', status: 'draft' });
        for (const format of ['pdf', 'rtf'] as const) {
          const { job, output } = await run('finding-aid', { description: fonds.slug, format, public: true });
          expect(job.status, job.error ?? '').to.equal('completed');
          expect(output).to.include('Wrote 22 descriptions');
          const text = readBack(this, format, await storedCopy(job));
          expect(text).to.include('Series A');
          expect(text).to.include('SA Item 15');
          expect(text).to.not.include('Series B');
          expect(text).to.not.include('SB Item');
          expect(text).to.not.include('SA Item 3');
          expect(text).to.include('Public: published descriptions only');
        }
        // The full one includes everything.
        const priv = await run('finding-aid', { description: fonds.slug, format: 'rtf', public: false });
        expect(readBack(this, 'rtf', await storedCopy(priv.job))).to.include('SB Item 7');
      });

      it('writes the public finding aid of a draft top level without its drafts, and refuses one of a lower level', async function () {
        await importFile(IMPORT_ORDER);
        await run('publication-status', { description: 'series-a', status: 'published', descendants: true });
        const draft = await run('finding-aid', { description: 'csv-import-order-fonds', format: 'rtf' });
        expect(draft.job.status, draft.job.error ?? '').to.equal('completed');
        expect(draft.output).to.include('the description is a draft, its published lower levels are included');
        const text = readBack(this, 'rtf', await storedCopy(draft.job));
        expect(text).to.include('CSV import order fonds');
        // Series A was published with its items; series B and C are drafts.
        expect(text).to.include('SA Item 15');
        expect(text).to.not.include('Series B');
        const lower = await run('finding-aid', { description: 'series-a' });
        expect(lower.job.status).to.equal('failed');
        expect(lower.job.error).to.include('is not a top-level description');
        expect(lower.job.attempt).to.equal(1);
      });

      it('two requests for the same finding aid share one job; another format is another job', async () => {
        await importFile(IMPORT_ORDER);
        const fonds = (await getDescriptionBySlug(ctx.db, 'csv-import-order-fonds'))!;
        const a = await ctx.service.enqueue({ task: 'finding-aid', params: { description: String(fonds.id) }, origin: 'cli' });
        // By slug: the same description, so the same job.
        const b = await ctx.service.enqueue({ task: 'finding-aid', params: { description: fonds.slug, format: 'pdf' }, origin: 'cli' });
        expect(b.joined).to.equal(true);
        expect(b.job.id).to.equal(a.job.id);
        const rtf = await ctx.service.enqueue({
          task: 'finding-aid',
          params: { description: String(fonds.id), format: 'rtf' },
          origin: 'cli',
        });
        expect(rtf.joined).to.equal(false);
        expect(rtf.job.id).to.not.equal(a.job.id);
        for (const id of [a.job.id, rtf.job.id]) {
          await waitUntil(async () => (await getJob(ctx.db, id))?.status === 'completed', 30_000, 'the finding aid');
        }
        expect((await getJob(ctx.db, rtf.job.id))?.resultName).to.match(/\.rtf$/);
      });
    });

    describe('publication-status and move', () => {
      it('sets a status on a description alone or with all its descendants, counting the changes', async () => {
        await importFile(IMPORT_ORDER);
        const one = await run('publication-status', { description: 'series-a', status: 'published' });
        expect(one.job.status, one.job.error ?? '').to.equal('completed');
        expect(one.output).to.include('1 description changed to Published (1 in all)');
        const all = await run('publication-status', {
          description: 'csv-import-order-fonds',
          status: 'published',
          descendants: true,
        });
        expect(all.output).to.include('33 descriptions changed to Published; 1 already Published (34 in all)');
        expect(all.job.resultSummary).to.include('33 descriptions changed');
        const statuses = (await ctx.db('descriptions').select('publication_status')) as Array<{ publication_status: string }>;
        expect(statuses.every((r) => r.publication_status === 'published')).to.equal(true);
        const back = await run('publication-status', { description: 'series-b', status: 'draft', descendants: true });
        expect(back.output).to.include('11 descriptions changed to Draft (11 in all)');
        const drafts = (await ctx.db('descriptions').where({ publication_status: 'draft' }).count({ n: '*' }).first()) as {
          n: number | string;
        };
        expect(Number(drafts.n)).to.equal(11);
        const missing = await run('publication-status', { description: 'nope', status: 'draft' });
        expect(missing.job.status).to.equal('failed');
        expect(missing.job.error).to.include('no description has the slug or id "nope"');
      });

      it('moves a series with its items under another series, as its last child', async () => {
        await importFile(IMPORT_ORDER);
        const sa = (await getDescriptionBySlug(ctx.db, 'series-a'))!;
        const { job, output } = await run('move', { description: 'series-c', parent: 'series-a' });
        expect(job.status, job.error ?? '').to.equal('completed');
        expect(output).to.include('Moved "Series C" (series-c) from under "CSV import order fonds" (csv-import-order-fonds) to under "Series A" (series-a)');
        const children = (await listChildren(ctx.db, sa.id, { limit: 100 })).items;
        expect(children).to.have.length(16);
        expect(children[15].title).to.equal('Series C');
        const fonds = (await getDescriptionBySlug(ctx.db, 'csv-import-order-fonds'))!;
        const lines = await outline(ctx, fonds);
        expect(lines[17]).to.equal('    SC Series C [Series]');
        expect(lines[18]).to.equal('      I01 SC Item 1 [Item]');
        expect(lines).to.have.length(34);
      });

      it('refuses a move under the description itself or one of its descendants, changing nothing', async () => {
        await importFile(IMPORT_ORDER);
        const fonds = (await getDescriptionBySlug(ctx.db, 'csv-import-order-fonds'))!;
        const before = await outline(ctx, fonds);
        const deep = await run('move', { description: 'csv-import-order-fonds', parent: 'sa-item-1' });
        expect(deep.job.status).to.equal('failed');
        expect(deep.job.error).to.include(
          'cannot move "CSV import order fonds" (csv-import-order-fonds) under "SA Item 1" (sa-item-1): "SA Item 1" (sa-item-1) is one of its own descendants',
        );
        expect(deep.job.attempt).to.equal(1);
        const self = await run('move', { description: 'series-a', parent: 'series-a' });
        expect(self.job.error).to.include('cannot move "Series A" (series-a) under itself');
        expect(await outline(ctx, fonds)).to.deep.equal(before);
        expect((await getDescription(ctx.db, fonds.id))!.parentId).to.equal(null);
      });
    });
  });
}
