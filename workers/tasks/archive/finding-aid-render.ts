/**
 * Lays out a finding aid once, for two formats: the layout (finding-aid-layout.ts, after
 * AtoM's stylesheets) decides what is written and in which order, a sink (PDF through
 * pdfkit in finding-aid-pdf.ts, RTF through our writer here) decides how. Both sinks
 * stream to the file, so a fonds of 100,000 items costs no more memory than one of ten.
 *
 * The document, as AtoM's ead-pdf-*.xsl: a cover page (repository, "Finding aid - title
 * (reference code)", when and how it was generated), a table of contents, the summary
 * information, the narrative sections of the top-level description, and the inventory.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { displayOrder, labelOf } from '../../../app/archive/csv-columns.js';
import { RTF_TEXT_WIDTH, RtfWriter } from '../../../app/archive/rtf.js';
import type { Description, TreeNode } from '../../../app/archive/types.js';
import { PdfSink } from './finding-aid-pdf.js';
import {
  INVENTORY_COLUMNS,
  INVENTORY_WIDTHS,
  PRIVATE_COLUMNS,
  datesOf,
  inventoryCells,
  fieldText,
  isHeadingLevel,
  narrativeSections,
  otherRows,
  spanRow,
  summaryRows,
  type Row,
  type SpanRow,
} from './finding-aid-layout.js';

export type FindingAidFormat = 'pdf' | 'rtf';
export type FindingAidModel = 'inventory-summary' | 'full-details';

export interface Cover {
  repository: string;
  title: string;
  lines: string[];
}

export interface TocEntry {
  id: string;
  title: string;
}

/** What a finding aid is made of; each sink renders these in its format. */
export interface Sink {
  cover(c: Cover): Promise<void>;
  /** The table of contents: the front matter's sections and the inventory. */
  contents(entries: TocEntry[]): Promise<void>;
  /** A top-level section: a heading the table of contents and a bookmark point at. */
  section(entry: TocEntry): Promise<void>;
  /** The sections of the table of contents are all placed (the PDF can number them now). */
  endFrontMatter(): Promise<void>;
  summaryTable(rows: Row[]): Promise<void>;
  paragraph(text: string): Promise<void>;
  field(label: string, value: string, indent: number): Promise<void>;
  /** A heading inside the inventory; `mark` bookmarks it at that depth under "Inventory". */
  heading(text: string, level: number, mark: number | null): Promise<void>;
  /** Inventory table: column titles, then rows (the title cell indented by depth). */
  tableHeader(cells: string[]): Promise<void>;
  tableRow(cells: string[], depth: number): Promise<void>;
  /** A series (or other heading level) across the table, with its notes; bookmarked at `mark`. */
  spanRow(row: SpanRow, depth: number, mark: number): Promise<void>;
  close(): Promise<void>;
  abort(): void;
}

export interface BuildOptions {
  path: string;
  format: FindingAidFormat;
  model: FindingAidModel;
  publicOnly: boolean;
  /** The culture written (its display name goes on the cover); null: each description's own. */
  culture: string | null;
  /**
   * The walk: the top-level description first, then its descendants in order. A PDF walks
   * it twice (its first layout counts the pages), so each call starts a new walk.
   */
  nodes: () => AsyncIterable<TreeNode>;
  signal?: AbortSignal;
  /** `counting`: the PDF's first layout, which writes nothing (finding-aid-pdf.ts). */
  onProgress?: (written: number, counting: boolean) => void;
}

/** "French" for "fr", in English, as the rest of the document. */
export function cultureName(culture: string): string {
  try {
    return new Intl.DisplayNames(['en'], { type: 'language' }).of(culture.replace('_', '-')) ?? culture;
  } catch {
    return culture;
  }
}

