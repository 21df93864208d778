/**
 * The PDF sink of a finding aid (pdfkit): a cover page, a table of contents with the page
 * of each section and of each series, PDF bookmarks (pdfkit's outline) for the sections
 * and for every series of the inventory, the inventory's table, its header repeated on
 * each page, and "Page N of M" at the foot of every page.
 *
 * Pages stream to the file as they are done. Only the front matter is held back: pages
 * are buffered (pdfkit's `bufferPages`) until the inventory starts, so the table of
 * contents, on page 2, can be written with the page numbers of the sections that follow
 * it; then buffering stops and every later page goes to the file when the next begins.
 * The series' pages and the number of pages are known only at the end: the document is
 * laid out twice (buildFindingAid), first into nothing to count them (a `Plan`), then
 * into the file with them. That doubles the time of a PDF but keeps memory flat; holding
 * every page until the end would not.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { once } from 'node:events';
import { Writable, type Readable } from 'node:stream';
import type { Description } from '../../../app/archive/types.js';
import { INVENTORY_WIDTHS, type Row, type SpanRow } from './finding-aid-layout.js';
import type { Cover, Sink, TocEntry } from './finding-aid-render.js';

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

/** What the first layout learnt: each series under the inventory with its page, and the pages. */
export interface Plan {
  series: Array<{ title: string; page: number }>;
  pages: number;
  /** The pages the table of contents took then (without the series), and its lines. */
  contentsPages: number;
  contentsLines: number;
}

/** Lines of the table of contents on its first page (under its title), and on the next ones. */
const TOC_LINE = 18;
const TOC_TITLE_SPACE = 40;

export class PdfSink implements Sink {
  private readonly out: Writable;
  /** Font names for `doc.font()`: standard fonts by their own name, so pdfkit caches them. */
  private readonly standard: Record<Weight, string> = { regular: 'Helvetica', bold: 'Helvetica-Bold' };
  private readonly unicode: Record<Weight, string> | null;
  private readonly left: number;
  private readonly width: number;
  /** The table of contents: its page, its entries, and the page each section starts on. */
  private toc: { page: number; entries: TocEntry[]; pages: Map<string, number> } | null = null;
  /** The "Inventory" bookmark, and the open bookmarks under it by depth. */
  private inventoryMark: PDFKit.PDFOutline | null = null;
  private readonly inventoryChain: PDFKit.PDFOutline[] = [];
  /** The inventory table's header, repeated at the top of each page it continues on. */
  private header: string[] | null = null;
  private pageIndex = 0;
  /** The series met so far (bookmarks right under "Inventory"), with their pages. */
  private readonly series: Plan['series'] = [];
  /** The pages of the table of contents. */
  private contentsPages = 1;

  private constructor(
    private readonly doc: PDFKit.PDFDocument,
    path: string | null,
    /** Null for the first layout, which counts (its pages go nowhere). */
    private readonly plan: Plan | null,
  ) {
    this.out = path === null ? new Writable({ write: (_chunk, _enc, done) => done() }) : createWriteStream(path);
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
    // Known from the start in the second layout: the cover's footer counts them already.
    if (plan) this.contentsPages = this.contentsPagesFor(plan.contentsLines + plan.series.length);
    doc.on('pageAdded', () => {
      this.pageIndex++;
      this.footer();
    });
    this.footer();
  }

  /** The number of pages, once the plan knows it (the first layout does not). */
  private get pages(): number | null {
    return this.plan ? this.plan.pages + this.shift : null;
  }

  /** How many pages later everything after the contents comes than in the first layout. */
  private get shift(): number {
    return this.plan ? this.contentsPages - this.plan.contentsPages : 0;
  }

