/**
 * What a finding aid holds and in which order, after AtoM's own stylesheets
 * (lib/task/pdf/ead-pdf-inventory-summary.xsl and ead-pdf-full-details.xsl): the
 * `ead:archdesc` template there lays out, in this order, the summary information (the
 * `did`), the administrative or biographical history (`bioghist`), the custodial history
 * (`custodhist`), the scope and content, a "Notes" section in RAD's order, the access
 * points (`controlaccess`), and the inventory (`dsc`). Pure functions: the sinks in
 * finding-aid-render.ts and finding-aid-pdf.ts decide how each piece looks.
 */
import { displayOrder, fieldItems, fieldValue, labelOf } from '../../../app/archive/csv-columns.js';
import { ACCESS_POINT_COLUMNS, eventDates, isRepeatable } from '../../../app/archive/repeatable.js';
import { RAD_NOTE_COLUMNS } from '../../../app/archive/rad.js';
import type { Description } from '../../../app/archive/types.js';

/** Display form of a single CSV value that may still hold a `|` list (physical storage...). */
export function shown(value: string): string {
  return value.includes('|') ? listOf(value).join('; ') : value;
}

/** The values of a `|` list, blanks and AtoM's NULL placeholder left out. */
export function listOf(value: string | null | undefined): string[] {
  return (value ?? '')
    .split('|')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== 'NULL');
}

/**
 * A repeatable field's items as one value, one item per line: bulleted when there are
 * several, so that a note or an access point reads as the list it is (the sinks break
 * lines at "\n"); a single item as it is.
 */
export function listed(items: readonly string[]): string {
  return items.length > 1 ? items.map((i) => `\u2022 ${i}`).join('\n') : (items[0] ?? '');
}

/** A field as the finding aid writes it: a repeatable one item a line, another as written ("; " for a stray `|`). */
export function fieldText(d: Description, column: string): string {
  return isRepeatable(column) ? listed(fieldItems(d, column)) : shown(fieldValue(d, column));
}

/** The dates AtoM shows, one line per event: its display dates, else start – end. */
export function datesOf(d: Description): string {
  return d.events
    .map(eventDates)
    .filter((s) => s !== '')
    .join('\n');
}

/** Physical storage: AtoM's `physloc`, one "name (location), type" per container. */
function physicalStorage(d: Description): string {
  const names = listOf(d.extra.physicalObjectName);
  const places = (d.extra.physicalObjectLocation ?? '').split('|').map((s) => s.trim());
  const types = (d.extra.physicalObjectType ?? '').split('|').map((s) => s.trim());
  return listed(names.map((n, i) => `${n}${places[i] && places[i] !== 'NULL' ? ` (${places[i]})` : ''}${types[i] && types[i] !== 'NULL' ? `, ${types[i]}` : ''}`));
}

/** Fields a public finding aid leaves out: AtoM hides physical storage from the public. */
export const PRIVATE_COLUMNS: ReadonlySet<string> = new Set([
  'physicalObjectName',
  'physicalObjectLocation',
  'physicalObjectType',
  'archivistNote',
  'publicationStatus',
]);

export interface Row {
  label: string;
  value: string;
}

/**
 * The "Summary information" table (the `did` template's rows, in its order): repository,
 * creator, title, reference code, dates, physical description, physical storage (not in a
 * public finding aid), language. A row without a value is left out, as AtoM does.
 */
export function summaryRows(d: Description, o: { reference: string; publicOnly: boolean }): Row[] {
  const rows: Row[] = [
    { label: 'Repository', value: d.repository ?? '' },
    { label: 'Creator', value: listed(fieldItems(d, 'eventActors')) },
    { label: 'Title', value: d.title ?? '' },
    { label: 'Reference code', value: o.reference },
    { label: 'Date(s)', value: datesOf(d) },
    { label: 'Physical description', value: d.extentAndMedium ?? '' },
    { label: 'Physical storage', value: o.publicOnly ? '' : physicalStorage(d) },
    { label: 'Language', value: listed(fieldItems(d, 'language')) },
  ];
  return rows.filter((r) => r.value.trim() !== '');
}

/**
 * The "Notes" section, in the order the stylesheet applies them ("Try to handle EAD tags
 * in RAD order"): RAD's title notes, physical condition (`phystech`), acquisition,
 * arrangement, originals, copies (`altformavail`), access and use restrictions, other
 * finding aids, related material, accruals, then the other notes (`odd`, `note`).
 */
const NOTE_COLUMNS = [
  'radTitleVariationsInTitle',
  'radTitleSourceOfTitleProper',
  'radTitleParallelTitles',
  'radTitleStatementOfResponsibilityNote',
  'radTitleAttributionsAndConjectures',
  'radTitleContinues',
  'radTitleNoteContinuationOfTitle',
  'physicalCharacteristics',
  'acquisition',
  'arrangement',
  'locationOfOriginals',
  'locationOfCopies',
  'accessConditions',
  'reproductionConditions',
  'findingAids',
  'relatedUnitsOfDescription',
  'accruals',
  'appraisal',
  'languageNote',
  'publicationNote',
  'generalNote',
  ...RAD_NOTE_COLUMNS,
  'archivistNote',
] as const;