/** Writes the finding aid to `path`; returns how many descriptions it holds. */
export async function buildFindingAid(o: BuildOptions): Promise<number> {
  // Once for both layouts: the cover of each is then the same.
  const generated = new Date().toISOString().slice(0, 16).replace('T', ' ');
  if (o.format === 'rtf') return layOut(o, generated, async (root) => new RtfSink(o.path, root), false);
  // The PDF's first layout counts the pages and finds each series' page; the second
  // writes them in the contents and the footers (see finding-aid-pdf.ts).
  let counted: PdfSink | null = null;
  await layOut(o, generated, async (root) => (counted = await PdfSink.open(null, root, null)), true);
  const plan = (counted as PdfSink | null)?.planned() ?? null;
  return layOut(o, generated, (root) => PdfSink.open(o.path, root, plan), false);
}

async function layOut(o: BuildOptions, generated: string, open: (root: Description) => Promise<Sink>, counting: boolean): Promise<number> {
  const walk = o.nodes()[Symbol.asyncIterator]();
  const first = await walk.next();
  if (first.done) throw new Error('the hierarchy holds no description to write');
  const root = first.value.description;
  const sink = await open(root);
  let count = 1;
  try {
    const reference = root.identifier?.trim() ?? '';
    const name = root.title ?? root.slug;
    await sink.cover({
      repository: root.repository ?? '',
      title: `Finding aid - ${name}${reference ? ` (${reference})` : ''}`,
      lines: [
        o.model === 'full-details' ? 'Full details' : 'Inventory summary',
        o.publicOnly ? 'Public: published descriptions only' : 'Full: includes draft descriptions and physical storage',
        `Language: ${cultureName(o.culture ?? root.culture)}`,
        `Generated by Docket on ${generated} UTC`,
      ],
    });
    const sections = narrativeSections(root, o.publicOnly);
    const summary: TocEntry = { id: 'summary', title: 'Summary information' };
    const inventory: TocEntry = { id: 'inventory', title: 'Inventory' };
    await sink.contents([summary, ...sections, inventory]);
    await sink.section(summary);
    const rows = summaryRows(root, { reference, publicOnly: o.publicOnly });
    await sink.summaryTable(o.model === 'full-details' ? [...rows, ...otherRows(root, o.publicOnly)] : rows);
    for (const s of sections) {
      await sink.section(s);
      for (const p of s.paragraphs) await sink.paragraph(p);
      for (const f of s.fields) await sink.field(f.label, f.value, 0);
    }
    await sink.section(inventory);
    await sink.endFrontMatter();

    // Reference codes: the identifiers from the top down, one per depth.
    const codes: string[] = [reference];
    let needHeader = true;
    let lower = 0;
    for (let next = await walk.next(); !next.done; next = await walk.next()) {
      if (o.signal?.aborted) throw new Error(`stopped after ${count} descriptions: ${String(o.signal.reason ?? 'cancelled')}`);
      const { description: d, depth } = next.value;
      codes.length = depth;
      codes.push(d.identifier?.trim() ?? '');
      const ref = codes.filter(Boolean).join('-');
      const heading = isHeadingLevel(d.levelOfDescription);
      if (o.model === 'full-details') {
        const level = d.levelOfDescription ? `${d.levelOfDescription}: ` : '';
        await sink.heading(`${level}${d.title ?? d.identifier ?? 'Untitled'}`, Math.min(depth + 1, 4), heading ? depth - 1 : null);
        for (const f of detailFields(d, ref, o.publicOnly)) await sink.field(f.label, f.value, depth - 1);
      } else if (heading) {
        await sink.spanRow(spanRow(d, ref, o.publicOnly), depth - 1, depth - 1);
        needHeader = true;
      } else {
        if (needHeader) await sink.tableHeader(INVENTORY_COLUMNS);
        needHeader = false;
        await sink.tableRow(inventoryCells(d, ref), depth - 1);
      }
      count++;
      lower++;
      if (count % 200 === 0) o.onProgress?.(count, counting);
    }
    if (lower === 0) await sink.paragraph('No lower levels of description.');
    await sink.close();
  } catch (err) {
    sink.abort();
    throw err;
  }
  return count;
}

