/**
 * Lays out a finding aid once, for two formats: the model decides what is written, a
 * sink (PDF through pdfkit, RTF through our writer) decides how. Both sinks stream to
 * the file, so a fonds of 100,000 items costs no more memory than one of ten.
 */
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { displayOrder, fieldValue, labelOf } from '../../../app/archive/csv-columns.js';
import { RTF_TEXT_WIDTH, RtfWriter } from '../../../app/archive/rtf.js';
import type { Description, TreeNode } from '../../../app/archive/types.js';

export type FindingAidFormat = 'pdf' | 'rtf';
export type FindingAidModel = 'inventory-summary' | 'full-details';

/** What a finding aid is made of; each sink renders these in its format. */
interface Sink {
  title(text: string, lines: string[]): Promise<void>;
  heading(text: string, level: number): Promise<void>;
  field(label: string, value: string, indent: number): Promise<void>;
  paragraph(text: string): Promise<void>;
  /** Inventory table: column titles, then rows (the title cell indented by depth). */
  tableHeader(cells: string[]): Promise<void>;
  tableRow(cells: string[], depth: number): Promise<void>;
  close(): Promise<void>;
  abort(): void;
}

/** Column widths of the inventory table, as fractions of the text width. */
const TABLE = [0.2, 0.5, 0.12, 0.18];
const TABLE_TITLES = ['Reference code', 'Title', 'Level', 'Dates'];

/** Fields of the top-level description in an inventory summary. */
const SUMMARY_FIELDS = [
  'eventDates',
  'levelOfDescription',
  'extentAndMedium',
  'repository',
  'eventActors',
  'scopeAndContent',
  'arrangement',
  'accessConditions',
];

/** Display form of a CSV value: `|` separates values of a list. */
function shown(value: string): string {
  return value.includes('|') ? value.split('|').map((s) => s.trim()).filter(Boolean).join('; ') : value;
}

function datesOf(d: Description): string {
  if (d.eventDates) return shown(d.eventDates);
  const start = d.eventStartDates ? shown(d.eventStartDates) : '';
  const end = d.eventEndDates ? shown(d.eventEndDates) : '';
  return start && end ? `${start} – ${end}` : start || end;
}

function fieldsOf(d: Description, columns: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const c of columns) {
    const v = c === 'eventDates' ? datesOf(d) : fieldValue(d, c);
    if (v.trim() !== '') out.push([labelOf(d, c), shown(v)]);
  }
  return out;
}

export interface BuildOptions {
  path: string;
  format: FindingAidFormat;
  model: FindingAidModel;
  publicOnly: boolean;
  root: Description;
  nodes: AsyncIterable<TreeNode>;
  signal?: AbortSignal;
  onProgress?: (written: number) => void;
}