  /**
   * "Page N of M" at the foot of the page just begun, in the bottom margin (so it moves
   * nothing of the flow: both layouts break pages at the same places). Written when the
   * page begins, since a page goes to the file once the next one starts.
   */
  private footer(): void {
    // A page may begin in the middle of a text that wraps on to it (a long field value,
    // a `continued` label and value): pdfkit's state of that text is set aside while the
    // footer is written, and put back, or the rest of it would be lost or drawn grey.
    type State = { _font: unknown; _fontSize: number; _fillColor: unknown; _wrapper: unknown; _textOptions: unknown; x: number; y: number };
    const doc = this.doc as PDFKit.PDFDocument & State;
    const saved: State = {
      _font: doc._font,
      _fontSize: doc._fontSize,
      _fillColor: doc._fillColor,
      _wrapper: doc._wrapper,
      _textOptions: doc._textOptions,
      x: doc.x,
      y: doc.y,
    };
    doc._wrapper = null;
    doc._textOptions = null;
    const text = `Page ${this.pageIndex + 1} of ${this.pages ?? '?'}`;
    doc.save();
    doc.font(this.standard.regular).fontSize(8).fillColor('#555555');
    const width = doc.widthOfString(text);
    doc.text(text, (doc.page.width - width) / 2, doc.page.height - doc.page.margins.bottom + 20, { lineBreak: false });
    doc.restore();
    Object.assign(doc, saved);
  }

  /** What this layout learnt, for the second one. */
  planned(): Plan {
    const contentsLines = this.toc?.entries.length ?? 0;
    return { series: [...this.series], pages: this.pageIndex + 1, contentsPages: this.contentsPages, contentsLines };
  }

  /** The pages of a table of contents of so many lines (one line each: a title too long is cut). */
  private contentsPagesFor(lines: number): number {
    const top = this.doc.page.margins.top;
    const first = Math.floor((this.bottom - top - TOC_TITLE_SPACE) / TOC_LINE);
    const next = Math.floor((this.bottom - top) / TOC_LINE);
    return 1 + Math.max(0, Math.ceil((lines - first) / next));
  }

