/**
 * csv-import's file: opening it with its header checked, reading a row's cells by
 * column, and pass 1, the check. The check reads the whole file before anything is
 * written: UTF-8, CSV syntax, the header, the number of rows (progress needs a total).
 * With `--on-error fail` it also checks that every parentId and qubitParentSlug points
 * somewhere (a parentId may also be an existing description's id, as AtoM accepts), so a
 * bad file fails before anything is written instead of leaving half a hierarchy. A row
 * of another width than the header is no error (AtoM pads a short row and ignores a long
 * row's extra cells); the import says so on its line.
 */
import { descriptionIdsExisting, legacyIdsImported, slugsInUse } from '../../../app/archive/description-matching.js';
import type { CsvRow } from '../../../app/archive/csv-columns.js';
import { cellOf, readHeader, type Header } from '../../../app/archive/csv-header.js';
import { CsvFileError, openCsv, type CsvReader, type CsvRecord, type CsvSource } from '../../../app/archive/csv-read.js';
import type { Db } from '../../../app/db.js';
import { InputError } from '../../../app/errors.js';

/** Problems listed in a failure message before "and N more". */
const LIST_MAX = 10;

/**
 * The check refused the file (`--on-error fail`): these parentIds and qubitParentSlugs
 * point nowhere. Kept so that the CSV of the rows not imported gives each row that names
 * one its reason, not only the first (the message lists ten).
 */
export class RefusedRows extends InputError {
  constructor(
    message: string,
    readonly parents: ReadonlySet<string>,
    readonly slugs: ReadonlySet<string>,
  ) {
    super(message);
  }
}

export class ImportFile {
  /** The header, once the file is open. */
  header: Header | null = null;
  /** The header's names as the file has them (for the CSV of rows not imported). */
  rawHeader: string[] = [];

  constructor(
    readonly source: CsvSource,
    private readonly sourceName: string,
    /** Refuse unknown and empty column names instead of ignoring them. */
    private readonly strictHeader = false,
  ) {}

  /** The number of fields a row should have. */
  get width(): number {
    return this.header?.width ?? 0;
  }

  /** The header's lines for the top of the report (ignored and repeated columns). */
  get warnings(): string[] {
    return this.header?.warnings ?? [];
  }

  /** Opens the file and checks its header; the reader yields its records. */
  async open(): Promise<CsvReader> {
    let reader: CsvReader;
    try {
      reader = await openCsv(this.source);
    } catch (err) {
      if (err instanceof CsvFileError) throw new InputError(`The file was not imported: ${err.message}`);
      throw err;
    }
    const header = readHeader(reader.header, this.strictHeader);
    if (header.problems.length > 0) {
      reader.close();
      throw new InputError(`The file was not imported: ${header.problems.join('; ')}.`);
    }
    this.header = header;
    this.rawHeader = reader.header;
    return reader;
  }

  has(column: string): boolean {
    return this.header?.sources.has(column) ?? false;
  }

  /** A record's cell in `column` (repeated columns merged); empty when the file has no such column. */
  cellOf(rec: CsvRecord, column: string): string {
    return this.header ? cellOf(this.header, rec.values, column) : '';
  }

  /** A record's cells by column, for the columns the file has. */
  cells(rec: CsvRecord): CsvRow {
    const row: CsvRow = new Map();
    for (const column of this.header?.sources.keys() ?? []) row.set(column, this.cellOf(rec, column));
    return row;
  }

  /** What a row says when its parentId names nothing. */
  noParentText(ref: string): string {
    return `parentId "${ref}" matches no earlier row of this file (legacyId) and no description imported from "${this.sourceName}"`;
  }

  /** Reads the whole file once; returns its number of rows or throws before any write. */
  async check(db: Db, strict: boolean): Promise<number> {
    const reader = await this.open();
    // Only with --on-error fail: the legacyIds seen so far, and references to check in
    // the database afterwards (bounded, since a file that bad is rejected anyway).
    const seen = new Set<string>();
    const parentRefs = new Map<string, number>();
    const slugRefs = new Map<string, number>();
    let rows = 0;
    try {
      for await (const rec of reader.records) {
        rows = rec.row;
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
      if (err instanceof CsvFileError) throw new InputError(`The file was not imported: ${err.message}.`);
      throw err;
    }
    if (strict) {
      // Every bad reference in one message: a report of one kind only would send the user
      // back for the other on the next try.
      const parts: string[] = [];
      const parents = await this.missingParents(db, parentRefs);
      const slugs = await this.missingSlugs(db, slugRefs);
      const problems = [...parents, ...slugs].sort((a, b) => a.row - b.row);
      const shown = problems.slice(0, LIST_MAX).map((p) => p.text);
      if (shown.length > 0) {
        parts.push(shown.join('; ') + (problems.length > shown.length ? `; and ${problems.length - shown.length} more` : ''));
      }
      if (parts.length > 0) {
        throw new RefusedRows(
          `The file was not imported (nothing was written): ${parts.join('; ')}.`,
          new Set(parents.map((p) => p.ref)),
          new Set(slugs.map((p) => p.ref)),
        );
      }
    }
    return rows;
  }

  /**
   * Why the check refused this row (its parentId or qubitParentSlug among `refused`), or
   * null; `seen` holds the legacyIds of the rows before it, as the check had them.
   */
  refusal(rec: CsvRecord, refused: RefusedRows, seen: Set<string>): string | null {
    const slugRef = this.cellOf(rec, 'qubitParentSlug');
    const parentRef = this.cellOf(rec, 'parentId');
    let why: string | null = null;
    if (slugRef) {
      if (refused.slugs.has(slugRef)) why = `qubitParentSlug "${slugRef}" matches no description`;
    } else if (parentRef && !seen.has(parentRef) && refused.parents.has(parentRef)) {
      why = this.noParentText(parentRef);
    }
    const legacyId = this.cellOf(rec, 'legacyId');
    if (legacyId) seen.add(legacyId);
    return why;
  }

  private async missingParents(db: Db, refs: Map<string, number>): Promise<Problem[]> {
    const found = await legacyIdsImported(db, this.sourceName, [...refs.keys()]);
    const ids = await descriptionIdsExisting(db, [...refs.keys()].filter((k) => !found.has(k) && /^[0-9]{1,10}$/.test(k)).map(Number));
    return [...refs]
      .filter(([k]) => !found.has(k) && !ids.has(Number(k)))
      .map(([ref, row]) => ({ row, ref, text: `row ${row}: ${this.noParentText(ref)}` }));
  }

  private async missingSlugs(db: Db, refs: Map<string, number>): Promise<Problem[]> {
    const found = await slugsInUse(db, [...refs.keys()]);
    return [...refs]
      .filter(([k]) => !found.has(k))
      .map(([ref, row]) => ({ row, ref, text: `row ${row}: qubitParentSlug "${ref}" matches no description` }));
  }
}

/** A reference the check found pointing nowhere: the first row naming it, and the line. */
interface Problem {
  row: number;
  ref: string;
  text: string;
}
