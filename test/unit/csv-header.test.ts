import { expect } from 'chai';
import { cellOf, editDistance, readHeader, suggestColumn } from '../../app/archive/csv-header.js';

describe('CSV header as AtoM reads it', () => {
  it('ignores unknown columns with a warning naming them, "did you mean" for near misses', () => {
    const h = readHeader(['legacyId', 'title', 'scopeAndContents', 'myOwnColumn', 'SCOPEANDCONTENT'], false);
    expect(h.problems).to.deep.equal([]);
    expect(h.columns).to.deep.equal(['legacyId', 'title', '', '', '']);
    expect(h.warnings[0]).to.include('3 columns this import does not know were ignored, as AtoM ignores them');
    expect(h.warnings[0]).to.include('"scopeAndContents", "myOwnColumn", "SCOPEANDCONTENT"');
    expect(h.warnings[0]).to.include('did you mean "scopeAndContent" for "scopeAndContents", "scopeAndContent" for "SCOPEANDCONTENT"?');
    expect(h.unknown.find((u) => u.name === 'myOwnColumn')?.suggestion).to.equal(null);
  });

  it('caps the names of unknown columns at ten, counting the rest', () => {
    const names = Array.from({ length: 25 }, (_, i) => `zzz${i}`);
    const h = readHeader(['title', ...names], true);
    expect(h.problems[0]).to.include('"zzz9" and 15 more');
    expect(h.problems[0]).to.not.include('zzz10');
  });

  it("reads AtoM's export columns (slug, referenceCode) without a warning", () => {
    const h = readHeader(['referenceCode', 'legacyId', 'title', 'digitalObjectChecksum', 'slug'], true);
    expect(h.problems).to.deep.equal([]);
    expect(h.warnings).to.deep.equal([]);
    expect(h.columns).to.deep.equal(['', 'legacyId', 'title', 'digitalObjectChecksum', '']);
  });

  it('suggests only near names', () => {
    expect(editDistance('titel', 'title')).to.equal(2);
    expect(suggestColumn('titel')).to.equal('title');
    expect(suggestColumn('id')).to.equal(null);
    expect(suggestColumn('radNoteRight')).to.equal('radNoteRights');
  });

  it('reads a repeated column as one list of its distinct values', () => {
    const h = readHeader(['title', 'accessionNumber', 'accessionNumber'], false);
    expect(cellOf(h, ['A', 'ACC-1', 'ACC-2'], 'accessionNumber')).to.equal('ACC-1|ACC-2');
    expect(cellOf(h, ['A', 'ACC-1', 'ACC-1'], 'accessionNumber')).to.equal('ACC-1');
    expect(cellOf(h, ['A', '', 'ACC-2'], 'accessionNumber')).to.equal('ACC-2');
  });

  it('keeps events aligned when a file has both the 2.1 names and the event columns', () => {
    const h = readHeader(['title', 'creators', 'creatorDates', 'eventActors', 'eventTypes', 'eventDates'], false);
    const row = ['A', 'Old 1|Old 2', '1900|1910', 'New', 'Creation', 'NULL'];
    expect(cellOf(h, row, 'eventActors')).to.equal('Old 1|Old 2|New');
    expect(cellOf(h, row, 'eventDates')).to.equal('1900|1910|');
    expect(cellOf(h, row, 'eventTypes')).to.equal('||Creation');
  });

  it('reads NULL in an event column as no value', () => {
    const h = readHeader(['title', 'eventDates', 'eventActors'], false);
    expect(cellOf(h, ['A', 'NULL', 'X|NULL'], 'eventDates')).to.equal('');
    expect(cellOf(h, ['A', 'NULL', 'X|NULL'], 'eventActors')).to.equal('X|');
    expect(cellOf(h, ['NULL', '', ''], 'title')).to.equal('NULL');
  });
});
