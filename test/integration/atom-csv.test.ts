/**
 * AtoM's own CSV files, imported as AtoM imports them (its csvImportTask.class.php and
 * the QubitInformationObject-isad.yml / -rad.yml column lists): unknown columns ignored
 * with a warning (or refused with `strict`), values trimmed, AtoM's older and export
 * column names, RAD, translations; and an import that resumes after a lost worker.
 * A worker with child processes runs the jobs, on SQLite and on MariaDB.
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse/sync';
import { RAD_EXPORT_COLUMNS } from '../../app/archive/csv-columns.js';
import { getDescriptionBySlug, listChildren } from '../../app/archive/descriptions.js';
import { listTranslations } from '../../app/archive/translations.js';
import type { Context } from '../../app/context.js';
import { readOutput } from '../../app/store/jobs.js';
import type { Job } from '../../app/types.js';
import { Worker } from '../../workers/worker.js';
import { backends, exportEnv, makeTestEnv, REQUIRE_SERVICES, requireService, type TestEnv, waitUntil, jobEnded } from '../helpers.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'atom');
const RAD_EXAMPLE = join(FIXTURES, 'example_information_objects_rad.csv');

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

async function count(ctx: Context): Promise<number> {
  const r = (await ctx.db('descriptions').count({ n: '*' }).first()) as { n: number | string };
  return Number(r.n);
}

/**
 * The worker's job processes among this process's children: only those running
 * workers/child, never the others (tsx's esbuild service is a child too, and killing it
 * breaks every later import of a TypeScript file in the run).
 */