/** A lower level in full (the full-details model): its fields in its template's order. */
function detailFields(d: Description, reference: string, publicOnly: boolean): Row[] {
  const out: Row[] = reference ? [{ label: 'Reference code', value: reference }] : [];
  for (const c of displayOrder(d)) {
    if (c === 'title' || (publicOnly && PRIVATE_COLUMNS.has(c))) continue;
    const v = c === 'eventDates' ? datesOf(d) : fieldText(d, c);
    if (v.trim() !== '') out.push({ label: labelOf(d, c), value: v });
  }
  if (!publicOnly) out.push({ label: 'Publication status', value: d.publicationStatus === 'published' ? 'Published' : 'Draft' });
  return out;
}

// ---- RTF --------------------------------------------------------------------------

class RtfSink implements Sink {
  private readonly rtf = new RtfWriter();
  private readonly out: WriteStream;
  private readonly widths = INVENTORY_WIDTHS.map((f) => Math.round(f * RTF_TEXT_WIDTH));

  constructor(path: string, root: Description) {
    this.out = createWriteStream(path);
    void this.write(this.rtf.begin({ title: root.title ?? root.slug }));
  }

  /** Writes, waiting while the file is behind (backpressure). */
  private async write(text: string): Promise<void> {
    if (!this.out.write(text)) await once(this.out, 'drain');
  }

  async cover(c: Cover): Promise<void> {
    if (c.repository) await this.write(this.rtf.heading(c.repository, 1));
    await this.write(this.rtf.heading(c.title, 0, { bookmark: 'cover', outline: 0 }));
    for (const l of c.lines) await this.write(this.rtf.paragraph(l, { grey: true }));
    await this.write(this.rtf.pageBreak());
  }

  async contents(entries: TocEntry[]): Promise<void> {
    await this.write(this.rtf.heading('Table of contents', 1));
    await this.write(this.rtf.contents(entries.map((e) => ({ bookmark: e.id, title: e.title, level: 0 }))));
    await this.write(this.rtf.pageBreak());
  }

  section(e: TocEntry): Promise<void> {
    return this.write(this.rtf.heading(e.title, 1, { bookmark: e.id, outline: 0 }));
  }

  async endFrontMatter(): Promise<void> {}

  async summaryTable(rows: Row[]): Promise<void> {
    const widths = [Math.round(RTF_TEXT_WIDTH * 0.3), RTF_TEXT_WIDTH - Math.round(RTF_TEXT_WIDTH * 0.3)];
    for (const r of rows) await this.write(this.rtf.tableRow([`${r.label}:`, r.value], widths, { boldColumn: 0 }));
  }

  heading(text: string, level: number, mark: number | null): Promise<void> {
    return this.write(this.rtf.heading(text, level, mark === null ? {} : { outline: Math.min(mark + 1, 8) }));
  }

  field(label: string, value: string, indent: number): Promise<void> {
    return this.write(this.rtf.field(label, value, indent * 360));
  }

  paragraph(text: string): Promise<void> {
    return this.write(this.rtf.paragraph(text));
  }

  tableHeader(cells: string[]): Promise<void> {
    return this.write(this.rtf.tableRow(cells, this.widths, { header: true }));
  }

  tableRow(cells: string[], depth: number): Promise<void> {
    return this.write(this.rtf.tableRow(cells, this.widths, { indentColumn: 1, indent: depth * 240 }));
  }

  spanRow(row: SpanRow, depth: number): Promise<void> {
    const lines = [...(row.line ? [{ value: row.line }] : []), ...row.notes];
    return this.write(this.rtf.spanRow(row.title, lines, RTF_TEXT_WIDTH, depth * 240));
  }

  async close(): Promise<void> {
    this.out.end(this.rtf.end());
    await once(this.out, 'finish');
  }

  abort(): void {
    this.out.destroy();
  }
}
