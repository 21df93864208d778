/**
 * csv-import's rows: what one row of the file does to the descriptions. A row matches a
 * description through the keymap (the same legacyId imported earlier from the same
 * source name; with `--roundtrip`, the description whose id is the legacyId), or else
 * when identifier, title and repository are all equal and none is blank (if the file has
 * those three columns); `--limit` keeps matches under one top-level description or
 * repository. A matched row is skipped, updated in place or replaced, as the options
 * say; an unmatched one is created under the parent it names.
 *
 * Rows AtoM reads leniently are read so here too, each with its line in the report (the
 * AtoM source each rule follows is named where it is applied): a short row is padded, a
 * long row's extra cells are ignored, a parentId that matches nothing puts the row at the
 * top level, a parentId that is an existing description's id is that description.
 */
import {
  addKeymapEntry,
  findByIdentifierTitleRepository,
  findByLegacyId,
  repositoryNames,
} from '../../../app/archive/description-matching.js';
import {
  ancestors,
  findDescription,
  getDescription,
  getDescriptionBySlug,
  inheritedRepository,
  insertDescription,
  nextPosition,
  updateDescription,
} from '../../../app/archive/descriptions.js';
import { HIERARCHY_COLUMNS, newFields, rowFields, updatedFields, type CsvRow } from '../../../app/archive/csv-columns.js';
import type { CsvRecord } from '../../../app/archive/csv-read.js';
import { SlugAllocator, slugify } from '../../../app/archive/slug.js';
import { saveTranslation } from '../../../app/archive/translations.js';
import type { Description } from '../../../app/archive/types.js';
import type { Db } from '../../../app/db.js';
import { InputError } from '../../../app/errors.js';
import type { UpdateMode } from '../../../app/tasks/archive.js';
import { LruMap } from './common.js';
import type { ImportFile } from './csv-import-file.js';

export interface ImportOptions {
  file: string;
  update: UpdateMode;
  skipMatched: boolean;
  skipUnmatched: boolean;
  limit: string | null;
  onError: 'skip' | 'fail';
  sourceName: string;
  /** Refuse a file with unknown or empty column names instead of ignoring those columns. */
  strict: boolean;
  /** AtoM's --roundtrip: a row's legacyId is the id of the description it updates (an export of this instance). */
  roundtrip: boolean;
  /** AtoM's --default-parent-slug: the parent of rows that name none. */
  defaultParentSlug: string | null;
  /** AtoM's --default-legacy-parent-id: the parent (a legacyId of this source) of rows that name none. */
  defaultLegacyParentId: string | null;
  /** AtoM's --skip-rows: the first rows after the header not imported at all. */
  skipRows: number;
}

/** Totals of an import; "committed" ones are in the database. */
export class Counts {
  rows = 0;
  created = 0;
  updated = 0;
  skippedMatched = 0;
  skippedUnmatched = 0;
  skippedErrors = 0;
  warnings = 0;
  /** Rows that were a translation of the row before (same legacyId, another culture). */
  translations = 0;

  /** Totals saved in a checkpoint, read back. */
  static from(saved: unknown): Counts {
    const c = new Counts();
    if (saved && typeof saved === 'object') {
      for (const k of Object.keys(c) as Array<keyof Counts>) {
        const v = (saved as Record<string, unknown>)[k];
        if (typeof v === 'number') (c as unknown as Record<string, number>)[k] = v;
      }
    }
    return c;
  }

  add(o: Counts): void {
    this.rows += o.rows;
    this.created += o.created;
    this.updated += o.updated;
    this.skippedMatched += o.skippedMatched;
    this.skippedUnmatched += o.skippedUnmatched;
    this.skippedErrors += o.skippedErrors;
    this.warnings += o.warnings;
    this.translations += o.translations;
  }

  get skipped(): number {
    return this.skippedMatched + this.skippedUnmatched + this.skippedErrors;
  }

