/**
 * AtoM's ISAD(G) CSV columns: which a file may carry, how they map onto a description,
 * and how a description is written back. Pure functions, no database.
 */
import { RAD_COLUMNS, RAD_DISPLAY_ORDER, RAD_LABELS, usesRad } from './rad.js';
import { ACCESS_POINT_COLUMNS, NOTE_COLUMNS, columnCell, columnItems, copyRepeatable, mergeColumn, setColumn, type Repeatable } from './repeatable.js';
import type { Description, DescriptionFields, PublicationStatus } from './types.js';

/** The columns of AtoM's ISAD template, in its order (also the order of an export). */
export const ISAD_COLUMNS = [
  'legacyId',
  'parentId',
  'qubitParentSlug',
  'accessionNumber',
  'identifier',
  'title',
  'levelOfDescription',
  'extentAndMedium',
  'repository',
  'archivalHistory',
  'acquisition',
  'scopeAndContent',
  'appraisal',
  'accruals',
  'arrangement',
  'accessConditions',
  'reproductionConditions',
  'language',
  'script',
  'languageNote',
  'physicalCharacteristics',
  'findingAids',
  'locationOfOriginals',
  'locationOfCopies',
  'relatedUnitsOfDescription',
  'publicationNote',
  'digitalObjectPath',
  'digitalObjectURI',
  'generalNote',
  'subjectAccessPoints',
  'placeAccessPoints',
  'nameAccessPoints',
  'genreAccessPoints',
  'descriptionIdentifier',
  'institutionIdentifier',
  'rules',
  'descriptionStatus',
  'levelOfDetail',
  'revisionHistory',
  'languageOfDescription',
  'scriptOfDescription',
  'sources',
  'archivistNote',
  'publicationStatus',
  'physicalObjectName',
  'physicalObjectLocation',
  'physicalObjectType',
  'alternativeIdentifiers',
  'alternativeIdentifierLabels',
  'eventDates',
  'eventTypes',
  'eventStartDates',
  'eventEndDates',
  'eventActors',
  'eventActorHistories',
  'culture',
] as const;

/**
 * Columns AtoM also reads: its older templates named the creation event's columns
 * differently (2.1: creatorDates...; 2.2: creationDates...), and newer versions add event
 * places and descriptions. The older names are read into the current ones, so an export
 * always uses the current names (AtoM's csvImportTask, "backwards compatibility").
 */
export const COLUMN_ALIASES: Readonly<Record<string, string>> = {
  creators: 'eventActors',
  creatorDates: 'eventDates',
  creatorDatesStart: 'eventStartDates',
  creatorDatesEnd: 'eventEndDates',
  creatorDateNotes: 'eventDescriptions',
  creatorHistories: 'eventActorHistories',
  creationDates: 'eventDates',
  creationDatesType: 'eventTypes',
  creationDatesStart: 'eventStartDates',
  creationDatesEnd: 'eventEndDates',
  creationDateNotes: 'eventDescriptions',
};

/** Event columns of newer AtoM versions, not in the example template. */
const EVENT_COLUMNS = ['eventPlaces', 'eventDescriptions'] as const;

/** Columns of AtoM's own exports and importer that its example template lacks. */
const MORE_COLUMNS = ['alternateTitle', 'digitalObjectChecksum'] as const;

/**
 * The columns of an export: the template's, with the newer event columns and AtoM's
 * export's own (alternateTitle, digitalObjectChecksum) before `culture`.
 */
export const EXPORT_COLUMNS: readonly string[] = [...ISAD_COLUMNS.slice(0, -1), ...EVENT_COLUMNS, ...MORE_COLUMNS, 'culture'];

/** An export of a description in RAD: the ISAD export's columns, then RAD's own. */
export const RAD_EXPORT_COLUMNS: readonly string[] = [...EXPORT_COLUMNS, ...RAD_COLUMNS];

/** Every column name the import reads (current names and older aliases). */
export const KNOWN_COLUMNS: ReadonlySet<string> = new Set<string>([
  ...RAD_EXPORT_COLUMNS,
  ...Object.keys(COLUMN_ALIASES),
]);

/** Columns with their own database column; every other field goes to `extra`. */
const FIELD_OF_COLUMN: Readonly<Record<string, keyof DescriptionFields>> = {
  identifier: 'identifier',
  title: 'title',
  levelOfDescription: 'levelOfDescription',
  extentAndMedium: 'extentAndMedium',
  scopeAndContent: 'scopeAndContent',
  repository: 'repository',
  publicationStatus: 'publicationStatus',
  culture: 'culture',
};

/** Columns that place a row in the hierarchy rather than describe it. */
export const HIERARCHY_COLUMNS = ['legacyId', 'parentId', 'qubitParentSlug'] as const;