export interface Section {
  /** The destination the table of contents and the bookmarks point at. */
  id: string;
  title: string;
  /** Paragraphs (a narrative section) ... */
  paragraphs: string[];
  /** ... or labelled fields (notes, access points). */
  fields: Row[];
}

function labelled(d: Description, columns: readonly string[], publicOnly: boolean): Row[] {
  return columns
    .filter((c) => !(publicOnly && PRIVATE_COLUMNS.has(c)))
    .map((c) => ({ label: labelOf(d, c), value: fieldText(d, c) }))
    .filter((r) => r.value.trim() !== '');
}

/** The narrative sections of the top-level description, AtoM's order, the empty ones left out. */
export function narrativeSections(d: Description, publicOnly: boolean): Section[] {
  const sections: Section[] = [
    { id: 'bioghist', title: 'Administrative history / Biographical sketch', paragraphs: fieldItems(d, 'eventActorHistories'), fields: [] },
    { id: 'custodhist', title: 'Custodial history', paragraphs: listOf(d.extra.archivalHistory), fields: [] },
    { id: 'scopecontent', title: 'Scope and content', paragraphs: d.scopeAndContent ? [d.scopeAndContent] : [], fields: [] },
    { id: 'notes', title: 'Notes', paragraphs: [], fields: labelled(d, NOTE_COLUMNS, publicOnly) },
    { id: 'controlaccess', title: 'Access points', paragraphs: [], fields: labelled(d, ACCESS_POINT_COLUMNS, publicOnly) },
  ];
  return sections.filter((s) => s.paragraphs.length > 0 || s.fields.length > 0);
}

/**
 * Levels whose rows span the inventory table with their notes, as the stylesheet's
 * `dsc` templates head a series (collection, record group, fonds, and their sub-levels)
 * and list files and items in the table under it. Matched on the source culture's level.
 */
const HEADING_LEVELS = new Set(['fonds', 'subfonds', 'sous-fonds', 'collection', 'series', 'subseries', 'sub-series', 'record group', 'recordgrp', 'subgroup', 'subgrp']);

export function isHeadingLevel(level: string | null): boolean {
  return level !== null && HEADING_LEVELS.has(level.trim().toLowerCase());
}

/** The inventory table's columns: AtoM's inventory summary (ead-pdf-inventory-summary.xsl). */
export const INVENTORY_COLUMNS = ['Reference code', 'Level and title', 'Dates', 'Physical description'];

/** Their widths, as fractions of the text width. */
export const INVENTORY_WIDTHS = [0.18, 0.44, 0.16, 0.22];

/** One item or file row of the inventory. */
export function inventoryCells(d: Description, reference: string): string[] {
  const name = d.title ?? d.identifier ?? 'Untitled';
  return [reference, d.levelOfDescription ? `${d.levelOfDescription}: ${name}` : name, datesOf(d), shown(d.extentAndMedium ?? '')];
}

/** The notes a spanning row (a series) carries under its title. */
const SPAN_COLUMNS = ['scopeAndContent', 'arrangement', 'accessConditions', 'reproductionConditions', 'generalNote'] as const;

export interface SpanRow {
  title: string;
  /** Reference code, dates and extent, on one line. */
  line: string;
  notes: Row[];
}

export function spanRow(d: Description, reference: string, publicOnly: boolean): SpanRow {
  const name = d.title ?? d.identifier ?? 'Untitled';
  const line = [reference, datesOf(d), shown(d.extentAndMedium ?? '')].filter((s) => s.trim() !== '').join(' · ');
  const notes = labelled(d, SPAN_COLUMNS, publicOnly);
  if (!publicOnly) {
    const storage = physicalStorage(d);
    if (storage) notes.push({ label: 'Physical storage', value: storage });
  }
  return { title: d.levelOfDescription ? `${d.levelOfDescription}: ${name}` : name, line, notes };
}

/** Columns the summary table and the sections above already show. */
const SHOWN_ABOVE: ReadonlySet<string> = new Set<string>([
  'identifier',
  'title',
  'repository',
  'eventActors',
  'eventDates',
  'eventStartDates',
  'eventEndDates',
  'extentAndMedium',
  'physicalObjectName',
  'physicalObjectLocation',
  'physicalObjectType',
  'language',
  'eventActorHistories',
  'archivalHistory',
  'scopeAndContent',
  ...NOTE_COLUMNS,
  ...ACCESS_POINT_COLUMNS,
]);

/**
 * The top-level description's other fields (level, RAD's title and edition areas,
 * identifiers, control area...), in its template's order: a full-details finding aid
 * adds them to the summary table so that no field of the description is left out.
 */
export function otherRows(d: Description, publicOnly: boolean): Row[] {
  return displayOrder(d)
    .filter((c) => !SHOWN_ABOVE.has(c) && !(publicOnly && PRIVATE_COLUMNS.has(c)))
    .map((c) => ({ label: labelOf(d, c), value: fieldText(d, c) }))
    .filter((r) => r.value.trim() !== '');
}
