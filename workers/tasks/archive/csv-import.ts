/**
 * csv-import: AtoM's ISAD CSV import.
 *
 * Two passes over the file, both streaming:
 * 1. A check: UTF-8, CSV syntax, the header, the number of rows (progress needs a total).
 *    With `--on-error fail` it also checks every row's field count and that every
 *    parentId and qubitParentSlug points somewhere, so a bad file fails before anything
 *    is written instead of leaving half a hierarchy.
 * 2. The import, in transactions of 500 rows: a crash loses at most the open batch, and
 *    other processes sharing a SQLite file never wait long for the write lock.
 *
 * Options as AtoM's: `update` (none: import as new; match-and-update; delete-and-replace),
 * `skipMatched`, `skipUnmatched`, `limit`. A row matches a description through the
 * keymap (the same legacyId imported earlier from the same source name), or else when
 * identifier, title and repository are all equal (if the file has those three columns).
 */
import { rm } from 'node:fs/promises';
import { basename, isAbsolute, relative, resolve } from 'node:path';
import {
  ancestors,
  findByIdentifierTitleRepository,
  findByLegacyId,
  findDescription,
  getDescriptionBySlug,
  inheritedRepository,
  insertDescription,
  nextPosition,
  updateDescription,
  writeTransaction,
} from '../../../app/archive/descriptions.js';
import { checkHeader, newFields, rowFields, type CsvRow } from '../../../app/archive/csv-columns.js';
import { CsvFileError, openCsv, type CsvReader, type CsvRecord } from '../../../app/archive/csv-read.js';
import { SlugAllocator, slugify } from '../../../app/archive/slug.js';
import type { Description } from '../../../app/archive/types.js';
import type { Db } from '../../../app/db.js';
import { UnrecoverableError } from '../../../app/errors.js';
import type { TaskContext, TaskDefinition, TaskResult } from '../types.js';
import { LruMap } from './common.js';

export const UPDATE_MODES = ['none', 'match-and-update', 'delete-and-replace'] as const;
export type UpdateMode = (typeof UPDATE_MODES)[number];

const UPDATE_LABELS: Record<UpdateMode, string> = {
  none: 'import as new',
  'match-and-update': 'match and update',
  'delete-and-replace': 'delete and replace',
};

/** Rows per transaction. */
export const BATCH_ROWS = 500;
/** Problems listed in a failure message before "and N more". */
const LIST_MAX = 10;

export interface ImportOptions {
  file: string;
  update: UpdateMode;
  skipMatched: boolean;
  skipUnmatched: boolean;
  limit: string | null;
  onError: 'skip' | 'fail';
  sourceName: string;
}

/** Where uploads from the web wait for their import (under the results folder). */
export function uploadsDir(resultsDir: string): string {
  return resolve(resultsDir, 'uploads');
}

