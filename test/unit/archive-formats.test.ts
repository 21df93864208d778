/** Pure pieces of the archival tasks: RTF escaping, slugs, the CSV header and rows, UTF-8 checking. */
import { expect } from 'chai';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { exportRow, EXPORT_COLUMNS, newFields, rowFields } from '../../app/archive/csv-columns.js';
import { readHeader } from '../../app/archive/csv-header.js';
import { Utf8Check } from '../../app/archive/csv-read.js';
import { RtfWriter, rtfEscape } from '../../app/archive/rtf.js';
import { slugify } from '../../app/archive/slug.js';
import type { Description } from '../../app/archive/types.js';

describe('RTF writer', () => {
  it('escapes the control characters \\ { }', () => {
    expect(rtfEscape('a\\b{c}d')).to.equal('a\\\\b\\{c\\}d');
  });

  it('writes non-ASCII as \\uN with a Windows-1252 fallback byte, negative above 32767', () => {
    expect(rtfEscape('é')).to.equal("\\u233\\'e9");
    expect(rtfEscape('—')).to.equal("\\u8212\\'97");
    expect(rtfEscape('Ω')).to.equal("\\u937\\'3f");
    expect(rtfEscape('\uFFFD')).to.equal("\\u-3\\'3f");
    // An astral character is two UTF-16 surrogates, each its own \u.
    expect(rtfEscape('😀')).to.equal("\\u-10179\\'3f\\u-8704\\'3f");
  });

  it('turns line breaks and tabs into control words and drops other control characters', () => {
    expect(rtfEscape('a\nb\r\nc\rd\te\u0001')).to.equal('a\\line b\\line c\\line d\\tab e');
  });

  it('produces a document with balanced braces', () => {
    const w = new RtfWriter();
    const doc =
      w.begin({ title: 'T {x}' }) +
      w.heading('H', 1) +
      w.field('Label', 'v}') +
      w.paragraph('p{') +
      w.tableRow(['a', 'b'], [1000, 2000], { header: true }) +
      w.end();
    let depth = 0;
    for (let i = 0; i < doc.length; i++) {
      if (doc[i] === '\\') i++;
      else if (doc[i] === '{') depth++;
      else if (doc[i] === '}') depth--;
      expect(depth).to.be.at.least(0);
    }
    expect(depth).to.equal(0);
    expect(doc.startsWith('{\\rtf1\\ansi')).to.equal(true);
  });
});

describe('slugify', () => {
  it('makes lower-case ASCII words joined by hyphens, as AtoM does', () => {
    expect(slugify('Series A')).to.equal('series-a');
    expect(slugify('  Café — Œuvre, 1914–1918! ')).to.equal('cafe-oeuvre-1914-1918');
    expect(slugify('Straße')).to.equal('strasse');
  });

  it('never returns an empty slug, and keeps within the column', () => {
    expect(slugify('')).to.equal('untitled');
    expect(slugify(null)).to.equal('untitled');
    expect(slugify('ΩΩΩ')).to.equal('untitled');
    expect(slugify('x'.repeat(500)).length).to.be.at.most(180);
  });
});

describe('CSV header and rows', () => {
  it('accepts every column of the AtoM template, and the older names of the event columns', () => {
    expect(readHeader([...EXPORT_COLUMNS], true).problems).to.deep.equal([]);
    const old = readHeader(['legacyId', 'title', 'creators', 'creationDates', 'creationDatesStart'], true);
    expect(old.problems).to.deep.equal([]);
    expect(old.columns).to.deep.equal(['legacyId', 'title', 'eventActors', 'eventDates', 'eventStartDates']);
  });

  it('strict: rejects unknown and empty column names, naming them; a repeated column is read as one list', () => {
    const r = readHeader(['legacyId', 'titel', 'title', 'title ', 'Scope', ''], true);
    expect(r.problems[0]).to.include('columns this import does not know: "titel", "Scope"');
    expect(r.problems[0]).to.include('did you mean "title" for "titel"');
    expect(r.problems.join(' ')).to.include('empty column name');
    expect(r.warnings.join(' ')).to.include('names "title" (title, title) more than once');
    expect(readHeader(['legacyId', 'parentId'], false).problems.join(' ')).to.include('neither a "title" nor an "identifier"');
  });

  it('splits a row into fields and extra fields, noting blanks and a bad publication status', () => {
    const row = new Map([
      ['legacyId', '1'],
      ['title', 'A'],
      ['publicationStatus', 'PUBLISHED'],
      ['archivalHistory', 'h'],
      ['scopeAndContent', ''],
    ]);
    const f = rowFields(row);
    expect(f.set).to.deep.equal({ title: 'A', publicationStatus: 'published' });
    expect(f.extra).to.deep.equal({ archivalHistory: 'h' });
    expect(f.blank).to.deep.equal(['scopeAndContent']);
    expect(newFields(f).publicationStatus).to.equal('published');
    expect(newFields(f).culture).to.equal('en');
    const bad = rowFields(new Map([['publicationStatus', 'Public']]));
    expect(bad.badPublicationStatus).to.equal('Public');
    expect(newFields(bad).publicationStatus).to.equal('draft');
  });

  it('writes an export row with the id as legacyId and the status as AtoM spells it', () => {
    const d = {
      id: 7,
      title: 'T',
      identifier: null,
      publicationStatus: 'published',
      events: [],
      alternativeIdentifiers: [],
      lists: { language: ['en', 'fr'] },
      extra: {},
    } as unknown as Description;
    const row = exportRow(d, EXPORT_COLUMNS, { parentId: 3, qubitParentSlug: null });
    const at = (c: string) => row[EXPORT_COLUMNS.indexOf(c)];
    expect(at('legacyId')).to.equal('7');
    expect(at('parentId')).to.equal('3');
    expect(at('publicationStatus')).to.equal('Published');
    expect(at('language')).to.equal('en|fr');
    expect(at('identifier')).to.equal('');
  });
});

describe('UTF-8 check', () => {
  async function check(chunks: Buffer[]): Promise<Error | null> {
    try {
      await pipeline(Readable.from(chunks), new Utf8Check(), new Writable({ write: (_c, _e, cb) => cb() }));
      return null;
    } catch (err) {
      return err as Error;
    }
  }

  it('passes UTF-8 even when a character is split between chunks', async () => {
    const bytes = Buffer.from('a,b\nÉté,日本\n');
    expect(await check([bytes.subarray(0, 5), bytes.subarray(5, 9), bytes.subarray(9)])).to.equal(null);
  });

  it('fails on a Latin-1 byte, naming its line', async () => {
    const err = await check([Buffer.from('a\nb\n'), Buffer.from([0x63, 0xe9, 0x0a])]);
    expect(err?.message).to.include('not valid UTF-8');
    expect(err?.message).to.include('line 3');
  });

  it('fails on a file that ends inside a character', async () => {
    const err = await check([Buffer.from([0x61, 0xe6, 0x97])]);
    expect(err?.message).to.include('ends in the middle of a character');
  });
});