  line(): string {
    const t = this.translations ? `, ${this.translations} translation${this.translations === 1 ? '' : 's'}` : '';
    return `${this.created} created, ${this.updated} updated${t}, ${this.skipped} skipped`;
  }
}

/** A bad row under `--on-error fail`: its number, and why (for the CSV of rows not imported). */
export class RowFailure extends Error {
  constructor(
    readonly row: number,
    readonly reason: string,
  ) {
    super(`Row ${row}: ${reason}`);
  }
}

/** A row that was not imported, in full, and why. */
export interface Reject {
  row: number;
  reason: string;
  cells: string[];
}

/** What one batch did: its output lines, its counts, the legacyIds it mapped and the rows it did not import. */
export interface BatchOutcome {
  lines: string[];
  counts: Counts;
  remembered: Array<[string, number]>;
  rejects: Reject[];
}

/** The row before, for translations: its legacyId and culture, and the description it made or matched. */
interface Previous {
  legacyId: string;
  culture: string;
  id: number;
}

/** What a resumed import needs to carry on as if it had never stopped. */
export interface RowImporterState {
  firstTopLevel: number | null;
  firstCreated: number | null;
  previous: Previous | null;
}

type Limit = { kind: 'description'; id: number; label: string } | { kind: 'repository'; name: string; slug: string };

export class RowImporter {
  private readonly slugs = new SlugAllocator();
  /** legacyId → id of the description this import made, matched or kept for that row. */
  private readonly byLegacyId = new LruMap<string, number>(50_000);
  /** legacyIds of rows skipped for an error (their children are skipped with them). */
  private readonly skippedLegacy = new Set<string>();
  private readonly bySlug = new LruMap<string, number>(10_000);
  /** parent id ('top' for none) → next free position among its children. */
  private readonly positions = new LruMap<string, number>(10_000);
  private limit: Limit | null = null;
  /** `--default-parent-slug`, found before the import starts. */
  private defaultParent: number | null = null;
  /** What the job links to: the first top-level description it made, else the first one. */
  private firstTopLevel: number | null = null;
  private firstCreated: number | null = null;
  private previous: Previous | null = null;
  private readonly matching: boolean;

  constructor(
    private readonly file: ImportFile,
    private readonly opts: ImportOptions,
  ) {
    this.matching = opts.update !== 'none' || opts.skipMatched;
  }

  /** The description the job links to, once rows are in. */
  get objectId(): number | null {
    return this.firstTopLevel ?? this.firstCreated;
  }

  /** What a checkpoint keeps of this importer. */
  state(): RowImporterState {
    return { firstTopLevel: this.firstTopLevel, firstCreated: this.firstCreated, previous: this.previous };
  }

  /** Carries on from a checkpoint's state. */
  restore(saved: Partial<RowImporterState> | undefined): void {
    const n = (v: unknown) => (typeof v === 'number' ? v : null);
    this.firstTopLevel = n(saved?.firstTopLevel);
    this.firstCreated = n(saved?.firstCreated);
    const p = saved?.previous;
    this.previous = p && typeof p.id === 'number' ? { legacyId: String(p.legacyId), culture: String(p.culture), id: p.id } : null;
  }

  /** Finds what `--limit` names before the import starts (or refuses it). */
  async resolveLimit(db: Db, value: string): Promise<void> {
    const d = await findDescription(db, value);
    if (d) {
      if (d.parentId !== null) {
        throw new InputError(
          `--limit "${value}" is not a top-level description; give the slug of a top-level description or a repository`,
        );
      }
      this.limit = { kind: 'description', id: d.id, label: `"${d.title ?? d.slug}" (${d.slug})` };
      return;
    }
    const hit = (await repositoryNames(db)).find((r) => r === value || slugify(r) === slugify(value));
    if (!hit) {
      throw new InputError(`--limit "${value}" matches no top-level description (by slug) and no repository (by name)`);
    }
    this.limit = { kind: 'repository', name: hit, slug: slugify(hit) };
  }