  static async open(path: string | null, root: Description, plan: Plan | null): Promise<PdfSink> {
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
      // Until the front matter is done (see the file's comment).
      bufferPages: true,
      displayTitle: true,
    });
    return new PdfSink(doc, path, plan);
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

  private get bottom(): number {
    return this.doc.page.height - this.doc.page.margins.bottom;
  }

  async cover(c: Cover): Promise<void> {
    const doc = this.doc;
    doc.y = doc.page.height * 0.2;
    if (c.repository) {
      doc.fontSize(16).fillColor('#444444');
      doc.text(this.use(c.repository, 'bold'), this.left, doc.y, { width: this.width });
      doc.moveDown(0.8);
    }
    doc.addNamedDestination('cover');
    doc.outline.addItem('Title page');
    doc.fontSize(22).fillColor('black');
    doc.text(this.use(c.title, 'bold'), this.left, doc.y, { width: this.width });
    const y = doc.y + 8;
    doc.moveTo(this.left, y).lineTo(this.left + this.width, y).lineWidth(1).strokeColor('#666666').stroke();
    doc.y = y + 12;
    doc.fontSize(11).fillColor('#555555');
    for (const l of c.lines) doc.text(this.use(l, 'regular'), this.left, doc.y, { width: this.width });
    doc.fillColor('black').fontSize(10);
  }

  async contents(entries: TocEntry[]): Promise<void> {
    this.doc.addPage();
    this.toc = { page: this.pageIndex, entries, pages: new Map() };
    this.doc.addNamedDestination('toc');
    this.doc.outline.addItem('Table of contents');
    this.doc.fontSize(16);
    this.doc.text(this.use('Table of contents', 'bold'), this.left, this.doc.y, { width: this.width });
    this.doc.fontSize(10).moveDown(1);
    // The entries are written by endFrontMatter(), once their pages are known; the pages
    // they take are made now.
    this.contentsPages = this.contentsPagesFor(entries.length + (this.plan?.series.length ?? 0));
    for (let i = 0; i < this.contentsPages; i++) this.doc.addPage();
  }

  async section(e: TocEntry): Promise<void> {
    const doc = this.doc;
    // Keep a heading with at least a few lines of what follows it.
    if (doc.y + 15 * 4 > this.bottom) doc.addPage();
    doc.moveDown(0.6);
    doc.addNamedDestination(e.id, 'XYZ', null, doc.y, null);
    this.toc?.pages.set(e.id, this.pageIndex + 1);
    const mark = doc.outline.addItem(e.title);
    if (e.id === 'inventory') this.inventoryMark = mark;
    doc.fontSize(15);
    doc.text(this.use(e.title, 'bold'), this.left, doc.y, { width: this.width });
    doc.fontSize(10).moveDown(0.3);
  }

  /** Writes the table of contents on its page, then lets every page go to the file. */
  async endFrontMatter(): Promise<void> {
    const doc = this.doc;
    const toc = this.toc;
    if (toc) {
      const here = { x: doc.x, y: doc.y, page: this.pageIndex };
      // The sections, then each series under "Inventory" (AtoM's contents list the
      // series, c01, with their pages), with the pages the first layout found for them.
      const lines = [
        ...toc.entries.map((e) => ({ id: e.id, title: e.title, page: toc.pages.get(e.id) ?? null, indent: 0 })),
        ...(this.plan?.series ?? []).map((r, i) => ({ id: `series-${i}`, title: r.title, page: r.page + this.shift, indent: 16 })),
      ];
      let page = toc.page;
      doc.switchToPage(page);
      doc.fontSize(11);
      let y = doc.page.margins.top + TOC_TITLE_SPACE;
      for (const e of lines) {
        if (y + TOC_LINE > this.bottom) {
          doc.switchToPage(++page);
          y = doc.page.margins.top;
        }
        const number = e.page === null ? '' : String(e.page);
        const pageWidth = doc.widthOfString(number);
        const room = this.width - e.indent - pageWidth - 24;
        let title = this.use(e.title, 'regular');
        if (doc.widthOfString(title) > room) {
          while (title.length > 1 && doc.widthOfString(`${title}...`) > room) title = title.slice(0, -1);
          title = `${title.trimEnd()}...`;
        }
        const titleWidth = doc.widthOfString(title);
        doc.text(title, this.left + e.indent, y, { lineBreak: false, goTo: e.id });
        // Dot leaders between the title and its page, as AtoM's (fo:leader "dots").
        this.use('.', 'regular');
        const dots = Math.max(0, Math.floor((this.width - e.indent - titleWidth - pageWidth - 12) / doc.widthOfString('.')));
        doc.fillColor('#777777').text('.'.repeat(dots), this.left + e.indent + titleWidth + 6, y, { lineBreak: false });
        doc.fillColor('black').text(number, this.left + this.width - pageWidth, y, { lineBreak: false, goTo: e.id });
        y += TOC_LINE;
      }
      doc.switchToPage(here.page);
      doc.x = here.x;
      doc.y = here.y;
      doc.fontSize(10);
    }
    // From here on each page is written out when the next one starts: addPage() ends the
    // buffered ones then (calling flushPages() here would end the page still being written).
    (doc as unknown as { options: { bufferPages: boolean } }).options.bufferPages = false;
  }

  async summaryTable(rows: Row[]): Promise<void> {
    const doc = this.doc;
    const labelWidth = this.width * 0.3;
    for (const r of rows) {
      doc.fontSize(10);
      const label = this.use(`${r.label}:`, 'bold');
      const h = doc.heightOfString(this.use(r.value, 'regular'), { width: this.width - labelWidth - 10 });
      if (doc.y + Math.min(h, 200) > this.bottom) doc.addPage();
      const y = doc.y;
      this.use(label, 'bold');
      doc.text(label, this.left, y, { width: labelWidth - 10, align: 'right' });
      const afterLabel = doc.y;
      const value = this.use(r.value, 'regular');
      doc.text(value, this.left + labelWidth, y, { width: this.width - labelWidth });
      doc.y = Math.max(doc.y, afterLabel) + 4;
      doc.x = this.left;
    }
    await this.breathe();
  }

  async heading(text: string, level: number, mark: number | null): Promise<void> {
    const size = [20, 15, 13, 12, 11][Math.min(Math.max(level, 0), 4)];
    if (this.doc.y + size * 4 > this.bottom) this.doc.addPage();
    this.doc.moveDown(0.6);
    if (mark !== null) this.bookmark(text, mark);
    if (mark === 0) this.seriesHere(text);
    this.doc.fontSize(size);
    this.doc.text(this.use(text, 'bold'), this.left, this.doc.y, { width: this.width });
    this.doc.fontSize(10).moveDown(0.3);
    await this.breathe();
  }

  /** A bookmark under "Inventory" at `depth` (0: a child of it), under the last one above. */
  private bookmark(text: string, depth: number): void {
    const chain = this.inventoryChain;
    chain.length = Math.min(depth, chain.length);
    const above = chain[chain.length - 1] ?? this.inventoryMark ?? this.doc.outline;
    chain.push(above.addItem(text.length > 200 ? `${text.slice(0, 197)}...` : text));
  }

  /** A series right under "Inventory" starts here: its page, and where its contents line points. */
  private seriesHere(title: string): void {
    this.doc.addNamedDestination(`series-${this.series.length}`, 'XYZ', null, this.doc.y, null);
    this.series.push({ title, page: this.pageIndex + 1 });
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
    await this.breathe();
  }

  tableHeader(cells: string[]): Promise<void> {
    this.header = cells;
    return this.row(cells, 0, 'bold');
  }

  tableRow(cells: string[], depth: number): Promise<void> {
    return this.row(cells, depth, 'regular');
  }

  async spanRow(row: SpanRow, depth: number, mark: number): Promise<void> {
    const doc = this.doc;
    const indent = Math.min(depth, 8) * 8;
    const x = this.left + indent;
    const width = this.width - indent;
    doc.fontSize(10);
    const title = this.use(row.title, 'bold');
    const need = doc.heightOfString(title, { width: width - 6 }) + 40;
    if (doc.y + need > this.bottom) doc.addPage();
    doc.moveDown(0.4);
    this.header = null;
    this.bookmark(row.title, mark);
    if (mark === 0) this.seriesHere(row.title);
    const top = doc.y;
    doc.rect(this.left, top, this.width, doc.heightOfString(title, { width: width - 6 }) + 4).fill('#ebebeb');
    doc.fillColor('black');
    this.use(title, 'bold');
    doc.text(title, x + 3, top + 2, { width: width - 6 });
    doc.fontSize(9);
    if (row.line) doc.text(this.use(row.line, 'regular'), x + 3, doc.y + 2, { width: width - 6 });
    for (const n of row.notes) {
      doc.text(`${this.use(n.label, 'bold')}: `, x + 3, doc.y + 1, { width: width - 6, continued: true });
      doc.text(this.use(n.value.length > 3000 ? `${n.value.slice(0, 2997)}...` : n.value, 'regular'));
    }
    doc.x = this.left;
    doc.y += 4;
    doc.fontSize(10);
    await this.breathe();
  }

  /** One table row: the cells side by side, on a new page (under the header again) when the row does not fit. */
  private async row(cells: string[], depth: number, weight: Weight): Promise<void> {
    const doc = this.doc;
    doc.fontSize(9);
    const widths = INVENTORY_WIDTHS.map((f) => f * this.width);
    const indent = Math.min(depth, 8) * 8;
    // A cell longer than a page would never fit a row; an inventory line does not need it.
    const cut = cells.map((c) => (c.length > 600 ? `${c.slice(0, 597)}...` : c));
    const texts: string[] = [];
    const heights = cut.map((c, i) => {
      texts.push(this.use(c || ' ', weight));
      return doc.heightOfString(texts[i], { width: widths[i] - 6 - (i === 1 ? indent : 0) });
    });
    const h = Math.max(...heights) + 4;
    if (doc.y + h > this.bottom) {
      doc.addPage();
      if (this.header && weight === 'regular') await this.row(this.header, 0, 'bold');
      doc.fontSize(9);
    }
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
      .lineWidth(weight === 'bold' ? 0.8 : 0.3)
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
