/**
 * Finding aids laid out as AtoM's (lib/task/pdf/ead-pdf-inventory-summary.xsl), public by
 * default, and per culture; exports per culture that the import reads back. Files are
 * read back with real readers (pdftotext, unrtf).
 */
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse/sync';
import { getDescriptionBySlug, listChildren } from '../../app/archive/descriptions.js';
import { listTranslations } from '../../app/archive/translations.js';
import type { Context } from '../../app/context.js';
import { readOutput } from '../../app/store/jobs.js';
import type { Job } from '../../app/types.js';
import { Worker } from '../../workers/worker.js';
import { backends, exportEnv, makeTestEnv, requireService, type TestEnv, jobEnded } from '../helpers.js';

/** Text as a reader sees it, whitespace collapsed. */
function readBack(format: 'pdf' | 'rtf', path: string): string {
  const args = format === 'pdf' ? ['-layout', path, '-'] : ['--text', path];
  // unrtf's text mode writes each character's Windows-1252 fallback byte.
  const encoding = format === 'pdf' ? 'utf8' : 'latin1';
  return execFileSync(format === 'pdf' ? 'pdftotext' : 'unrtf', args, { encoding, stdio: ['ignore', 'pipe', 'ignore'] }).replace(/\s+/g, ' ');
}

