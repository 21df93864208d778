/**
 * AtoM's repeatable fields, as Docket keeps them: real lists, not `a|b` text. Pure
 * functions, no database.
 *
 * AtoM's CSV writes a repeatable field as one cell with `|` between the values, and the
 * events (and the alternative identifiers) as parallel cells whose n-th items belong
 * together. Docket reads them into lists once, at import: a note or an access point is an
 * item of `lists`, an event one object of `events`, an alternative identifier one pair of
 * `alternativeIdentifiers`. Pages and finding aids show the items one by one; the CSV
 * export writes AtoM's `a|b` form back from them (`columnCell`), so a round trip gives the
 * same cells.
 */
import { RAD_NOTE_COLUMNS } from './rad.js';
import type { AlternativeIdentifier, DescriptionEvent, DescriptionFields } from './types.js';

/**
 * The single-list repeatable columns: AtoM's notes (a QubitNote per value; csvImportTask's
 * `noteMap` and RAD's `radNote*` columns), its access points (a term relation per value)
 * and the languages and scripts (csvImportTask's `languageMap`/`scriptMap`, one code per
 * value).
 */
export const NOTE_COLUMNS = [
  'generalNote',
  'archivistNote',
  'publicationNote',
  'languageNote',
  'radTitleStatementOfResponsibilityNote',
  'radTitleNoteContinuationOfTitle',
  'radPublishersSeriesNote',
  'radNoteOnPublishersSeries',
  ...RAD_NOTE_COLUMNS,
] as const;

export const ACCESS_POINT_COLUMNS = ['subjectAccessPoints', 'placeAccessPoints', 'nameAccessPoints', 'genreAccessPoints'] as const;

export const LIST_COLUMNS: ReadonlySet<string> = new Set<string>([
  ...NOTE_COLUMNS,
  ...ACCESS_POINT_COLUMNS,
  'language',
  'script',
  'languageOfDescription',
  'scriptOfDescription',
]);

/** The event columns and the property of an event each one fills. */
export const EVENT_PROPERTY: Readonly<Record<string, keyof DescriptionEvent>> = {
  eventTypes: 'type',
  eventDates: 'date',
  eventStartDates: 'startDate',
  eventEndDates: 'endDate',
  eventActors: 'actor',
  eventActorHistories: 'actorHistory',
  eventPlaces: 'place',
  eventDescriptions: 'description',
};

/** The alternative identifier columns and the property of a pair each one fills. */
export const ALTERNATIVE_IDENTIFIER_PROPERTY: Readonly<Record<string, keyof AlternativeIdentifier>> = {
  alternativeIdentifiers: 'identifier',
  alternativeIdentifierLabels: 'label',
};

/** Whether a column is kept as a list (or as part of an event or an identifier pair). */
export function isRepeatable(column: string): boolean {
  return LIST_COLUMNS.has(column) || Object.hasOwn(EVENT_PROPERTY, column) || Object.hasOwn(ALTERNATIVE_IDENTIFIER_PROPERTY, column);
}

/** The items of a `|` list cell, each trimmed, blanks dropped. */
export function listItems(value: string | null | undefined): string[] {
  return (value ?? '')
    .split('|')
    .map((v) => v.trim())
    .filter((v) => v !== '');
}

/** The cells of a grouped column, one per group, kept in place (a blank item stays ''). */
function groupCells(value: string): string[] {
  if (value.trim() === '') return [];
  return value.split('|').map((v) => {
    const t = v.trim();
    return t === 'NULL' ? '' : t;
  });
}

export function emptyEvent(): DescriptionEvent {
  return { type: '', date: '', startDate: '', endDate: '', actor: '', actorHistory: '', place: '', description: '' };
}

/**
 * Sets one property of every object of a grouped list from a `|` cell: the n-th item goes
 * to the n-th object (made when missing), objects beyond the cell's items lose the
 * property, and objects left with no property at all are dropped from the end.
 */