/** Writes the finding aid to `path`; returns how many descriptions it holds. */
export async function buildFindingAid(o: BuildOptions): Promise<number> {
  const sink = o.format === 'pdf' ? await PdfSink.open(o.path, o.root) : new RtfSink(o.path, o.root);
  let count = 0;
  try {
    const modelName = o.model === 'full-details' ? 'Full details' : 'Inventory summary';
    await sink.title(o.root.title ?? o.root.slug, [
      `Finding aid — ${modelName}`,
      o.publicOnly ? 'Public: published descriptions only' : 'Private: includes draft descriptions',
      `Generated ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    ]);
    // Reference codes: the identifiers from the top down, one per depth.
    const codes: string[] = [];
    let tableStarted = false;
    for await (const { description: d, depth } of o.nodes) {
      if (o.signal?.aborted) throw new Error(`stopped after ${count} descriptions: ${String(o.signal.reason ?? 'cancelled')}`);
      codes.length = depth;
      codes.push(d.identifier?.trim() ?? '');
      const reference = codes.filter(Boolean).join('-');
      const name = d.title ?? d.identifier ?? 'Untitled';
      if (o.model === 'full-details') {
        const level = d.levelOfDescription ? `${d.levelOfDescription}: ` : '';
        await sink.heading(`${level}${name}`, Math.min(depth + 1, 4));
        if (reference) await sink.field('Reference code', reference, depth);
        for (const [label, value] of fieldsOf(d, displayOrder(d).filter((c) => c !== 'title'))) {
          await sink.field(label, value, depth);
        }
        if (!o.publicOnly) await sink.field('Publication status', d.publicationStatus === 'published' ? 'Published' : 'Draft', depth);
      } else if (depth === 0) {
        await sink.heading('Description', 1);
        if (reference) await sink.field('Reference code', reference, 0);
        await sink.field('Title', name, 0);
        for (const [label, value] of fieldsOf(d, SUMMARY_FIELDS)) await sink.field(label, value, 0);
      } else {
        if (!tableStarted) {
          await sink.heading('Inventory', 1);
          await sink.tableHeader(TABLE_TITLES);
          tableStarted = true;
        }
        await sink.tableRow([reference, name, d.levelOfDescription ?? '', datesOf(d)], depth - 1);
      }
      count++;
      if (count % 200 === 0) o.onProgress?.(count);
    }
    if (o.model === 'inventory-summary' && !tableStarted) {
      await sink.heading('Inventory', 1);
      await sink.paragraph('No lower levels of description.');
    }
    await sink.close();
  } catch (err) {
    sink.abort();
    throw err;
  }
  return count;
}

// ---- RTF --------------------------------------------------------------------------

class RtfSink implements Sink {
  private readonly rtf = new RtfWriter();
  private readonly out: WriteStream;
  private readonly widths = TABLE.map((f) => Math.round(f * RTF_TEXT_WIDTH));

  constructor(path: string, root: Description) {
    this.out = createWriteStream(path);
    void this.write(this.rtf.begin({ title: root.title ?? root.slug }));
  }

  /** Writes, waiting while the file is behind (backpressure). */
  private async write(text: string): Promise<void> {
    if (!this.out.write(text)) await once(this.out, 'drain');
  }

  async title(text: string, lines: string[]): Promise<void> {
    await this.write(this.rtf.heading(text, 0));
    for (const l of lines) await this.write(this.rtf.paragraph(l, { grey: true }));
  }

  heading(text: string, level: number): Promise<void> {
    return this.write(this.rtf.heading(text, level));
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

  async close(): Promise<void> {
    this.out.end(this.rtf.end());
    await once(this.out, 'finish');
  }

  abort(): void {
    this.out.destroy();
  }
}

// ---- PDF --------------------------------------------------------------------------

/**
 * Fonts. Text that Windows-1252 can encode (most archival text in Western languages)
 * is set in the PDF standard fonts: nothing to embed, and no OpenType shaping, which
 * costs about a millisecond a line and made a 100,000-item inventory take minutes.
 * Other text (Greek, Cyrillic, CJK...) is set in a TrueType font when the system has
 * one, Liberation Sans first since it has Helvetica's metrics; without one it shows "?".
 */
const UNICODE_FONTS: Array<[string, string]> = [
  [
    '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
    '/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf',
  ],
  ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf', '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'],
  ['/usr/share/fonts/TTF/DejaVuSans.ttf', '/usr/share/fonts/TTF/DejaVuSans-Bold.ttf'],
];

/** Characters outside Windows-1252 (Latin-1 plus the 27 it adds in 0x80–0x9F). */
const NOT_CP1252 =
  /[^\t\n\r\u0020-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]/;

type Weight = 'regular' | 'bold';

class PdfSink implements Sink {
  private readonly out: WriteStream;
  /** Font names for `doc.font()`: standard fonts by their own name, so pdfkit caches them. */
  private readonly standard: Record<Weight, string> = { regular: 'Helvetica', bold: 'Helvetica-Bold' };
  private readonly unicode: Record<Weight, string> | null;
  private readonly left: number;
  private readonly width: number;

  private constructor(
    private readonly doc: PDFKit.PDFDocument,
    path: string,
  ) {
    this.out = createWriteStream(path);
    doc.pipe(this.out);
    const ttf = UNICODE_FONTS.find(([regular, bold]) => existsSync(regular) && existsSync(bold));
    if (ttf) {
      doc.registerFont('unicode', ttf[0]);
      doc.registerFont('unicode-bold', ttf[1]);
      this.unicode = { regular: 'unicode', bold: 'unicode-bold' };
    } else {
      this.unicode = null;
    }
    this.left = doc.page.margins.left;
    this.width = doc.page.width - doc.page.margins.left - doc.page.margins.right;
    doc.font(this.standard.regular).fontSize(10);
  }

  static async open(path: string, root: Description): Promise<PdfSink> {
    // Loaded here, not at the top: a worker's children load every handler, and most of
    // their jobs never write a PDF.
    const { default: PDFDocument } = await import('pdfkit');
    const doc = new PDFDocument({
      size: 'A4',
      margin: 56,
      info: { Title: root.title ?? root.slug, Author: 'Docket', Subject: 'Finding aid' },
      // The layout cache keeps every distinct word for the life of the document: with
      // 100,000 descriptions it grew past a gigabyte.
      fontLayoutCache: false,
    });
    return new PdfSink(doc, path);
  }

  /** Selects the font for this text and returns the text to write. */
  private use(text: string, weight: Weight): string {
    // eslint-disable-next-line no-control-regex
    let clean = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');
    let font = this.standard[weight];
    if (NOT_CP1252.test(clean)) {
      if (this.unicode) font = this.unicode[weight];
      else clean = clean.replace(new RegExp(NOT_CP1252.source, 'g'), '?');
    }
    this.doc.font(font);
    return clean;
  }

  /**
   * Lets the document's output reach the file. pdfkit pushes into its stream without
   * waiting, and a loop whose awaits all resolve at once (a fast database, a page of
   * descriptions already read) never lets the event loop move that output along: it
   * piled up in memory, 2.7 MB per 1,000 descriptions. Past 1 MB, yield, then wait for
   * the file if it is behind.
   */
  private async breathe(): Promise<void> {
    if ((this.doc as unknown as Readable).readableLength > 1 << 20 || this.out.writableNeedDrain) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.out.writableNeedDrain) await once(this.out, 'drain');
    }
  }

  async title(text: string, lines: string[]): Promise<void> {
    this.doc.fontSize(20);
    this.doc.text(this.use(text, 'bold'), this.left, this.doc.y, { width: this.width });
    this.doc.moveDown(0.3);
    this.doc.fontSize(10).fillColor('#555555');
    for (const l of lines) this.doc.text(this.use(l, 'regular'), { width: this.width });
    this.doc.fillColor('black').moveDown(1);
  }

  async heading(text: string, level: number): Promise<void> {
    const size = [20, 15, 13, 12, 11][Math.min(Math.max(level, 0), 4)];
    const bottom = this.doc.page.height - this.doc.page.margins.bottom;
    // Keep a heading with at least a few lines of what follows it.
    if (this.doc.y + size * 4 > bottom) this.doc.addPage();
    this.doc.moveDown(0.6);
    this.doc.fontSize(size);
    this.doc.text(this.use(text, 'bold'), this.left, this.doc.y, { width: this.width });
    this.doc.fontSize(10).moveDown(0.3);
    await this.breathe();
  }

  async field(label: string, value: string, indent: number): Promise<void> {
    const x = this.left + Math.min(indent, 6) * 14;
    this.doc.fontSize(10);
    this.doc.text(`${this.use(label, 'bold')}: `, x, this.doc.y, { width: this.width - (x - this.left), continued: true });
    this.doc.text(this.use(value, 'regular'));
    this.doc.moveDown(0.2);
    await this.breathe();
  }

  async paragraph(text: string): Promise<void> {
    this.doc.fontSize(10);
    this.doc.text(this.use(text, 'regular'), this.left, this.doc.y, { width: this.width });
    this.doc.moveDown(0.4);
  }

  tableHeader(cells: string[]): Promise<void> {
    return this.row(cells, 0, 'bold');
  }

  tableRow(cells: string[], depth: number): Promise<void> {
    return this.row(cells, depth, 'regular');
  }

  /** One table row: the cells side by side, on a new page when the row does not fit. */
  private async row(cells: string[], depth: number, weight: Weight): Promise<void> {
    const doc = this.doc;
    doc.fontSize(9);
    const widths = TABLE.map((f) => f * this.width);
    const indent = Math.min(depth, 8) * 8;
    // A cell longer than a page would never fit a row; an inventory line does not need it.
    const cut = cells.map((c) => (c.length > 600 ? `${c.slice(0, 597)}...` : c));
    const texts: string[] = [];
    const heights = cut.map((c, i) => {
      texts.push(this.use(c || ' ', weight));
      return doc.heightOfString(texts[i], { width: widths[i] - 6 - (i === 1 ? indent : 0) });
    });
    const h = Math.max(...heights) + 4;
    if (doc.y + h > doc.page.height - doc.page.margins.bottom) doc.addPage();
    const y = doc.y;
    let x = this.left;
    texts.forEach((c, i) => {
      const shift = i === 1 ? indent : 0;
      this.use(c, weight);
      doc.text(c, x + shift, y, { width: widths[i] - 6 - shift, lineBreak: true });
      x += widths[i];
    });
    doc
      .moveTo(this.left, y + h - 1)
      .lineTo(this.left + this.width, y + h - 1)
      .lineWidth(0.3)
      .strokeColor('#999999')
      .stroke();
    doc.x = this.left;
    doc.y = y + h + 1;
    doc.fontSize(10);
    await this.breathe();
  }

  async close(): Promise<void> {
    this.doc.end();
    await once(this.out, 'finish');
  }

  abort(): void {
    this.doc.unpipe(this.out);
    this.out.destroy();
  }
}