function childPids(): number[] {
  let pids: number[];
  try {
    pids = execFileSync('pgrep', ['-P', String(process.pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return pids.filter((pid) => {
    try {
      return /workers\/child\.(ts|js)/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
    } catch {
      return false;
    }
  });
}

const seen = new Set<string>();
const targets = backends().filter((b) => !seen.has(b.db) && seen.add(b.db));

for (const backend of targets) {
  describe(`AtoM's CSV files on ${backend.name}`, function () {
    this.timeout(120_000);
    let env: TestEnv;
    let ctx: Context;
    let worker: Worker;
    let tmp: string;
    let restoreEnv: (() => void) | undefined;

    async function waitFor(id: number): Promise<Job> {
      return jobEnded(ctx.db, id, 100_000);
    }

    async function importFile(file: string, extra: Record<string, unknown> = {}): Promise<{ job: Job; output: string }> {
      const { job } = await ctx.service.enqueue({ task: 'csv-import', params: { file, ...extra }, origin: 'cli', user: null });
      const done = await waitFor(job.id);
      return { job: done, output: await outputOf(ctx, job.id) };
    }

    /** A job's result, copied out of the file store into a file of its own (readers want a path). */
    async function storedCopy(job: Job): Promise<string> {
      const file = await ctx.files.get(job.resultFile!);
      const path = join(env.config.resultsDir, '..', `copy-${job.id}-${file.name}`);
      await pipeline(file.stream, createWriteStream(path));
      return path;
    }

    async function runTask(task: string, params: Record<string, unknown>): Promise<Job> {
      const { job } = await ctx.service.enqueue({ task, params, origin: 'cli', user: null });
      return waitFor(job.id);
    }

    function writeCsv(name: string, lines: string[]): string {
      const path = join(tmp, name);
      writeFileSync(path, `${lines.join('\n')}\n`);
      return path;
    }

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      env = await makeTestEnv(backend);
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
      await ctx.db('descriptions').update({ parent_id: null });
      await ctx.db('description_translations').del();
      await ctx.db('descriptions').del();
    });

    it('imports a file with unknown columns, naming them at the top of the report with "did you mean"', async () => {
      const file = writeCsv('unknown.csv', ['legacyId,titel,title,levelOfDescription,fooBar', '1,x,A fonds,Fonds,y', '2,x,B fonds,Fonds,y']);
      const { job, output } = await importFile(file);
      expect(job.status, job.error ?? '').to.equal('completed');
      const lines = output.split('\n');
      expect(lines[0]).to.match(/^Importing /);
      expect(lines[1]).to.equal(
        'Warning: 2 columns this import does not know were ignored, as AtoM ignores them: "titel", "fooBar" ' +
          '(did you mean "title" for "titel"?). Import with --strict to refuse such a file instead.',
      );
      expect(job.resultSummary).to.equal('2 rows: 2 created, 0 updated, 0 skipped; 2 unknown columns ignored');
      const a = (await getDescriptionBySlug(ctx.db, 'a-fonds'))!;
      expect(a.extra).to.deep.equal({});

      const strict = await importFile(writeCsv('unknown-strict.csv', ['legacyId,titel,title', '1,x,C fonds']), { strict: true });
      expect(strict.job.status).to.equal('failed');
      expect(strict.job.error).to.include('a column this import does not know: "titel" (did you mean "title" for "titel"?)');
      expect(await getDescriptionBySlug(ctx.db, 'c-fonds')).to.equal(null);
    });

    it('trims values as AtoM does: a quoted "T1 " legacyId still links its children', async () => {
      const file = writeCsv('trim.csv', [
        'legacyId,parentId,identifier,title,levelOfDescription',
        '"T1 ",," F1","  Trimmed fonds ",Fonds',
        '"T2",T1,S1,Series under it,Series',
        ',,,,',
        '" T3"," T2 ",I1,Item under that,Item',
      ]);
      const { job, output } = await importFile(file);
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(output).to.include('Import finished: 3 rows read; 3 created, 0 updated, 0 skipped.');
      const fonds = (await getDescriptionBySlug(ctx.db, 'trimmed-fonds'))!;
      expect([fonds.legacyId, fonds.identifier, fonds.title]).to.deep.equal(['T1', 'F1', 'Trimmed fonds']);
      const [series] = (await listChildren(ctx.db, fonds.id)).items;
      expect(series.title).to.equal('Series under it');
      const [item] = (await listChildren(ctx.db, series.id)).items;
      expect([item.legacyId, item.title]).to.deep.equal(['T3', 'Item under that']);
    });

    it("imports AtoM's RAD example with every RAD field, exports it and shows RAD's labels", async function () {
      const { job, output } = await importFile(RAD_EXAMPLE, { strict: false });
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(output).to.include('Warning: the header has 1 empty column name; its cells were ignored.');
      expect(job.resultSummary).to.equal('2 rows: 2 created, 0 updated, 0 skipped');
      const fonds = (await getDescriptionBySlug(ctx.db, 'example-fonds'))!;
      expect([fonds.identifier, fonds.levelOfDescription, fonds.publicationStatus]).to.deep.equal(['F1', 'fonds', 'published']);
      expect(fonds.extra.radGeneralMaterialDesignation).to.equal('Textual record');
      expect(fonds.extra.alternateTitle).to.equal('Example Fonds: Alternate Title');
      expect(fonds.extra.radStatementOfProjection).to.equal('Example Fonds statement of projection');
      expect(fonds.lists.radNoteRights).to.deep.equal(['Example Fonds rights note']);
      expect(fonds.extra.radStandardNumber).to.equal('11111');
      // AtoM 2.2's creation columns, read into the event columns.
      expect(fonds.events.map((e) => [e.actor, e.date, e.startDate, e.endDate, e.description])).to.deep.equal([
        ['Test Creator 1', 'Dates for Creator 1', '2000', '2001', 'Date notes for Test Creator 1'],
        ['Test Creator 2', 'Dates for Creator 2', '2010', '2011', 'Date notes for Test Creator 2'],
      ]);
      const [item] = (await listChildren(ctx.db, fonds.id)).items;
      expect([item.identifier, item.title, item.extra.radEdition]).to.deep.equal(['F1-IT1', 'Example Item', 'Example Item edition statement.']);

      const exported = await runTask('csv-export', { description: fonds.slug });
      expect(exported.status, exported.error ?? '').to.equal('completed');
      const path = await storedCopy(exported);
      const rows = parse(readFileSync(path), { columns: false }) as string[][];
      expect(rows[0]).to.deep.equal([...RAD_EXPORT_COLUMNS]);
      expect(rows[1][rows[0].indexOf('radTitleSourceOfTitleProper')]).to.equal('Example Fonds source of title proper');
      const again = await importFile(path, { strict: true });
      expect(again.job.status, again.job.error ?? '').to.equal('completed');
      const copy = (await getDescriptionBySlug(ctx.db, 'example-fonds-2'))!;
      expect(copy.extra).to.deep.equal(fonds.extra);

      const aid = await runTask('finding-aid', { description: fonds.slug, model: 'full-details', format: 'pdf' });
      expect(aid.status, aid.error ?? '').to.equal('completed');
      let text: string;
      try {
        text = execFileSync('pdftotext', ['-layout', await storedCopy(aid), '-'], { encoding: 'utf8' });
      } catch (err) {
        if (REQUIRE_SERVICES) throw err;
        return this.skip();
      }
      const flat = text.replace(/\s+/g, ' ');
      expect(flat).to.include('General material designation: Textual record');
      // AtoM's layout: the custodial history is a section of its own.
      expect(flat).to.include('Custodial history Example Fonds archival history');
      expect(flat).to.include('Title notes: source of title proper');
      expect(flat).to.include('Physical description: Example Fonds extent and medium');
      expect(flat).to.not.include('Extent and medium');
    });

    it("imports AtoM's own ISAD export header (leading referenceCode, slug, digitalObjectChecksum), strict or not", async () => {
      // The header of AtoM 2.x's "Export CSV" of a description (csvInformationObjectExport).
      const file = writeCsv('atom-export.csv', [
        'referenceCode,legacyId,parentId,qubitParentSlug,identifier,title,levelOfDescription,digitalObjectURI,digitalObjectChecksum,slug,culture',
        'REPO F1,101,,,F1,Exported fonds,Fonds,https://example.org/a.jpg,abc123,exported-fonds-atom,en',
        'REPO F1-1,102,101,,1,Exported file,File,,,exported-file-atom,en',
      ]);
      const { job, output } = await importFile(file, { strict: true });
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(output).to.not.include('Warning');
      const fonds = (await getDescriptionBySlug(ctx.db, 'exported-fonds'))!;
      expect(fonds.extra).to.deep.equal({ digitalObjectURI: 'https://example.org/a.jpg', digitalObjectChecksum: 'abc123' });
      expect((await listChildren(ctx.db, fonds.id)).items.map((d) => d.title)).to.deep.equal(['Exported file']);
    });

    it("reads AtoM 2.1's creator columns beside the event columns, and a column given twice", async () => {
      // AtoM 2.1's ISAD template names (creatorDates...), plus eventActors as newer files
      // have them, and accessionNumber twice as in AtoM's 2020 example.
      const file = writeCsv('old-isad.csv', [
        'legacyId,accessionNumber,title,creators,creatorDates,creatorDatesStart,creatorDatesEnd,creatorDateNotes,eventActors,eventTypes,accessionNumber',
        '1,ACC-1,Old fonds,Ann|Bob,1900-1910|1920,1900|1920,1910|1920,note a|note b,Cy,Accumulation,ACC-2',
      ]);
      const { job, output } = await importFile(file, { strict: true });
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(output).to.include('Warning: the header names "accessionNumber" (accessionNumber, accessionNumber), "eventActors" (creators, eventActors) more than once');
      const d = (await getDescriptionBySlug(ctx.db, 'old-fonds'))!;
      expect(d.extra.accessionNumber).to.equal('ACC-1|ACC-2');
      expect(d.events.map((e) => [e.actor, e.type, e.date, e.startDate, e.endDate, e.description])).to.deep.equal([
        ['Ann', '', '1900-1910', '1900', '1910', 'note a'],
        ['Bob', '', '1920', '1920', '1920', 'note b'],
        ['Cy', 'Accumulation', '', '', '', ''],
      ]);
    });

    it('keeps a row repeating the previous legacyId in another culture as a translation, not a new description', async () => {
      const file = writeCsv('translations.csv', [
        'legacyId,parentId,identifier,title,scopeAndContent,levelOfDescription,culture',
        '1,,F1,Letters fonds,Letters of a family,Fonds,en',
        '1,,F1,Fonds de lettres,Lettres d’une famille,Fonds,fr',
        '2,1,S1,Letters series,,Series,en',
      ]);
      const { job, output } = await importFile(file);
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(await count(ctx)).to.equal(2);
      const fonds = (await getDescriptionBySlug(ctx.db, 'letters-fonds'))!;
      expect(output).to.include(`Row 2: Translation (fr) of description ${fonds.id}: Fonds de lettres`);
      expect(job.resultSummary).to.equal('3 rows: 2 created, 0 updated, 1 translation, 0 skipped');
      expect(await listTranslations(ctx.db, fonds.id)).to.deep.equal([
        {
          culture: 'fr',
          fields: { identifier: 'F1', title: 'Fonds de lettres', scopeAndContent: 'Lettres d’une famille', levelOfDescription: 'Fonds' },
        },
      ]);
      expect((await listChildren(ctx.db, fonds.id)).items.map((d) => d.title)).to.deep.equal(['Letters series']);
    });

    it('resumes after the last committed batch when its process is killed mid-import: every row once', async () => {
      const rows = 8000;
      const lines = ['legacyId,parentId,identifier,title,levelOfDescription', '1,,F,Big fonds,Fonds'];
      for (let i = 2; i <= rows; i++) lines.push(`${i},1,I${i},Item ${i},Item`);
      const file = writeCsv('big.csv', lines);
      const { job } = await ctx.service.enqueue({ task: 'csv-import', params: { file }, origin: 'cli', user: null });
      // Kill the job's process once a few batches are in.
      const killedAt = await waitUntil(
        async () => {
          const cp = (await ctx.db('import_checkpoints').where({ job_id: job.id }).first('last_row')) as { last_row: number } | undefined;
          return cp && cp.last_row >= 1000 ? cp.last_row : null;
        },
        60_000,
        'a checkpoint past row 1000',
      );
      const pids = childPids();
      expect(pids.length).to.be.greaterThan(0);
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      const done = await waitFor(job.id);
      expect(done.status, done.error ?? '').to.equal('completed');
      const output = await outputOf(ctx, job.id);
      // At least one attempt after the kill; on a loaded machine a live attempt may also
      // lose its lease and be run again, which must resume just the same.
      expect(done.attempt, output.slice(0, 3000)).to.be.at.least(2);
      expect(killedAt).to.be.lessThan(rows);
      expect(output).to.match(/Resuming after row \d+, the last row an earlier attempt committed/);
      expect(await count(ctx)).to.equal(rows);
      const dup = (await ctx.db('descriptions').select('legacy_id').count({ n: '*' }).groupBy('legacy_id').havingRaw('count(*) > 1')) as unknown[];
      expect(dup).to.deep.equal([]);
      expect(done.resultSummary).to.equal(`${rows} rows: ${rows} created, 0 updated, 0 skipped`);
      const fonds = (await getDescriptionBySlug(ctx.db, 'big-fonds'))!;
      expect((await listChildren(ctx.db, fonds.id, { limit: 10_000 })).items).to.have.length(rows - 1);
      // The checkpoint stays at the last row until the job is removed: an attempt run
      // again after this one finished imports nothing.
      expect(await ctx.db('import_checkpoints').where({ job_id: job.id }).first('last_row')).to.deep.equal({ last_row: rows });
    });
  });
}