function setGrouped<T extends object>(list: readonly T[], property: keyof T, value: string, empty: () => T): T[] {
  const cells = groupCells(value);
  const out = list.map((o) => ({ ...o }));
  while (out.length < cells.length) out.push(empty());
  out.forEach((o, i) => {
    (o as Record<keyof T, string>)[property] = cells[i] ?? '';
  });
  while (out.length > 0 && Object.values(out[out.length - 1]).every((v) => v === '')) out.pop();
  return out;
}

/** The `|` cell of one property of a grouped list: '' when no object has it. */
function groupedCell<T extends object>(list: readonly T[], property: keyof T): string {
  // One pass, no arrays: an export writes eight of these per description.
  let out = '';
  let any = false;
  for (let i = 0; i < list.length; i++) {
    const v = (list[i][property] as string | undefined) ?? '';
    if (v !== '') any = true;
    out = i === 0 ? v : `${out}|${v}`;
  }
  return any ? out : '';
}

/** The repeatable parts of a description, the ones `setColumn` changes. */
export type Repeatable = Pick<DescriptionFields, 'events' | 'alternativeIdentifiers' | 'lists' | 'extra'>;

/**
 * Sets a column other than the description's own from its CSV cell, in place: a list
 * column to its items, an event or identifier column to its property of each group, any
 * other column to the cell as written. A blank cell clears the column.
 */
export function setColumn(f: Repeatable, column: string, value: string): void {
  if (LIST_COLUMNS.has(column)) {
    const items = listItems(value);
    if (items.length) f.lists[column] = items;
    else delete f.lists[column];
  } else if (Object.hasOwn(EVENT_PROPERTY, column)) {
    f.events = setGrouped(f.events, EVENT_PROPERTY[column], value, emptyEvent);
  } else if (Object.hasOwn(ALTERNATIVE_IDENTIFIER_PROPERTY, column)) {
    f.alternativeIdentifiers = setGrouped(f.alternativeIdentifiers, ALTERNATIVE_IDENTIFIER_PROPERTY[column], value, () => ({
      identifier: '',
      label: '',
    }));
  } else if (value === '') {
    delete f.extra[column];
  } else {
    f.extra[column] = value;
  }
}

/** The CSV cell of a column other than the description's own: AtoM's `a|b` for the repeatable ones. */
export function columnCell(f: Repeatable, column: string): string {
  if (LIST_COLUMNS.has(column)) return f.lists[column]?.join('|') ?? '';
  const event = EVENT_OF.get(column);
  if (event) return groupedCell(f.events, event);
  const pair = PAIR_OF.get(column);
  if (pair) return groupedCell(f.alternativeIdentifiers, pair);
  return Object.hasOwn(f.extra, column) ? f.extra[column] : '';
}

/** The same tables as maps: `columnCell` runs for every column of every exported row. */
const EVENT_OF: ReadonlyMap<string, keyof DescriptionEvent> = new Map(Object.entries(EVENT_PROPERTY));
const PAIR_OF: ReadonlyMap<string, keyof AlternativeIdentifier> = new Map(Object.entries(ALTERNATIVE_IDENTIFIER_PROPERTY));

/** The values of a column to show one by one (blank items left out). */
export function columnItems(f: Repeatable, column: string): string[] {
  if (LIST_COLUMNS.has(column)) return f.lists[column] ?? [];
  if (column === 'eventDates') return f.events.map(eventDates).filter((v) => v !== '');
  if (Object.hasOwn(EVENT_PROPERTY, column)) return f.events.map((e) => e[EVENT_PROPERTY[column]]).filter((v) => v !== '');
  if (column === 'alternativeIdentifiers') {
    return f.alternativeIdentifiers.filter((a) => a.identifier !== '').map((a) => (a.label ? `${a.label}: ${a.identifier}` : a.identifier));
  }
  if (column === 'alternativeIdentifierLabels') return [];
  const v = Object.hasOwn(f.extra, column) ? f.extra[column] : '';
  return v.trim() === '' ? [] : [v];
}

/** The dates of one event as AtoM shows them: the display dates, else start – end. */
export function eventDates(e: DescriptionEvent): string {
  if (e.date) return e.date;
  return e.startDate && e.endDate ? `${e.startDate} – ${e.endDate}` : e.startDate || e.endDate;
}

