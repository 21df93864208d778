/** A description read in another culture, and the reader's language from Accept-Language. */
import { expect } from 'chai';
import { localize } from '../../app/archive/translations.js';
import type { Description } from '../../app/archive/types.js';
import { acceptedLanguages, cultureName } from '../../app/web/reader-culture.js';
import { narrativeSections, summaryRows } from '../../workers/tasks/archive/finding-aid-layout.js';

const fonds = {
  id: 1,
  culture: 'en',
  identifier: 'HC',
  title: 'Harbour fonds',
  levelOfDescription: 'Fonds',
  scopeAndContent: 'Records of the harbour',
  extentAndMedium: '3 boxes',
  repository: 'Port Archives',
  publicationStatus: 'published',
  events: [
    { type: '', date: '1900-1950', startDate: '', endDate: '', actor: 'A', actorHistory: '', place: '', description: '' },
    { type: '', date: '', startDate: '', endDate: '', actor: '', actorHistory: '', place: '', description: '' },
    { type: '', date: '', startDate: '', endDate: '', actor: 'B', actorHistory: '', place: '', description: '' },
  ],
  alternativeIdentifiers: [],
  lists: {},
  extra: { archivalHistory: 'Kept by the harbour master', physicalObjectName: 'Box 12' },
} as unknown as Description;

describe('cultures', () => {
  it('reads a description in a culture field by field, the source where the translation lacks a field', () => {
    const fr = localize(fonds, 'fr', {
      culture: 'fr',
      fields: { title: 'Fonds du port', archivalHistory: 'Conservé par le capitaine', identifier: 'XX', levelOfDescription: 'Fonds', scopeAndContent: ' ' },
    });
    expect(fr.description.title).to.equal('Fonds du port');
    expect(fr.description.extra.archivalHistory).to.equal('Conservé par le capitaine');
    expect(fr.description.culture).to.equal('fr');
    // A translation never changes what identifies or places the record; a blank value is no value.
    expect(fr.description.identifier).to.equal('HC');
    expect(fr.description.scopeAndContent).to.equal('Records of the harbour');
    expect([...fr.fallback].sort()).to.deep.equal(['eventActors', 'eventDates', 'extentAndMedium', 'physicalObjectName', 'scopeAndContent']);
    // The source is left alone.
    expect(fonds.title).to.equal('Harbour fonds');
    expect(localize(fonds, 'en', undefined).description).to.equal(fonds);
    const none = localize(fonds, 'de', undefined);
    expect(none.description.title).to.equal('Harbour fonds');
    expect(none.fallback.has('title')).to.equal(true);
  });

  it("takes Accept-Language's languages by quality, then order", () => {
    expect(acceptedLanguages('fr-CA,fr;q=0.9,en;q=0.5,*;q=0.1')).to.deep.equal(['fr-CA', 'fr', 'en']);
    expect(acceptedLanguages('en;q=0.2, de')).to.deep.equal(['de', 'en']);
    expect(acceptedLanguages('es;q=0')).to.deep.equal([]);
    expect(acceptedLanguages(undefined)).to.deep.equal([]);
  });

  it('names a culture in its own language', () => {
    expect(cultureName('fr')).to.equal('Français');
    expect(cultureName('pt_BR')).to.equal('Português (Brasil)');
  });

  it("lays out the summary table in AtoM's order, without physical storage when public", () => {
    const rows = summaryRows(fonds, { reference: 'HC', publicOnly: false });
    expect(rows.map((r) => r.label)).to.deep.equal([
      'Repository',
      'Creator',
      'Title',
      'Reference code',
      'Date(s)',
      'Physical description',
      'Physical storage',
    ]);
    // AtoM's NULL is no value.
    // A blank actor is no actor; two are a list, one a line.
    expect(rows[1].value).to.equal('\u2022 A\n\u2022 B');
    expect(summaryRows(fonds, { reference: 'HC', publicOnly: true }).map((r) => r.label)).to.not.include('Physical storage');
    expect(narrativeSections(fonds, true).map((s) => s.title)).to.deep.equal(['Custodial history', 'Scope and content']);
  });
});