  /** ", matches limited to ..." for the first line of the output, or nothing. */
  limitText(): string {
    const l = this.limit;
    if (!l) return '';
    return `, matches limited to ${l.kind === 'description' ? `top-level description ${l.label}` : `repository "${l.name}"`}`;
  }

  /** Imports a batch inside the transaction `trx`. */
  async batch(trx: Db, records: CsvRecord[], out: BatchOutcome): Promise<void> {
    const slugs = await this.slugs.allocate(
      trx,
      records.map((r) => this.file.cellOf(r, 'title') || this.file.cellOf(r, 'identifier') || null),
    );
    for (let i = 0; i < records.length; i++) await this.row(trx, records[i], slugs[i], out);
  }

  /** The batch's transaction committed. */
  committed(): void {
    this.slugs.committed();
  }

  /** Finds `--default-parent-slug` before the import starts (or refuses it). */
  async resolveDefaultParent(db: Db): Promise<void> {
    const slug = this.opts.defaultParentSlug;
    if (!slug) return;
    const d = await getDescriptionBySlug(db, slug);
    if (!d) throw new InputError(`--default-parent-slug "${slug}" matches no description (give the slug of an existing description)`);
    this.defaultParent = d.id;
  }

  /** The batch's transaction rolled back: forget what it made (`saved`: the state before it). */
  rolledBack(out: BatchOutcome, saved?: RowImporterState): void {
    this.slugs.rolledBack();
    this.positions.clear();
    this.previous = null;
    if (saved) this.restore(saved);
    // The batch's own entries may name rows that were rolled back.
    for (const [legacyId] of out.remembered) this.byLegacyId.delete(legacyId);
  }