/** Whether `file` lies inside the uploads folder (not the folder itself, not beside it). */
export function isUpload(resultsDir: string, file: string): boolean {
  const rel = relative(uploadsDir(resultsDir), resolve(file));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

export const csvImport: TaskDefinition = {
  name: 'csv-import',
  title: 'Import CSV',
  description: "Imports archival descriptions from an AtoM ISAD(G) CSV file, with AtoM's update and matching options.",
  params: {
    file: { type: 'string', required: true, description: 'path of the CSV file, readable by the worker', maxLength: 4096 },
    update: {
      type: 'enum',
      values: UPDATE_MODES,
      default: 'none',
      description: 'none (import as new), match-and-update, or delete-and-replace',
    },
    skipMatched: {
      type: 'boolean',
      default: false,
      description: 'when importing as new, skip rows that match an existing description',
    },
    skipUnmatched: {
      type: 'boolean',
      default: false,
      description: 'when updating, skip rows that match no description instead of importing them as new',
    },
    limit: {
      type: 'string',
      description: 'match only under this top-level description (slug) or repository (name or slug)',
      maxLength: 500,
    },
    onError: {
      type: 'enum',
      values: ['skip', 'fail'],
      default: 'skip',
      description: 'a bad row (wrong field count, parent not found): skip it with a line, or fail before writing anything',
    },
    sourceName: {
      type: 'string',
      description: 'name of the source for legacyId matching (default: the file name)',
      maxLength: 191,
    },
  },
  // A second attempt would import again the rows the first one committed.
  maxAttempts: 1,
  async run(ctx) {
    return new CsvImport(ctx, await readOptions(ctx)).run();
  },
};

async function readOptions(ctx: TaskContext): Promise<ImportOptions> {
  const p = ctx.params;
  const update = (p.update as UpdateMode | undefined) ?? 'none';
  const opts: ImportOptions = {
    file: String(p.file),
    update,
    skipMatched: Boolean(p.skipMatched),
    skipUnmatched: Boolean(p.skipUnmatched),
    limit: typeof p.limit === 'string' && p.limit.trim() !== '' ? p.limit.trim() : null,
    onError: p.onError === 'fail' ? 'fail' : 'skip',
    sourceName: '',
  };
  if (opts.skipMatched && update !== 'none') {
    throw new UnrecoverableError('--skip-matched applies only when importing as new (without --update): an update handles matched rows');
  }
  if (opts.skipUnmatched && update === 'none') {
    throw new UnrecoverableError(
      '--skip-unmatched applies only with --update match-and-update or delete-and-replace (it skips rows that match nothing)',
    );
  }
  if (opts.limit && update === 'none' && !opts.skipMatched) {
    throw new UnrecoverableError('--limit limits matching, so it needs --update or --skip-matched');
  }
  opts.file = await allowedPath(ctx, opts.file);
  opts.sourceName =
    typeof p.sourceName === 'string' && p.sourceName.trim() !== '' ? p.sourceName.trim() : basename(opts.file);
  return opts;
}

/**
 * Administrators on the command line may import any file the worker can read. A job
 * from the web or the API may only read an upload: otherwise anyone allowed to start an
 * import could make the worker read a server file and show its first line as a "column".
 */
async function allowedPath(ctx: TaskContext, file: string): Promise<string> {
  const path = resolve(file);
  const job = (await ctx.db()('jobs').where({ id: ctx.jobId }).first('origin')) as { origin: string } | undefined;
  if (job?.origin === 'cli') return path;
  if (!isUpload(ctx.resultsDir, path)) {
    throw new UnrecoverableError('a CSV import from the web or the API reads only files uploaded with it');
  }
  return path;
}

/** Totals of an import; "committed" ones are in the database. */
class Counts {
  rows = 0;
  created = 0;
  updated = 0;
  skippedMatched = 0;
  skippedUnmatched = 0;
  skippedErrors = 0;
  warnings = 0;

  add(o: Counts): void {
    this.rows += o.rows;
    this.created += o.created;
    this.updated += o.updated;
    this.skippedMatched += o.skippedMatched;
    this.skippedUnmatched += o.skippedUnmatched;
    this.skippedErrors += o.skippedErrors;
    this.warnings += o.warnings;
  }

  get skipped(): number {
    return this.skippedMatched + this.skippedUnmatched + this.skippedErrors;
  }

  line(): string {
    return `${this.created} created, ${this.updated} updated, ${this.skipped} skipped`;
  }
}

/** A bad row under `--on-error fail`. */
class RowFailure extends Error {}

type Limit = { kind: 'description'; id: number; label: string } | { kind: 'repository'; name: string; slug: string };

class CsvImport {
  private readonly db: Db;
  private columns: string[] = [];
  private index = new Map<string, number>();
  private readonly slugs = new SlugAllocator();
  /** legacyId → id of the description this import made, matched or kept for that row. */
  private readonly byLegacyId = new LruMap<string, number>(50_000);
  /** legacyIds of rows skipped for an error (their children are skipped with them). */
  private readonly skippedLegacy = new Set<string>();
  private readonly bySlug = new LruMap<string, number>(10_000);
  /** parent id ('top' for none) → next free position among its children. */
  private readonly positions = new LruMap<string, number>(10_000);
  private readonly committed = new Counts();
  private limit: Limit | null = null;
  /** What the job links to: the first top-level description it made, else the first one. */
  private firstTopLevel: number | null = null;
  private firstCreated: number | null = null;
  private total = 0;
  private matching: boolean;

  constructor(
    private readonly ctx: TaskContext,
    private readonly opts: ImportOptions,
  ) {
    this.db = ctx.db();
    this.matching = opts.update !== 'none' || opts.skipMatched;
  }

  async run(): Promise<TaskResult> {
    const o = this.opts;
    if (o.limit) this.limit = await this.resolveLimit(o.limit);
    this.ctx.progress(0, null, 'checking the file');
    this.total = await this.check();
    console.log(
      `Importing ${o.file} (source name "${o.sourceName}"): ${this.total} row${this.total === 1 ? '' : 's'}; ` +
        `${UPDATE_LABELS[o.update]}` +
        `${o.skipMatched ? ', skip matched' : ''}${o.skipUnmatched ? ', skip unmatched' : ''}` +
        `${this.limit ? `, matches limited to ${this.limitLabel()}` : ''}; ` +
        `a bad row ${o.onError === 'fail' ? 'fails the import' : 'is skipped'}`,
    );
    this.ctx.progress(0, this.total, `row 0 of ${this.total}`);
    const reader = await this.open();
    let batch: CsvRecord[] = [];
    try {
      for await (const rec of reader.records) {
        batch.push(rec);
        if (batch.length >= BATCH_ROWS) {
          await this.commit(batch);
          batch = [];
        }
      }
      if (batch.length > 0) await this.commit(batch);
    } catch (err) {
      reader.close();
      if (err instanceof CsvFileError) throw new UnrecoverableError(`${err.message}. ${this.committedSoFar()}`);
      throw err;
    }
    this.report();
    await this.removeUpload();
    const c = this.committed;
    const ref = this.firstTopLevel ?? this.firstCreated;
    return {
      summary: `${c.rows} rows: ${c.line()}${c.skippedErrors ? ` (${c.skippedErrors} with errors)` : ''}`,
      objectRef: ref !== null ? `description:${ref}` : undefined,
    };
  }

  // ---- pass 1: the check ----------------------------------------------------------

  private async open(): Promise<CsvReader> {
    let reader: CsvReader;
    try {
      reader = await openCsv(this.opts.file);
    } catch (err) {
      if (err instanceof CsvFileError) throw new UnrecoverableError(`The file was not imported: ${err.message}`);
      throw err;
    }
    const header = checkHeader(reader.header);
    if (header.problems.length > 0) {
      reader.close();
      throw new UnrecoverableError(`The file was not imported: ${header.problems.join('; ')}.`);
    }
    this.columns = header.columns;
    this.index = new Map(header.columns.map((c, i) => [c, i]));
    return reader;
  }

  /** Reads the whole file once; returns its number of rows or throws before any write. */
  private async check(): Promise<number> {
    const reader = await this.open();
    const strict = this.opts.onError === 'fail';
    const width = this.columns.length;
    const badWidth: string[] = [];
    let badWidthCount = 0;
    // Only with --on-error fail: the legacyIds seen so far, and references to check in
    // the database afterwards (bounded, since a file that bad is rejected anyway).
    const seen = new Set<string>();
    const parentRefs = new Map<string, number>();
    const slugRefs = new Map<string, number>();
    let rows = 0;
    try {
      for await (const rec of reader.records) {
        rows = rec.row;
        if (rec.values.length !== width) {
          badWidthCount++;
          if (badWidth.length < LIST_MAX) badWidth.push(`row ${rec.row} has ${rec.values.length} fields`);
        }
        if (!strict) continue;
        const slugRef = this.cellOf(rec, 'qubitParentSlug');
        const parentRef = this.cellOf(rec, 'parentId');
        if (slugRef) {
          if (!slugRefs.has(slugRef) && slugRefs.size < 100_000) slugRefs.set(slugRef, rec.row);
        } else if (parentRef && !seen.has(parentRef)) {
          if (!parentRefs.has(parentRef) && parentRefs.size < 100_000) parentRefs.set(parentRef, rec.row);
        }
        const legacyId = this.cellOf(rec, 'legacyId');
        if (legacyId) seen.add(legacyId);
      }
    } catch (err) {
      if (err instanceof CsvFileError) throw new UnrecoverableError(`The file was not imported: ${err.message}.`);
      throw err;
    }
    if (strict && badWidthCount > 0) {
      throw new UnrecoverableError(
        `The file was not imported: the header has ${width} columns, but ${badWidth.join(', ')}` +
          `${badWidthCount > badWidth.length ? ` and ${badWidthCount - badWidth.length} more rows differ` : ''}.`,
      );
    }
    if (strict) {
      const problems = [
        ...(await this.missingParents(parentRefs)),
        ...(await this.missingSlugs(slugRefs)),
      ].sort((a, b) => a[0] - b[0]);
      if (problems.length > 0) {
        const shown = problems.slice(0, LIST_MAX).map(([, text]) => text);
        throw new UnrecoverableError(
          `The file was not imported (nothing was written): ${shown.join('; ')}` +
            `${problems.length > shown.length ? `; and ${problems.length - shown.length} more` : ''}.`,
        );
      }
    }
    return rows;
  }

  private async missingParents(refs: Map<string, number>): Promise<Array<[number, string]>> {
    const keys = [...refs.keys()];
    const found = new Set<string>();
    for (let i = 0; i < keys.length; i += 500) {
      const rows = (await this.db('descriptions')
        .where('source_name', this.opts.sourceName)
        .whereIn('legacy_id', keys.slice(i, i + 500))
        .distinct('legacy_id')) as Array<{ legacy_id: string }>;
      for (const r of rows) found.add(r.legacy_id);
    }
    return keys
      .filter((k) => !found.has(k))
      .map((k) => [refs.get(k)!, `row ${refs.get(k)}: ${this.noParentText(k)}`]);
  }

  private async missingSlugs(refs: Map<string, number>): Promise<Array<[number, string]>> {
    const keys = [...refs.keys()];
    const found = new Set<string>();
    for (let i = 0; i < keys.length; i += 500) {
      const rows = (await this.db('descriptions').whereIn('slug', keys.slice(i, i + 500)).select('slug')) as Array<{
        slug: string;
      }>;
      for (const r of rows) found.add(r.slug);
    }
    return keys
      .filter((k) => !found.has(k))
      .map((k) => [refs.get(k)!, `row ${refs.get(k)}: qubitParentSlug "${k}" matches no description`]);
  }

  private noParentText(ref: string): string {
    return `parentId "${ref}" matches no earlier row of this file (legacyId) and no description imported from "${this.opts.sourceName}"`;
  }

  // ---- pass 2: the import ---------------------------------------------------------

  /** Imports one batch in one transaction; prints its lines once it is committed. */
  private async commit(batch: CsvRecord[]): Promise<void> {
    if (this.ctx.signal.aborted) {
      throw new Error(`stopped before row ${batch[0].row}: ${String(this.ctx.signal.reason ?? 'cancelled')}. ${this.committedSoFar()}`);
    }
    const lines: string[] = [];
    const counts = new Counts();
    const remembered: Array<[string, number]> = [];
    try {
      await writeTransaction(this.db, async (trx) => {
        const slugs = await this.slugs.allocate(
          trx,
          batch.map((r) => this.cellOf(r, 'title') || this.cellOf(r, 'identifier') || null),
        );
        for (let i = 0; i < batch.length; i++) {
          await this.row(trx, batch[i], slugs[i], lines, counts, remembered);
        }
      });
    } catch (err) {
      this.slugs.rolledBack();
      this.positions.clear();
      // The batch's own entries may name rows that were rolled back.
      for (const [legacyId] of remembered) this.byLegacyId.delete(legacyId);
      const first = batch[0].row;
      const last = batch[batch.length - 1].row;
      const why = err instanceof RowFailure ? err.message : `rows ${first}–${last} could not be written: ${(err as Error).message}`;
      throw new UnrecoverableError(
        `${why}. The import stopped there, and rows ${first}–${last} were rolled back. ${this.committedSoFar()}`,
      );
    }
    this.slugs.committed();
    this.committed.add(counts);
    if (lines.length) process.stdout.write(lines.join(''));
    this.ctx.progress(this.committed.rows, this.total, `row ${this.committed.rows} of ${this.total}`);
  }

  private committedSoFar(): string {
    const c = this.committed;
    if (c.rows === 0) return 'Nothing was written.';
    return `The ${c.rows} rows before were committed (${c.line()}); run the rest again with --update match-and-update to continue.`;
  }

  private cellOf(rec: CsvRecord, column: string): string {
    const i = this.index.get(column);
    return i === undefined ? '' : (rec.values[i] ?? '');
  }

  private async row(
    trx: Db,
    rec: CsvRecord,
    slug: string,
    lines: string[],
    counts: Counts,
    remembered: Array<[string, number]>,
  ): Promise<void> {
    counts.rows++;
    const o = this.opts;
    const title = this.cellOf(rec, 'title');
    const identifier = this.cellOf(rec, 'identifier');
    const legacyId = this.cellOf(rec, 'legacyId');
    const name = title || identifier || '(untitled)';
    const say = (text: string) => lines.push(`Row ${rec.row}: ${text}\n`);
    const remember = (id: number) => {
      if (!legacyId) return;
      this.byLegacyId.set(legacyId, id);
      remembered.push([legacyId, id]);
    };
    const bad = (why: string) => {
      if (o.onError === 'fail') throw new RowFailure(`Row ${rec.row}: ${why}`);
      say(`${why}. Skipping record: ${name}`);
      counts.skippedErrors++;
      if (legacyId) this.skippedLegacy.add(legacyId);
    };

    if (rec.values.length !== this.columns.length) {
      return bad(`has ${rec.values.length} fields where the header has ${this.columns.length}`);
    }
    const cells: CsvRow = new Map(this.columns.map((c, i) => [c, rec.values[i]]));
    const fields = rowFields(cells);
    if (fields.badPublicationStatus !== null) {
      counts.warnings++;
      say(`publicationStatus "${fields.badPublicationStatus}" is neither Draft nor Published; it was ignored`);
    }

    let match: Description | null = null;
    if (this.matching) match = await this.match(trx, legacyId, identifier, title, this.cellOf(rec, 'repository'));

    if (match) {
      const found = `Matching description found (id ${match.id}, ${match.slug})`;
      if (o.update === 'none') {
        say(`${found}. Skipping record: ${name}`);
        counts.skippedMatched++;
        remember(match.id);
        return;
      }
      const keymap = legacyId ? { legacyId, sourceName: o.sourceName } : {};
      if (o.update === 'match-and-update') {
        // Blank cells leave the field as it was.
        await updateDescription(trx, match.id, { ...fields.set, extra: { ...match.extra, ...fields.extra }, ...keymap });
        say(`${found}; updated in place: ${name}`);
      } else {
        // Delete and replace: every field comes from the row (blank cells clear), and so
        // does the place in the hierarchy when the row names a parent. The id, slug and
        // children are kept, so links and the rest of the tree survive.
        const place: { parentId?: number | null; position?: number } = {};
        if (this.cellOf(rec, 'qubitParentSlug') || this.cellOf(rec, 'parentId')) {
          const parent = await this.parentOf(trx, rec);
          if ('error' in parent) return bad(parent.error);
          if (parent.id !== match.parentId) {
            if (parent.id !== null && (parent.id === match.id || (await this.isBelow(trx, parent.id, match.id)))) {
              return bad(`its parent is the matched description ${match.id} itself or one of its descendants`);
            }
            place.parentId = parent.id;
            place.position = await this.nextPosition(trx, parent.id);
          }
        }
        const replaced = newFields(fields);
        await updateDescription(trx, match.id, { ...replaced, ...keymap, ...place });
        say(`${found}; replaced (delete and replace): ${name}`);
      }
      counts.updated++;
      remember(match.id);
      return;
    }

    if (this.matching && o.skipUnmatched) {
      say(`Unable to match row. Skipping record: ${title} (id: ${identifier})`);
      counts.skippedUnmatched++;
      return;
    }

    const parent = await this.parentOf(trx, rec);
    if ('error' in parent) return bad(parent.error);
    const position = await this.nextPosition(trx, parent.id);
    const id = await insertDescription(trx, {
      ...newFields(fields),
      parentId: parent.id,
      position,
      slug,
      legacyId: legacyId || null,
      sourceName: legacyId ? o.sourceName : null,
    });
    if (parent.id === null && this.firstTopLevel === null) this.firstTopLevel = id;
    this.firstCreated ??= id;
    remember(id);
    counts.created++;
    say(`Created description ${id} (${slug}): ${name}`);
  }

  /** AtoM's matching: the keymap first, then identifier + title + repository; then --limit. */
  private async match(
    trx: Db,
    legacyId: string,
    identifier: string,
    title: string,
    repository: string,
  ): Promise<Description | null> {
    let d: Description | null = null;
    if (legacyId) d = await findByLegacyId(trx, this.opts.sourceName, legacyId);
    if (!d && this.index.has('identifier') && this.index.has('title') && this.index.has('repository')) {
      d = await findByIdentifierTitleRepository(trx, identifier || null, title || null, repository || null);
    }
    if (d && this.limit && !(await this.withinLimit(trx, d))) return null;
    return d;
  }

  private async withinLimit(trx: Db, d: Description): Promise<boolean> {
    const limit = this.limit!;
    const chain = await ancestors(trx, d);
    if (limit.kind === 'description') return (chain[0] ?? d).id === limit.id;
    const repo = inheritedRepository([...chain, d]);
    return repo !== null && (repo === limit.name || slugify(repo) === limit.slug);
  }

  private async resolveLimit(value: string): Promise<Limit> {
    const d = await findDescription(this.db, value);
    if (d) {
      if (d.parentId !== null) {
        throw new UnrecoverableError(
          `--limit "${value}" is not a top-level description; give the slug of a top-level description or a repository`,
        );
      }
      return { kind: 'description', id: d.id, label: `"${d.title ?? d.slug}" (${d.slug})` };
    }
    const repos = (await this.db('descriptions').distinct('repository').whereNotNull('repository')) as Array<{
      repository: string;
    }>;
    const hit = repos.find((r) => r.repository === value || slugify(r.repository) === slugify(value));
    if (!hit) {
      throw new UnrecoverableError(`--limit "${value}" matches no top-level description (by slug) and no repository (by name)`);
    }
    return { kind: 'repository', name: hit.repository, slug: slugify(hit.repository) };
  }

  private limitLabel(): string {
    const l = this.limit!;
    return l.kind === 'description' ? `top-level description ${l.label}` : `repository "${l.name}"`;
  }

  /** The parent a row names: qubitParentSlug first (as AtoM), then parentId, else top level. */
  private async parentOf(trx: Db, rec: CsvRecord): Promise<{ id: number | null } | { error: string }> {
    const slugRef = this.cellOf(rec, 'qubitParentSlug');
    if (slugRef) {
      const cached = this.bySlug.get(slugRef);
      if (cached !== undefined) return { id: cached };
      const d = await getDescriptionBySlug(trx, slugRef);
      if (!d) return { error: `qubitParentSlug "${slugRef}" matches no description` };
      this.bySlug.set(slugRef, d.id);
      return { id: d.id };
    }
    const parentRef = this.cellOf(rec, 'parentId');
    if (!parentRef) return { id: null };
    const known = this.byLegacyId.get(parentRef);
    if (known !== undefined) return { id: known };
    if (this.skippedLegacy.has(parentRef)) {
      return { error: `its parent (the row with legacyId "${parentRef}") was skipped` };
    }
    const d = await findByLegacyId(trx, this.opts.sourceName, parentRef);
    if (!d) return { error: this.noParentText(parentRef) };
    return { id: d.id };
  }

  private async nextPosition(trx: Db, parentId: number | null): Promise<number> {
    const key = parentId === null ? 'top' : String(parentId);
    let next = this.positions.get(key);
    if (next === undefined) next = await nextPosition(trx, parentId);
    this.positions.set(key, next + 1);
    return next;
  }

  /** Whether `id` is below `ancestorId` in the tree. */
  private async isBelow(trx: Db, id: number, ancestorId: number): Promise<boolean> {
    const d = await findDescription(trx, id);
    if (!d) return false;
    return (await ancestors(trx, d)).some((a) => a.id === ancestorId);
  }

  private report(): void {
    const c = this.committed;
    console.log(`Import finished: ${c.rows} row${c.rows === 1 ? '' : 's'} read; ${c.line()}.`);
    if (c.skipped > 0) {
      console.log(
        `Skipped: ${c.skippedMatched} matching an existing description, ${c.skippedUnmatched} matching none, ` +
          `${c.skippedErrors} with errors.`,
      );
    }
    if (c.warnings > 0) console.log(`Warnings: ${c.warnings} (listed above).`);
    if (c.skippedErrors > 0) {
      console.log(
        `Warning: ${c.skippedErrors} row${c.skippedErrors === 1 ? ' was' : 's were'} not imported because of errors ` +
          '(listed above), nor were the rows below them in the hierarchy: the imported hierarchy is incomplete.',
      );
    }
  }

  /** A web upload is removed once its import has completed (a failed one stays for a retry). */
  private async removeUpload(): Promise<void> {
    if (isUpload(this.ctx.resultsDir, this.opts.file)) await rm(this.opts.file, { force: true });
  }
}