/** The labels of the fields, for pages and finding aids (ISAD(G) names, as AtoM shows them). */
export const FIELD_LABELS: Readonly<Record<string, string>> = {
  accessionNumber: 'Accession number',
  identifier: 'Identifier',
  title: 'Title',
  levelOfDescription: 'Level of description',
  extentAndMedium: 'Extent and medium',
  repository: 'Repository',
  archivalHistory: 'Archival history',
  acquisition: 'Immediate source of acquisition or transfer',
  scopeAndContent: 'Scope and content',
  appraisal: 'Appraisal, destruction and scheduling',
  accruals: 'Accruals',
  arrangement: 'System of arrangement',
  accessConditions: 'Conditions governing access',
  reproductionConditions: 'Conditions governing reproduction',
  language: 'Language of material',
  script: 'Script of material',
  languageNote: 'Language and script notes',
  physicalCharacteristics: 'Physical characteristics and technical requirements',
  findingAids: 'Finding aids',
  locationOfOriginals: 'Existence and location of originals',
  locationOfCopies: 'Existence and location of copies',
  relatedUnitsOfDescription: 'Related units of description',
  publicationNote: 'Publication note',
  digitalObjectPath: 'Digital object path',
  digitalObjectURI: 'Digital object URI',
  generalNote: 'Note',
  subjectAccessPoints: 'Subject access points',
  placeAccessPoints: 'Place access points',
  nameAccessPoints: 'Name access points',
  genreAccessPoints: 'Genre access points',
  descriptionIdentifier: 'Description identifier',
  institutionIdentifier: 'Institution identifier',
  rules: 'Rules or conventions',
  descriptionStatus: 'Status',
  levelOfDetail: 'Level of detail',
  revisionHistory: 'Dates of creation, revision and deletion',
  languageOfDescription: 'Language of description',
  scriptOfDescription: 'Script of description',
  sources: 'Sources',
  archivistNote: "Archivist's note",
  publicationStatus: 'Publication status',
  physicalObjectName: 'Physical storage',
  physicalObjectLocation: 'Physical storage location',
  physicalObjectType: 'Physical storage type',
  alternativeIdentifiers: 'Alternative identifiers',
  alternativeIdentifierLabels: 'Alternative identifier labels',
  eventDates: 'Dates',
  eventTypes: 'Event types',
  eventStartDates: 'Start dates',
  eventEndDates: 'End dates',
  eventActors: 'Creators and other actors',
  eventActorHistories: 'Biographical or administrative history',
  eventPlaces: 'Event places',
  eventDescriptions: 'Event notes',
  alternateTitle: 'Alternate title',
  digitalObjectChecksum: 'Digital object checksum',
  culture: 'Culture',
};

/** The order fields appear in "full details" finding aids and on the description page (ISAD areas). */
export const DISPLAY_ORDER: readonly string[] = [
  'identifier',
  'title',
  'alternateTitle',
  'eventDates',
  'levelOfDescription',
  'extentAndMedium',
  'repository',
  'eventActors',
  'eventActorHistories',
  'archivalHistory',
  'acquisition',
  'scopeAndContent',
  'appraisal',
  'accruals',
  'arrangement',
  'accessConditions',
  'reproductionConditions',
  'language',
  'script',
  'languageNote',
  'physicalCharacteristics',
  'findingAids',
  'locationOfOriginals',
  'locationOfCopies',
  'relatedUnitsOfDescription',
  'publicationNote',
  'generalNote',
  'subjectAccessPoints',
  'placeAccessPoints',
  'nameAccessPoints',
  'genreAccessPoints',
  'alternativeIdentifiers',
  'accessionNumber',
  'physicalObjectName',
  'physicalObjectLocation',
  'descriptionIdentifier',
  'institutionIdentifier',
  'rules',
  'descriptionStatus',
  'levelOfDetail',
  'revisionHistory',
  'languageOfDescription',
  'scriptOfDescription',
  'sources',
  'archivistNote',
];

/** Unknown columns named in a message; the rest are counted (a header may have 120,000). */
const NAMED_COLUMNS = 10;

/** '"a", "b", "c" and 119,997 more': the first few names (each cut at 60 characters), the rest counted. */
export function someNames(names: readonly string[], shown = NAMED_COLUMNS): string {
  const named = names.slice(0, shown).map((c) => JSON.stringify(c.slice(0, 60)));
  const rest = names.length - named.length;
  return rest > 0 ? `${named.join(', ')} and ${rest.toLocaleString('en-US')} more` : named.join(', ');
}

/** A table's own entry for a name from a file: "constructor" or "toString" is no column. */
function ownValue<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** "Published"/"draft" in any case; null for a blank cell; undefined for anything else. */
export function parsePublicationStatus(raw: string): PublicationStatus | null | undefined {
  const v = raw.trim().toLowerCase();
  if (v === '') return null;
  if (v === 'published') return 'published';
  if (v === 'draft') return 'draft';
  return undefined;
}

/** One row's cells by canonical column name (only the columns the file has). */
export type CsvRow = Map<string, string>;

/** The description's own fields, the ones with a database column of their own. */
type OwnFields = Omit<DescriptionFields, 'extra' | 'lists' | 'events' | 'alternativeIdentifiers'>;