/** The lines of text as a reader sees them, blank lines left out. */
function readLines(format: 'pdf' | 'rtf', path: string): string[] {
  const args = format === 'pdf' ? ['-layout', path, '-'] : ['--text', path];
  const encoding = format === 'pdf' ? 'utf8' : 'latin1';
  const text = execFileSync(format === 'pdf' ? 'pdftotext' : 'unrtf', args, { encoding, stdio: ['ignore', 'pipe', 'ignore'] });
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** Asserts the phrases come in this order in `text`, from `from` on; returns where the last one starts. */
function inOrder(text: string, phrases: string[], from = 0): number {
  let at = from;
  for (const p of phrases) {
    const i = text.indexOf(p, at);
    expect(i, `"${p}" after position ${at} in: ${text.slice(at, at + 400)}`).to.be.greaterThan(-1);
    at = i + p.length;
  }
  return at;
}

// A fonds with a field in every section, physical storage, a published series with a
// draft item, a draft series, and a French translation of the fonds and of one item
// (AtoM's i18n rows: the same legacyId, another culture, right after).
const FONDS_CSV = [
  'legacyId,parentId,identifier,title,levelOfDescription,extentAndMedium,repository,archivalHistory,scopeAndContent,arrangement,accessConditions,language,subjectAccessPoints,eventDates,eventActors,eventActorHistories,physicalObjectName,physicalObjectLocation,publicationStatus,culture',
  '1,,HC,Harbour fonds,Fonds,3 boxes,Port Archives,Kept by the harbour master,Records of the harbour,Filed by year,Open to all,en,Harbours|Ships,1900-1950,Harbour Commission,The commission ran the port,Box 12,Shelf 4,Published,en',
  '1,,,Fonds du port,,3 boîtes,,,Documents du port,,,,,,,,,,,fr',
  's1,1,S1,Minutes,Series,2 volumes,,,Minutes of the meetings,,,,,1900-1910,,,,,Published,en',
  'i1,s1,I1,First minutes,Item,1 leaf,,,,,,,,1901,,,,,Published,en',
  'i1,s1,,Premier procès-verbal,,1 feuillet,,,,,,,,,,,,,,fr',
  'i2,s1,I2,Secret minutes,Item,4 leaves,,,,,,,,1902,,,,,Draft,en',
  's2,1,S2,Drafts series,Series,1 box,,,,,,,,1920,,,,,Draft,en',
  'i3,s2,I3,Under a draft,Item,1 leaf,,,,,,,,1921,,,,,Published,en',
].join('\n');

const seen = new Set<string>();
const targets = backends().filter((b) => !seen.has(b.db) && seen.add(b.db));

for (const backend of targets) {
  describe(`finding aids as AtoM's, and cultures, on ${backend.name}`, function () {
    this.timeout(60_000);
    let env: TestEnv;
    let ctx: Context;
    let worker: Worker;
    let tmp: string;
    let restoreEnv: (() => void) | undefined;

    async function run(task: string, params: Record<string, unknown>): Promise<{ job: Job; output: string }> {
      const { job } = await ctx.service.enqueue({ task, params, origin: 'cli', user: null });
      const done = await jobEnded(ctx.db, job.id, 50_000);
      const output = (await readOutput(ctx.db, job.id, 0, 1000)).map((c) => c.text).join('');
      return { job: done, output };
    }

    async function storedCopy(job: Job): Promise<string> {
      const file = await ctx.files.get(job.resultFile!);
      const path = join(tmp, `copy-${job.id}-${file.name}`);
      await pipeline(file.stream, createWriteStream(path));
      return path;
    }

    async function findingAid(params: Record<string, unknown>): Promise<{ text: string; path: string; job: Job; output: string }> {
      const { job, output } = await run('finding-aid', { description: 'harbour-fonds', ...params });
      expect(job.status, job.error ?? '').to.equal('completed');
      const path = await storedCopy(job);
      return { text: readBack(params.format as 'pdf' | 'rtf', path), path, job, output };
    }

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      env = await makeTestEnv(backend);
      restoreEnv = exportEnv(env.env, ['DATABASE_URL', 'DOCKET_RESULTS_DIR', 'DOCKET_JOB_LOG_DIR']);
      ctx = await env.context();
      tmp = join(env.config.resultsDir, '..', 'fa');
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
      await ctx.db('description_translations').del();
      await ctx.db('descriptions').update({ parent_id: null });
      await ctx.db('descriptions').del();
      const file = join(tmp, 'harbour.csv');
      writeFileSync(file, FONDS_CSV);
      const { job } = await run('csv-import', { file });
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(job.resultSummary).to.include('2 translations');
    });

    for (const format of ['pdf', 'rtf'] as const) {
      it(`${format.toUpperCase()}: a repeatable field lists its items one a line, each with its bullet`, async () => {
        const { path } = await findingAid({ format, public: false });
        const lines = readLines(format, path);
        // unrtf's text mode writes the bullet's Windows-1252 fallback as '"'.
        const bullet = format === 'pdf' ? '\u2022' : '"';
        const at = lines.findIndex((l) => l.startsWith('Subject access points:'));
        expect(lines.slice(at, at + 2)).to.deep.equal([`Subject access points: ${bullet} Harbours`, `${bullet} Ships`]);
        if (format === 'rtf') expect(readFileSync(path, 'latin1')).to.include("\\u8226\\'95 Harbours\\line \\u8226\\'95 Ships");
        // A field of one item (the language) is no list: no bullet.
        expect(lines.some((l) => /\ben$/.test(l))).to.equal(true);
        expect(lines.some((l) => l.includes(`${bullet} en`))).to.equal(false);
      });

      it(`${format.toUpperCase()}: cover, table of contents, summary information, AtoM's sections in order, then the inventory`, async () => {
        const { text } = await findingAid({ format, public: false });
        // The cover page: the repository, then "Finding aid - title (reference code)".
        let at = inOrder(text, ['Port Archives', 'Finding aid - Harbour fonds (HC)', 'Inventory summary']);
        // The table of contents: every section, in the order they follow.
        const sections = [
          'Summary information',
          'Administrative history / Biographical sketch',
          'Custodial history',
          'Scope and content',
          'Notes',
          'Access points',
          'Inventory',
        ];
        at = inOrder(text, ['Table of contents', ...sections], at);
        if (format === 'pdf') {
          // Dot leaders and the page each section starts on (page 3, after the cover and the contents).
          expect(text).to.match(/Summary information \.{5,} 3 /);
          expect(text).to.match(/Inventory \.{5,} 3 /);
          // Then each series under the inventory, with the page it starts on.
          expect(text).to.match(/Inventory \.{5,} 3 Series: Minutes \.{5,} 3 Series: Drafts series \.{5,} 3 /);
        }
        // The summary information table, in the stylesheet's order.
        at = inOrder(
          text,
          [
            'Summary information',
            'Repository:',
            'Port Archives',
            'Creator:',
            'Harbour Commission',
            'Title:',
            'Harbour fonds',
            'Reference code:',
            'HC',
            'Date(s):',
            '1900-1950',
            'Physical description:',
            '3 boxes',
            'Physical storage:',
            'Box 12 (Shelf 4)',
            'Language:',
            'en',
          ],
          at,
        );
        // The narrative sections, then the notes and access points.
        at = inOrder(
          text,
          [
            'Administrative history / Biographical sketch',
            'The commission ran the port',
            'Custodial history',
            'Kept by the harbour master',
            'Scope and content',
            'Records of the harbour',
            'Notes',
            'System of arrangement: Filed by year',
            'Conditions governing access: Open to all',
            'Access points',
            'Subject access points:',
            'Harbours',
            'Ships',
            'Inventory',
          ],
          at,
        );
        // The inventory: a series across the table with its notes, then its items in
        // reference code | level and title | dates | physical description.
        inOrder(
          text,
          [
            'Series: Minutes',
            'HC-S1',
            'Scope and content: Minutes of the meetings',
            'Reference code',
            'Level and title',
            'Dates',
            'Physical description',
            'HC-S1-I1',
            'Item: First minutes',
            '1901',
            '1 leaf',
            'HC-S1-I2',
            'Item: Secret minutes',
            '4 leaves',
            'Series: Drafts series',
            'HC-S2-I3',
          ],
          at,
        );
      });
    }

    it('PDF: every series in the contents with the page it starts on, and "Page N of M" on every page', async () => {
      // 45 series of 25 items: the contents take two pages, the inventory many.
      const lines = ['legacyId,parentId,identifier,title,levelOfDescription,extentAndMedium,eventDates,publicationStatus', 'b,,BF,Big fonds,Fonds,,,Published'];
      for (let k = 1; k <= 45; k++) {
        lines.push(`s${k},b,S${k},Series number ${k},Series,,,Published`);
        for (let i = 1; i <= 25; i++) lines.push(`s${k}-${i},s${k},I${i},Item ${i} of series ${k},Item,1 leaf,1901,Published`);
      }
      const file = join(tmp, 'big.csv');
      writeFileSync(file, lines.join('\n'));
      expect((await run('csv-import', { file })).job.status).to.equal('completed');
      const { job } = await run('finding-aid', { description: 'big-fonds', format: 'pdf' });
      expect(job.status, job.error ?? '').to.equal('completed');
      const path = await storedCopy(job);
      const pages = execFileSync('pdftotext', ['-layout', path, '-'], { encoding: 'utf8' }).split('\f').slice(0, -1);
      const n = Number(/Pages:\s+(\d+)/.exec(execFileSync('pdfinfo', [path], { encoding: 'utf8' }))![1]);
      expect(pages).to.have.length(n);
      expect(n).to.be.greaterThan(20);
      pages.forEach((text, i) => expect(text, `page ${i + 1}: ${JSON.stringify(text.slice(-300))}`).to.match(new RegExp(`Page ${i + 1} of ${n}\\s*$`)));
      // The contents: pages 2 and 3; each series' line names the page its heading is on.
      const contents = (pages[1] + pages[2]).replace(/\s+/g, ' ');
      expect(pages[2]).to.include('Series: Series number 45');
      for (let k = 1; k <= 45; k++) {
        const listed = new RegExp(`Series: Series number ${k} \\.{3,} (\\d+) `).exec(contents);
        expect(listed, `series ${k} in the contents`).to.not.equal(null);
        const page = Number(listed![1]);
        expect(pages[page - 1], `series ${k} on page ${page}`).to.match(new RegExp(`Series: Series number ${k}\\s*\\n`));
        expect(pages.slice(3, page - 1).some((t) => new RegExp(`Series: Series number ${k}\\s*\\n`).test(t)), `series ${k} before page ${page}`).to.equal(false);
      }
      // The sections' pages moved with the second page of contents.
      expect(contents).to.match(/Summary information \.{5,} 4 /);
    });

    it('PDF bookmarks: the sections, and the series under "Inventory"', async () => {
      const { path } = await findingAid({ format: 'pdf', public: false });
      const raw = readFileSync(path, 'latin1');
      const titles = [...raw.matchAll(/\/Title \(([^)]*)\)/g)].map((m) => m[1]);
      // Every section, and each series (not its items).
      expect(titles).to.include.members([
        'Title page',
        'Table of contents',
        'Summary information',
        'Administrative history / Biographical sketch',
        'Custodial history',
        'Scope and content',
        'Notes',
        'Access points',
        'Inventory',
        'Series: Minutes',
        'Series: Drafts series',
      ]);
      expect(titles).to.not.include('Item: First minutes');
      // A series' bookmark is a child of "Inventory": its /Parent is the Inventory item.
      const inventoryRef = /(\d+) 0 obj\s*<<[^>]*\/Title \(Inventory\)/.exec(raw)?.[1];
      expect(raw).to.match(new RegExp(`/Parent ${inventoryRef} 0 R\\s*/Title \\(Series: Minutes\\)`));
      expect(raw).to.include('/Outlines');
      // The contents' entries link to the sections.
      expect(raw).to.match(/\/S \/GoTo\s*\/D \(inventory\)/);
    });

    for (const format of ['pdf', 'rtf'] as const) {
      it(`${format.toUpperCase()}: public by default, without physical storage and drafts`, async () => {
        const { text, job, output } = await findingAid({ format });
        expect(job.resultSummary).to.match(/, public: 3 descriptions$/);
        expect(output).to.include('Generating the public inventory summary finding aid');
        expect(text).to.include('Public: published descriptions only');
        expect(text).to.include('3 boxes');
        expect(text).to.not.include('Physical storage');
        expect(text).to.not.include('Box 12');
        expect(text).to.include('First minutes');
        expect(text).to.not.include('Secret minutes');
        // A draft series hides its branch, a published item under it too.
        expect(text).to.not.include('Drafts series');
        expect(text).to.not.include('Under a draft');
        // The full one, asked for, has them.
        const full = await findingAid({ format, public: false });
        expect(full.text).to.include('Box 12 (Shelf 4)');
        expect(full.text).to.include('Secret minutes');
        expect(full.job.resultSummary).to.match(/, full: 6 descriptions$/);
      });
    }

    for (const format of ['pdf', 'rtf'] as const) {
      it(`${format.toUpperCase()}: a French finding aid of a translated fonds, the source culture where a field is not translated`, async () => {
        const { text, job } = await findingAid({ format, culture: 'fr', public: false });
        expect(job.resultName).to.equal(`harbour-fonds-fr.${format}`);
        expect(job.resultSummary).to.include(', fr: 6 descriptions');
        expect(text).to.include('Language: French');
        inOrder(text, [
          'Finding aid - Fonds du port (HC)',
          'Title:',
          'Fonds du port',
          'Physical description:',
          '3 boîtes',
          'Custodial history',
          // Not translated: in English.
          'Kept by the harbour master',
          'Scope and content',
          'Documents du port',
          'Series: Minutes',
          'Item: Premier procès-verbal',
          '1 feuillet',
          'Item: Secret minutes',
        ]);
        expect(text).to.not.include('Records of the harbour');
      });
    }

    it('refuses a culture that is no culture code, saying so', async () => {
      const { job } = await run('finding-aid', { description: 'harbour-fonds', culture: 'French!' });
      expect(job.status).to.equal('failed');
      expect(job.error).to.include('"French!" is not a culture code');
      expect(job.attempt).to.equal(1);
    });

    it('exports every translation as rows of its own (same legacyId, their culture), and an import of the file gets them back', async () => {
      const { job, output } = await run('csv-export', { description: 'harbour-fonds' });
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(job.resultSummary).to.equal('exported 6 descriptions and 2 translations');
      expect(output).to.include('with every translation');
      const path = await storedCopy(job);
      const rows = parse(readFileSync(path), { columns: true }) as Array<Record<string, string>>;
      expect(rows.map((r) => `${r.legacyId}:${r.culture}`)).to.have.length(8);
      const fonds = (await getDescriptionBySlug(ctx.db, 'harbour-fonds'))!;
      const [first, second] = rows;
      expect([first.legacyId, first.culture, first.title]).to.deep.equal([String(fonds.id), 'en', 'Harbour fonds']);
      expect([second.legacyId, second.culture, second.title, second.scopeAndContent, second.identifier]).to.deep.equal([
        String(fonds.id),
        'fr',
        'Fonds du port',
        'Documents du port',
        '',
      ]);
      // Imported as new: a copy of the fonds, with the same translations.
      const again = await run('csv-import', { file: path, sourceName: 'round-trip.csv' });
      expect(again.job.status, again.job.error ?? '').to.equal('completed');
      expect(again.job.resultSummary).to.include('2 translations');
      const tops = (await listChildren(ctx.db, null)).items;
      expect(tops).to.have.length(2);
      const copy = tops.find((t) => t.id !== fonds.id)!;
      expect(await listTranslations(ctx.db, copy.id)).to.deep.equal(await listTranslations(ctx.db, fonds.id));
      const [series] = (await listChildren(ctx.db, copy.id)).items;
      const [item] = (await listChildren(ctx.db, series.id)).items;
      const [original] = (await listChildren(ctx.db, (await listChildren(ctx.db, fonds.id)).items[0].id)).items;
      expect(await listTranslations(ctx.db, item.id)).to.deep.equal(await listTranslations(ctx.db, original.id));
      expect((await listTranslations(ctx.db, item.id))[0].fields.title).to.equal('Premier procès-verbal');
    });

    it("exports one culture: that culture's values, the source culture's where a translation lacks them", async () => {
      const { job } = await run('csv-export', { description: 'harbour-fonds', culture: 'fr' });
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(job.resultName).to.equal('harbour-fonds-fr.csv');
      const rows = parse(readFileSync(await storedCopy(job)), { columns: true }) as Array<Record<string, string>>;
      expect(rows).to.have.length(6);
      expect(rows.every((r) => r.culture === 'fr')).to.equal(true);
      expect([rows[0].title, rows[0].scopeAndContent, rows[0].archivalHistory, rows[0].identifier]).to.deep.equal([
        'Fonds du port',
        'Documents du port',
        'Kept by the harbour master',
        'HC',
      ]);
      expect(rows.map((r) => r.title)).to.include('Premier procès-verbal');
      expect(rows.map((r) => r.title)).to.include('Minutes');
    });
  });
}