/**
 * A match-and-update's change to the repeatable parts, in place, as AtoM's: a note or
 * access point column gains the row's items the description does not have yet (AtoM
 * creates new notes and term relations on an update and deletes none); any other column
 * takes the row's cell.
 */
export function mergeColumn(f: Repeatable, column: string, value: string, additive: ReadonlySet<string>): void {
  if (!additive.has(column) || !LIST_COLUMNS.has(column)) return setColumn(f, column, value);
  const items = [...(f.lists[column] ?? [])];
  for (const item of listItems(value)) if (!items.includes(item)) items.push(item);
  if (items.length) f.lists[column] = items;
}

/** A copy of the repeatable parts that `setColumn` may change without touching the original. */
export function copyRepeatable(f: Repeatable): Repeatable {
  return {
    events: f.events.map((e) => ({ ...e })),
    alternativeIdentifiers: f.alternativeIdentifiers.map((a) => ({ ...a })),
    lists: Object.fromEntries(Object.entries(f.lists).map(([k, v]) => [k, [...v]])),
    extra: { ...f.extra },
  };
}

// ---- storage ------------------------------------------------------------------------

/**
 * How `descriptions.extra` holds the lists: one JSON object, a string per single-valued
 * column, an array of strings per list column, and under `alternativeIdentifiers` an
 * array of `{identifier, label}` pairs. `descriptions.events` is a JSON array of events.
 */
export function storedExtra(f: Pick<DescriptionFields, 'alternativeIdentifiers' | 'lists' | 'extra'>): string | null {
  const out: Record<string, unknown> = { ...f.extra };
  for (const [k, v] of Object.entries(f.lists)) if (v.length) out[k] = v;
  if (f.alternativeIdentifiers.length) out.alternativeIdentifiers = f.alternativeIdentifiers;
  return Object.keys(out).length ? JSON.stringify(out) : null;
}

export function storedEvents(events: readonly DescriptionEvent[]): string | null {
  return events.length ? JSON.stringify(events) : null;
}

function parseJson(raw: unknown): unknown {
  if (typeof raw !== 'string' || raw === '') return null;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return null;
  }
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

/** The parts of a stored `extra`: single values, lists and alternative identifiers. */
export function readExtra(raw: unknown): Pick<DescriptionFields, 'alternativeIdentifiers' | 'lists' | 'extra'> {
  const out: Pick<DescriptionFields, 'alternativeIdentifiers' | 'lists' | 'extra'> = { alternativeIdentifiers: [], lists: {}, extra: {} };
  const v = parseJson(raw);
  if (!v || typeof v !== 'object' || Array.isArray(v)) return out;
  // Read for every description of a walk: one pass, the arrays kept when they hold text.
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const value = o[k];
    if (typeof value === 'string') {
      // `a|b` text in a list column was written by a process of the release before the
      // lists (during an upgrade): read as the list it is.
      if (LIST_COLUMNS.has(k)) out.lists[k] = listItems(value);
      else out.extra[k] = value;
    } else if (!Array.isArray(value)) {
      continue;
    } else if (k === 'alternativeIdentifiers') {
      out.alternativeIdentifiers = value.map((a: Record<string, unknown> | null) => ({ identifier: text(a?.identifier), label: text(a?.label) }));
    } else {
      out.lists[k] = value.every((x) => typeof x === 'string') ? (value as string[]) : value.map(text);
    }
  }
  return out;
}

export function readEvents(raw: unknown): DescriptionEvent[] {
  const v = parseJson(raw);
  if (!Array.isArray(v)) return [];
  // One literal per event (one object shape), each property checked to be text.
  return v.map((e: Record<string, unknown> | null) => ({
    type: text(e?.type),
    date: text(e?.date),
    startDate: text(e?.startDate),
    endDate: text(e?.endDate),
    actor: text(e?.actor),
    actorHistory: text(e?.actorHistory),
    place: text(e?.place),
    description: text(e?.description),
  }));
}
