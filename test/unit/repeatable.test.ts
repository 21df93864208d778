/** Repeatable fields: AtoM's `a|b` cells read into lists and events, and written back. */
import { expect } from 'chai';
import { ADDITIVE_COLUMNS } from '../../app/archive/csv-columns.js';
import { columnCell, columnItems, mergeColumn, readEvents, readExtra, setColumn, storedEvents, storedExtra, type Repeatable } from '../../app/archive/repeatable.js';

const empty = (): Repeatable => ({ events: [], alternativeIdentifiers: [], lists: {}, extra: {} });

describe('repeatable fields', () => {
  it('reads event cells into one object per event and writes the same cells back', () => {
    const r = empty();
    const cells: Record<string, string> = {
      eventTypes: 'Creation|Accumulation|',
      eventDates: '1900-1910|1920|',
      eventStartDates: '1900|1920|',
      eventActors: 'Ann|Bob|Cy',
      eventDescriptions: '',
    };
    for (const [c, v] of Object.entries(cells)) setColumn(r, c, v);
    expect(r.events.map((e) => [e.type, e.date, e.startDate, e.actor])).to.deep.equal([
      ['Creation', '1900-1910', '1900', 'Ann'],
      ['Accumulation', '1920', '1920', 'Bob'],
      ['', '', '', 'Cy'],
    ]);
    for (const [c, v] of Object.entries(cells)) expect(columnCell(r, c), c).to.equal(v);
    expect(columnCell(r, 'eventEndDates')).to.equal('');
    // Shown one by one: each event's dates, blanks left out.
    expect(columnItems(r, 'eventDates')).to.deep.equal(['1900-1910', '1920']);
    // A shorter column replaces its property of every event; an event left empty goes.
    setColumn(r, 'eventActors', 'Ann|Bob');
    expect(r.events).to.have.length(2);
  });

  it('keeps alternative identifiers with their labels, and lists without blanks', () => {
    const r = empty();
    setColumn(r, 'alternativeIdentifierLabels', 'Old|');
    setColumn(r, 'alternativeIdentifiers', 'A-1|B-2');
    setColumn(r, 'subjectAccessPoints', 'Ships| Harbours ||');
    setColumn(r, 'archivalHistory', 'not | a list');
    expect(r.alternativeIdentifiers).to.deep.equal([
      { identifier: 'A-1', label: 'Old' },
      { identifier: 'B-2', label: '' },
    ]);
    expect(columnItems(r, 'alternativeIdentifiers')).to.deep.equal(['Old: A-1', 'B-2']);
    expect(r.lists).to.deep.equal({ subjectAccessPoints: ['Ships', 'Harbours'] });
    expect(r.extra).to.deep.equal({ archivalHistory: 'not | a list' });
    // Stored as JSON lists, read back the same.
    const back = { ...readExtra(storedExtra(r)), events: readEvents(storedEvents(r.events)) };
    expect(back).to.deep.equal(r);
    setColumn(r, 'subjectAccessPoints', '');
    expect(r.lists).to.deep.equal({});
  });

  it("adds a match-and-update's notes and access points beside the old ones, once each, and replaces other columns", () => {
    const r = empty();
    setColumn(r, 'generalNote', 'First');
    setColumn(r, 'eventActors', 'Ann');
    mergeColumn(r, 'generalNote', 'First|Second', ADDITIVE_COLUMNS);
    mergeColumn(r, 'eventActors', 'Bob', ADDITIVE_COLUMNS);
    expect(r.lists.generalNote).to.deep.equal(['First', 'Second']);
    expect(r.events.map((e) => e.actor)).to.deep.equal(['Bob']);
  });
});
