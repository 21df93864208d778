/**
 * A small RTF 1.x writer: enough for finding aids (headings, labelled fields,
 * paragraphs, simple tables). No library: the format is plain text, and the only care
 * it needs is escaping, done here in one place:
 * - `\`, `{` and `}` are control characters, written `\\`, `\{`, `\}`;
 * - everything outside printable ASCII is written `\uN` and one fallback character
 *   (`\uc1`): N is the UTF-16 code unit as a signed 16-bit number (astral characters as
 *   their two surrogates); the fallback, for readers without Unicode, is the Windows-1252
 *   byte when there is one, else "?", always as a `\'hh` escape as Word writes it (a
 *   bare "?" makes some readers, unrtf among them, drop the rest of the word);
 * - a line break inside a value is `\line`, a tab `\tab`.
 */

/** Escapes text for an RTF body. */
export function rtfEscape(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5c) out += '\\\\';
    else if (c === 0x7b) out += '\\{';
    else if (c === 0x7d) out += '\\}';
    else if (c === 0x0a) out += '\\line ';
    else if (c === 0x0d) {
      // \r\n is one break; a lone \r too.
      if (text.charCodeAt(i + 1) !== 0x0a) out += '\\line ';
    } else if (c === 0x09) out += '\\tab ';
    else if (c < 0x20) continue;
    else if (c < 0x80) out += text[i];
    else out += `\\u${c > 0x7fff ? c - 0x10000 : c}\\'${fallbackByte(c).toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** Windows-1252 bytes 0x80–0x9F, by the character they stand for. */
const CP1252_HIGH: Record<number, number> = {
  0x20ac: 0x80, 0x201a: 0x82, 0x0192: 0x83, 0x201e: 0x84, 0x2026: 0x85, 0x2020: 0x86, 0x2021: 0x87,
  0x02c6: 0x88, 0x2030: 0x89, 0x0160: 0x8a, 0x2039: 0x8b, 0x0152: 0x8c, 0x017d: 0x8e, 0x2018: 0x91,
  0x2019: 0x92, 0x201c: 0x93, 0x201d: 0x94, 0x2022: 0x95, 0x2013: 0x96, 0x2014: 0x97, 0x02dc: 0x98,
  0x2122: 0x99, 0x0161: 0x9a, 0x203a: 0x9b, 0x0153: 0x9c, 0x017e: 0x9e, 0x0178: 0x9f,
};

function fallbackByte(c: number): number {
  if (c >= 0xa0 && c <= 0xff) return c;
  return CP1252_HIGH[c] ?? 0x3f;
}

export interface RtfDocumentInfo {
  title: string;
  author?: string;
  /** Creation time (for the info group). */
  created?: Date;
}

/** Twips (1/1440 inch) of an A4 page and its margins. */
const PAGE = { width: 11906, height: 16838, margin: 1134 };
export const RTF_TEXT_WIDTH = PAGE.width - 2 * PAGE.margin;

/**
 * Builds an RTF document piece by piece; each method returns the text to write, so the
 * caller streams it to a file and memory stays flat whatever the document's length.
 */
export class RtfWriter {
  begin(info: RtfDocumentInfo): string {
    const t = info.created ?? new Date();
    const time = `\\yr${t.getFullYear()}\\mo${t.getMonth() + 1}\\dy${t.getDate()}\\hr${t.getHours()}\\min${t.getMinutes()}`;
    return (
      '{\\rtf1\\ansi\\ansicpg1252\\deff0\\uc1\n' +
      '{\\fonttbl{\\f0\\fswiss\\fcharset0 Arial;}{\\f1\\froman\\fcharset0 Times New Roman;}}\n' +
      '{\\colortbl;\\red0\\green0\\blue0;\\red96\\green96\\blue96;\\red235\\green235\\blue235;}\n' +
      `{\\info{\\title ${rtfEscape(info.title)}}{\\author ${rtfEscape(info.author ?? 'Docket')}}{\\creatim${time}}}\n` +
      `\\paperw${PAGE.width}\\paperh${PAGE.height}\\margl${PAGE.margin}\\margr${PAGE.margin}\\margt${PAGE.margin}\\margb${PAGE.margin}\n` +
      '\\f0\\fs20\n'
    );
  }

  /**
   * A heading; level 0 is the document title, 1–4 sections by depth. With `bookmark`, a
   * bookmark of that name marks it (a table of contents links there); with `outline`,
   * Word's navigation pane lists it at that level (0 = top).
   */
  heading(text: string, level: number, opts: { bookmark?: string; outline?: number } = {}): string {
    const size = [36, 28, 24, 22, 20][Math.min(Math.max(level, 0), 4)];
    const outline = opts.outline === undefined ? '' : `\\outlinelevel${Math.min(Math.max(opts.outline, 0), 8)}`;
    const mark = opts.bookmark ? `{\\*\\bkmkstart ${opts.bookmark}}{\\*\\bkmkend ${opts.bookmark}}` : '';
    return `{\\pard\\keepn${outline}\\sb${level === 0 ? 0 : 240}\\sa120\\b\\fs${size} ${mark}${rtfEscape(text)}\\par}\n`;
  }

  /** Starts a new page. */
  pageBreak(): string {
    return '{\\pard\\page\\par}\n';
  }

  /**
   * A table of contents: Word's TOC field over the headings' outline levels, its result
   * written in advance as one linked line per entry (a reader that does not update fields,
   * unrtf among them, shows that result). Page numbers come when Word updates the field.
   */
  contents(entries: Array<{ bookmark: string; title: string; level: number }>): string {
    let body = '';
    for (const e of entries) {
      body +=
        `{\\pard\\li${e.level * 360}\\sa60 {\\field{\\*\\fldinst HYPERLINK \\\\l "${e.bookmark}"}` +
        `{\\fldrslt ${rtfEscape(e.title)}}}\\par}\n`;
    }
    return `{\\field{\\*\\fldinst TOC \\\\o "1-2" \\\\h}{\\fldrslt\n${body}}}\n`;
  }

  /**
   * A row spanning the whole table width: a bold title, then lines of its own (label in
   * bold, value), as an inventory shows a series with its notes above its files.
   */
  spanRow(title: string, lines: Array<{ label?: string; value: string }>, width: number, indent = 0): string {
    let cell = `\\pard\\intbl\\li${indent}{\\b ${rtfEscape(title)}}`;
    for (const l of lines) cell += `\\line ${l.label ? `{\\b ${rtfEscape(l.label)}:} ` : ''}${rtfEscape(l.value)}`;
    return `\\trowd\\trgaph80\\trleft0\\clcbpat3\\clbrdrb\\brdrs\\brdrw5\\cellx${width}\n${cell}\\cell\n\\row\n\\pard\n`;
  }

  paragraph(text: string, opts: { italic?: boolean; indent?: number; grey?: boolean } = {}): string {
    const fmt = `${opts.italic ? '\\i' : ''}${opts.grey ? '\\cf2' : ''}`;
    return `{\\pard\\li${opts.indent ?? 0}\\sa120${fmt} ${rtfEscape(text)}\\par}\n`;
  }

  /** "Label: value", the label in bold. */
  field(label: string, value: string, indent = 0): string {
    return `{\\pard\\li${indent}\\sa80{\\b ${rtfEscape(label)}:} ${rtfEscape(value)}\\par}\n`;
  }

  /**
   * One table row. `widths` are the columns' widths in twips; `indent` (twips) shifts
   * the text of one column, for the levels of an inventory.
   */
  tableRow(
    cells: string[],
    widths: number[],
    opts: { header?: boolean; indentColumn?: number; indent?: number; boldColumn?: number } = {},
  ): string {
    let row = '\\trowd\\trgaph80\\trleft0';
    if (opts.header) row += '\\trhdr';
    let x = 0;
    for (const w of widths) {
      x += w;
      row += `\\clbrdrb\\brdrs\\brdrw5\\cellx${x}`;
    }
    row += '\n';
    cells.forEach((cell, i) => {
      const li = opts.indentColumn === i && opts.indent ? `\\li${opts.indent}` : '';
      const bold = opts.header || opts.boldColumn === i;
      row += `\\pard\\intbl${li}${bold ? '\\b' : ''} ${rtfEscape(cell)}${bold ? '\\b0' : ''}\\cell\n`;
    });
    return `${row}\\row\n\\pard\n`;
  }

  end(): string {
    return '}\n';
  }
}