  private async row(trx: Db, rec: CsvRecord, slug: string, out: BatchOutcome): Promise<void> {
    const { lines, counts, remembered, rejects } = out;
    const f = this.file;
    counts.rows++;
    const o = this.opts;
    const title = f.cellOf(rec, 'title');
    const identifier = f.cellOf(rec, 'identifier');
    const legacyId = f.cellOf(rec, 'legacyId');
    const name = title || identifier || '(untitled)';
    const say = (text: string) => lines.push(`Row ${rec.row}: ${text}\n`);
    const culture = f.cellOf(rec, 'culture');
    const previous = this.previous;
    this.previous = null;
    const remember = (id: number) => {
      if (legacyId) this.previous = { legacyId, culture: culture || 'en', id };
      if (!legacyId) return;
      this.byLegacyId.set(legacyId, id);
      remembered.push([legacyId, id]);
    };
    const reject = (reason: string) => rejects.push({ row: rec.row, reason, cells: rec.values });
    const warn = (text: string) => {
      counts.warnings++;
      say(`Warning: ${text}`);
    };
    const bad = (why: string) => {
      if (o.onError === 'fail') throw new RowFailure(rec.row, why);
      say(`${why}. Skipping record: ${name}`);
      counts.skippedErrors++;
      reject(why);
      if (legacyId) this.skippedLegacy.add(legacyId);
    };
    // AtoM reads a row of another width than the header (QubitFlatfileImport::
    // importRow fills the missing columns with blanks and never reads the cells past the
    // last column): a short row is padded, a long row's extra cells are ignored.
    const width = f.width;
    if (rec.values.length < width) {
      const n = width - rec.values.length;
      warn(`has ${rec.values.length} fields where the header has ${width}; the last ${n === 1 ? 'column is' : `${n} columns are`} taken as blank`);
    } else if (rec.values.length > width) {
      const n = rec.values.length - width;
      const extra = rec.values.slice(width).filter((v) => v !== '').length;
      warn(
        `has ${rec.values.length} fields where the header has ${width}; the ${n === 1 ? 'extra field was' : `${n} extra fields were`} ignored` +
          `${extra ? ` (${extra} not blank)` : ''}`,
      );
    }

    // AtoM's exports write a translation as the next row, with the same legacyId and
    // another culture (csvImportTask: "Don't overwrite valid parentId when adding an i18n
    // row"): it adds that culture to the same description rather than making a new one.
    if (legacyId && previous && previous.legacyId === legacyId && culture && culture !== previous.culture) {
      await saveTranslation(trx, previous.id, { culture, fields: translatedFields(f.cells(rec)) });
      this.previous = previous;
      counts.translations++;
      say(`Translation (${culture}) of description ${previous.id}: ${name}`);
      return;
    }

    const fields = rowFields(f.cells(rec));
    if (fields.badPublicationStatus !== null) {
      counts.warnings++;
      say(`publicationStatus "${fields.badPublicationStatus}" is neither Draft nor Published; it was ignored`);
    }

    let match: Description | null = null;
    if (this.matching) match = await this.match(trx, legacyId, identifier, title, f.cellOf(rec, 'repository'));

    if (match) {
      const found = `Matching description found (id ${match.id}, ${match.slug})`;
      if (o.update === 'none') {
        say(`${found}. Skipping record: ${name}`);
        counts.skippedMatched++;
        reject(`matches description ${match.id} (${match.slug}), skipped (--skip-matched)`);
        remember(match.id);
        return;
      }
      // Either update moves the record when its row names a parent (AtoM's csvImportTask
      // sets parentId on the matched object from the row's parentId or qubitParentSlug
      // before saving it, in both update modes). The id, slug and children are kept, so
      // links and the rest of the tree survive.
      const place: { parentId?: number | null; position?: number } = {};
      if (f.cellOf(rec, 'qubitParentSlug') || f.cellOf(rec, 'parentId')) {
        const parent = await this.parentOf(trx, rec, say, warn);
        if ('error' in parent) return bad(parent.error);
        if (!parent.fallback && parent.id !== match.parentId) {
          if (parent.id !== null && (parent.id === match.id || (await this.isBelow(trx, parent.id, match.id)))) {
            return bad(`its parent is the matched description ${match.id} itself or one of its descendants`);
          }
          place.parentId = parent.id;
          place.position = await this.nextPosition(trx, parent.id);
        }
      }
      // The keymap gains this source's entry beside the others (AtoM adds a keymap row for
      // each import; one from another file never hides the first). The description's own
      // legacyId stays the first one it was given.
      const keymap = legacyId && match.legacyId === null ? { legacyId, sourceName: o.sourceName } : {};
      if (legacyId) await addKeymapEntry(trx, o.sourceName, legacyId, match.id);
      if (o.update === 'match-and-update') {
        // Blank cells leave the field as it was. Notes and access points are added beside
        // the ones the description has (AtoM's match-and-update creates new note and
        // term-relation objects and never deletes the old ones; a value it already has is
        // not added twice).
        await updateDescription(trx, match.id, { ...updatedFields(match, fields), ...keymap, ...place });
        say(`${found}; updated in place: ${name}${place.parentId !== undefined ? ` (moved under ${place.parentId ?? 'the top level'})` : ''}`);
      } else {
        // Delete and replace: every field comes from the row (blank cells clear).
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
      reject('matches no description, skipped (--skip-unmatched)');
      return;
    }

    const parent = await this.parentOf(trx, rec, say, warn);
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
    if (legacyId && this.opts.roundtrip) {
      // AtoM's --roundtrip: the legacyId of an export of this instance is the record's own id.
      if (/^[0-9]{1,10}$/.test(legacyId)) d = await getDescription(trx, Number(legacyId));
      if (d && this.limit && !(await this.withinLimit(trx, d, this.limit))) return null;
      return d;
    }
    if (legacyId) d = await findByLegacyId(trx, this.opts.sourceName, legacyId);
    if (!d && this.file.has('identifier') && this.file.has('title') && this.file.has('repository')) {
      d = await findByIdentifierTitleRepository(trx, identifier || null, title || null, repository || null);
    }
    if (d && this.limit && !(await this.withinLimit(trx, d, this.limit))) return null;
    return d;
  }

  private async withinLimit(trx: Db, d: Description, limit: Limit): Promise<boolean> {
    const chain = await ancestors(trx, d);
    if (limit.kind === 'description') return (chain[0] ?? d).id === limit.id;
    const repo = inheritedRepository([...chain, d]);
    return repo !== null && (repo === limit.name || slugify(repo) === limit.slug);
  }

  /**
   * The parent a row names: qubitParentSlug first (as AtoM), then parentId, then the
   * default parent of the options, else the top level. `fallback`: the row named a parent
   * that was not found, and goes to the top level instead (an update then leaves the
   * record where it is).
   */
  private async parentOf(
    trx: Db,
    rec: CsvRecord,
    say: (text: string) => void,
    warn: (text: string) => void,
  ): Promise<{ id: number | null; fallback?: boolean } | { error: string }> {
    const slugRef = this.file.cellOf(rec, 'qubitParentSlug');
    if (slugRef) return this.bySlugRef(trx, slugRef, 'qubitParentSlug');
    const parentRef = this.file.cellOf(rec, 'parentId');
    if (parentRef) return this.byParentId(trx, parentRef, 'parentId', say, warn);
    if (this.defaultParent !== null) return { id: this.defaultParent };
    const dflt = this.opts.defaultLegacyParentId;
    if (dflt) return this.byParentId(trx, dflt, '--default-legacy-parent-id', say, warn);
    return { id: null };
  }

  private async bySlugRef(trx: Db, slugRef: string, what: string): Promise<{ id: number } | { error: string }> {
    const cached = this.bySlug.get(slugRef);
    if (cached !== undefined) return { id: cached };
    const d = await getDescriptionBySlug(trx, slugRef);
    if (!d) return { error: `${what} "${slugRef}" matches no description` };
    this.bySlug.set(slugRef, d.id);
    return { id: d.id };
  }

  /**
   * A parentId, as AtoM's csvImportTask reads it: a legacyId of this source (an earlier
   * row, or the keymap of an earlier import); else, as AtoM accepts, the id of an existing
   * description; else the row is imported at the top level with a warning (AtoM: "Could
   * not find parent ... importing as top-level description").
   */
  private async byParentId(
    trx: Db,
    parentRef: string,
    what: string,
    say: (text: string) => void,
    warn: (text: string) => void,
  ): Promise<{ id: number | null; fallback?: boolean } | { error: string }> {
    const known = this.byLegacyId.get(parentRef);
    if (known !== undefined) return { id: known };
    if (this.skippedLegacy.has(parentRef)) {
      return { error: `its parent (the row with legacyId "${parentRef}") was skipped` };
    }
    if (!this.opts.roundtrip) {
      const d = await findByLegacyId(trx, this.opts.sourceName, parentRef);
      if (d) return { id: d.id };
    }
    if (/^[0-9]{1,10}$/.test(parentRef)) {
      const byId = await getDescription(trx, Number(parentRef));
      if (byId) {
        if (!this.opts.roundtrip) say(`${what} "${parentRef}" is no legacyId of this source; it is the id of description ${byId.id} (${byId.slug}), its parent`);
        return { id: byId.id };
      }
    }
    if (this.opts.onError === 'fail') return { error: this.file.noParentText(parentRef) };
    warn(`${this.file.noParentText(parentRef)} nor any description's id; imported at the top level`);
    return { id: null, fallback: true };
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
}

/** A translation row's own fields: its non-blank cells, without the hierarchy and the culture. */
function translatedFields(cells: CsvRow): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [column, value] of cells) {
    if (value === '' || column === 'culture' || (HIERARCHY_COLUMNS as readonly string[]).includes(column)) continue;
    out[column] = value;
  }
  return out;
}