export interface RowFields {
  /** Fields from non-blank cells only (a match-and-update leaves the others alone). */
  set: Partial<OwnFields>;
  /** The other non-blank cells, as written (`|` lists too): `newFields` and `updatedFields` read them into lists. */
  extra: Record<string, string>;
  /** Column names present in the file whose cell is blank (delete-and-replace clears them). */
  blank: string[];
  /** A publicationStatus cell that is neither Draft nor Published. */
  badPublicationStatus: string | null;
}

/** Splits a row into the description's own fields and its extra ISAD fields. */
export function rowFields(row: CsvRow): RowFields {
  const set: RowFields['set'] = {};
  const extra: Record<string, string> = {};
  const blank: string[] = [];
  let badPublicationStatus: string | null = null;
  for (const [column, value] of row) {
    if ((HIERARCHY_COLUMNS as readonly string[]).includes(column)) continue;
    if (value === '') {
      blank.push(column);
      continue;
    }
    const field = ownValue(FIELD_OF_COLUMN, column);
    if (field === 'publicationStatus') {
      const status = parsePublicationStatus(value);
      if (status) set.publicationStatus = status;
      else badPublicationStatus = value;
    } else if (field) {
      (set as Record<string, string>)[field] = value;
    } else {
      extra[column] = value;
    }
  }
  return { set, extra, blank, badPublicationStatus };
}

/**
 * Columns a match-and-update adds to rather than replaces, as AtoM does: its notes (a
 * QubitNote per value; csvImportTask's `noteMap` and the RAD `radNote*` columns) and its
 * access points (term relations; QubitFlatfileImport::createAccessPoint). AtoM creates
 * them anew on an update and deletes none of the old ones.
 */
export const ADDITIVE_COLUMNS: ReadonlySet<string> = new Set<string>([...NOTE_COLUMNS, ...ACCESS_POINT_COLUMNS]);

/** The full field set of a row for a new description, or for one replaced whole. */
export function newFields(f: RowFields): DescriptionFields {
  const r: Repeatable = { events: [], alternativeIdentifiers: [], lists: {}, extra: {} };
  for (const [column, value] of Object.entries(f.extra)) setColumn(r, column, value);
  return {
    identifier: f.set.identifier ?? null,
    title: f.set.title ?? null,
    levelOfDescription: f.set.levelOfDescription ?? null,
    extentAndMedium: f.set.extentAndMedium ?? null,
    scopeAndContent: f.set.scopeAndContent ?? null,
    repository: f.set.repository ?? null,
    publicationStatus: f.set.publicationStatus ?? 'draft',
    culture: f.set.culture ?? 'en',
    ...r,
  };
}

/**
 * A match-and-update's change to a description: the row's non-blank cells, notes and
 * access points added beside the ones the description has (a value it already has is not
 * added twice), every other column replaced; blank cells leave the field as it was.
 */
export function updatedFields(d: DescriptionFields, f: RowFields): Partial<DescriptionFields> {
  const r = copyRepeatable(d);
  for (const [column, value] of Object.entries(f.extra)) mergeColumn(r, column, value, ADDITIVE_COLUMNS);
  return { ...f.set, ...r };
}

/** The field labels for a description: RAD's where it uses RAD, else ISAD(G)'s. */
export function labelOf(d: Pick<DescriptionFields, 'extra' | 'lists'>, column: string): string {
  const rad = usesRad(d.extra, d.lists) ? RAD_LABELS[column] : undefined;
  return rad ?? FIELD_LABELS[column] ?? column;
}

/** The fields of a description in the order of its template's areas. */
export function displayOrder(d: Pick<DescriptionFields, 'extra' | 'lists'>): readonly string[] {
  return usesRad(d.extra, d.lists) ? RAD_DISPLAY_ORDER : DISPLAY_ORDER;
}

/** The CSV cell of a column for a description (blank when it has none): AtoM's `a|b` for a list. */
export function fieldValue(d: DescriptionFields, column: string): string {
  const field = ownValue(FIELD_OF_COLUMN, column);
  if (field === 'publicationStatus') return d.publicationStatus === 'published' ? 'Published' : 'Draft';
  if (field) return (d[field] as string | null) ?? '';
  return columnCell(d, column);
}

/** The values of a column to show one by one: a list's items, each event's, or the one value. */
export function fieldItems(d: DescriptionFields, column: string): string[] {
  const field = ownValue(FIELD_OF_COLUMN, column);
  if (field) {
    const v = fieldValue(d, column);
    return v.trim() === '' ? [] : [v];
  }
  return columnItems(d, column);
}

/** One export row. `legacyId` is the description's id, as in AtoM's exports. */
export function exportRow(
  d: Description,
  columns: readonly string[],
  place: { parentId: number | null; qubitParentSlug: string | null },
): string[] {
  return columns.map((c) => {
    if (c === 'legacyId') return String(d.id);
    if (c === 'parentId') return place.parentId === null ? '' : String(place.parentId);
    if (c === 'qubitParentSlug') return place.qubitParentSlug ?? '';
    return fieldValue(d, c);
  });
}
