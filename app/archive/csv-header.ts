/**
 * A CSV file's header as AtoM reads it, and a row's cells under it. Pure functions.
 *
 * AtoM's import (lib/task/import/csvImportTask.class.php) reads the columns it knows and
 * ignores every other one without a word. Docket imports such a file too, but names the
 * ignored columns at the top of the report, with "did you mean" for a near miss (a
 * misspelt `scopeAndContents` would otherwise lose a column of data silently); the
 * `strict` option refuses the file instead.
 *
 * Older names are read into the current ones: AtoM 2.1's `creatorDates`... and 2.2's
 * `creationDates`... (csvImportTask's "backwards compatibility" arrayColumns). A file may
 * carry both the old and the new event columns (AtoM imports the events of both), or a
 * column twice (AtoM's 2020 example has `accessionNumber` twice): their cells are merged
 * into one `|` list, events kept aligned group by group.
 */
import { COLUMN_ALIASES, KNOWN_COLUMNS, ISAD_COLUMNS, someNames } from './csv-columns.js';

/** Columns of AtoM's own exports that its import does not read (computed on export). */
export const IGNORED_COLUMNS: ReadonlySet<string> = new Set(['slug', 'referenceCode']);

/** The event columns, whose `|` lists line up item by item (one item per event). */
export const EVENT_COLUMNS: ReadonlySet<string> = new Set([
  'eventActors',
  'eventActorHistories',
  'eventTypes',
  'eventDates',
  'eventStartDates',
  'eventEndDates',
  'eventPlaces',
  'eventDescriptions',
]);

/** One position of the header: the column it feeds ('' when ignored) and its event group. */
interface Position {
  column: string;
  /** 'current' for event* names, 'legacy' for AtoM 2.1's and 2.2's creator and creation names. */
  group: 'current' | 'legacy';
}

export interface Header {
  /** Per position of the header: the canonical column, or '' when the position is ignored. */
  columns: string[];
  /** Number of fields a row should have (the header's width). */
  width: number;
  /** Columns not known, as spelt in the file, each with a suggestion when one is near. */
  unknown: Array<{ name: string; suggestion: string | null }>;
  /** Lines for the top of the report (ignored, empty and repeated columns). */
  warnings: string[];
  /** Problems that refuse the file (always, or only with `strict`). */
  problems: string[];
  /** Canonical column → the positions feeding it, with their groups. */
  sources: Map<string, Array<{ index: number; group: Position['group'] }>>;
}

/** Levenshtein distance, stopping early once it exceeds `max`. */
export function editDistance(a: string, b: string, max = 3): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      best = Math.min(best, cur[j]);
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length];
}

/**
 * The known column nearest to `name`, if near enough to be a slip: the same name in
 * another case, or at most 2 edits away (3 for names over 12 characters). Short names
 * need to be close: "id" is not a misspelt "title".
 */
export function suggestColumn(name: string): string | null {
  const lower = name.toLowerCase();
  const allowed = name.length > 12 ? 3 : name.length > 4 ? 2 : 1;
  let best: string | null = null;
  let bestDistance = allowed + 1;
  for (const known of KNOWN_COLUMNS) {
    const d = known.toLowerCase() === lower ? 0 : editDistance(lower, known.toLowerCase(), allowed);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best;
}

function positionOf(raw: string): Position {
  if (IGNORED_COLUMNS.has(raw)) return { column: '', group: 'current' };
  const alias = Object.hasOwn(COLUMN_ALIASES, raw) ? COLUMN_ALIASES[raw] : undefined;
  if (alias) return { column: alias, group: 'legacy' };
  return { column: KNOWN_COLUMNS.has(raw) ? raw : '', group: 'current' };
}

/** Reads a header row. With `strict`, unknown and empty column names refuse the file. */
export function readHeader(raw: string[], strict: boolean): Header {
  const names = raw.map((c) => c.trim());
  const positions = names.map(positionOf);
  const unknown = names
    .filter((n, i) => n !== '' && positions[i].column === '' && !IGNORED_COLUMNS.has(n))
    .map((name) => ({ name, suggestion: suggestColumn(name) }));
  const empty = names.filter((n) => n === '').length;
  const problems: string[] = [];
  const warnings: string[] = [];
  if (unknown.length > 0) {
    const listed = someNames(unknown.map((u) => u.name));
    const near = unknown.filter((u) => u.suggestion).slice(0, 10);
    const hints = near.length ? ` (did you mean ${near.map((u) => `"${u.suggestion}" for "${u.name.slice(0, 60)}"`).join(', ')}?)` : '';
    const known = `Use the column names of AtoM's ISAD(G) CSV template (${ISAD_COLUMNS.slice(0, 6).join(', ')}, ...), spelt exactly as they are`;
    if (strict) {
      problems.push(
        `the header has ${unknown.length === 1 ? 'a column' : 'columns'} this import does not know: ${listed}${hints}. ${known}`,
      );
    } else {
      warnings.push(
        `${unknown.length === 1 ? 'a column' : `${unknown.length} columns`} this import does not know ${unknown.length === 1 ? 'was' : 'were'} ignored, as AtoM ignores them: ${listed}${hints}. ` +
          'Import with --strict to refuse such a file instead',
      );
    }
  }
  if (empty > 0) {
    const text = `the header has ${empty} empty column name${empty === 1 ? '' : 's'}`;
    if (strict) problems.push(text);
    else warnings.push(`${text}; ${empty === 1 ? 'its cells were' : 'their cells were'} ignored`);
  }
  const sources = new Map<string, Array<{ index: number; group: Position['group'] }>>();
  positions.forEach((p, index) => {
    if (p.column === '') return;
    const list = sources.get(p.column) ?? [];
    list.push({ index, group: p.group });
    sources.set(p.column, list);
  });
  const repeated = [...sources].filter(([, list]) => list.length > 1).map(([c, list]) => `"${c}" (${list.map((s) => names[s.index]).join(', ')})`);
  if (repeated.length > 0) {
    warnings.push(`the header names ${repeated.join(', ')} more than once; their cells are read together as one list`);
  }
  if (!sources.has('title') && !sources.has('identifier')) {
    problems.push('the header has neither a "title" nor an "identifier" column, so no row could describe anything');
  }
  return { columns: positions.map((p) => p.column), width: names.length, unknown, warnings, problems, sources };
}

/** AtoM's "no value" in an event list. */
function noNull(v: string): string {
  return v === 'NULL' ? '' : v;
}

/**
 * A row's cell for a canonical column, merging repeated columns. Event columns from the
 * legacy and current groups are padded group by group so that the n-th item of every
 * event column still belongs to the n-th event.
 */
export function cellOf(h: Header, values: readonly string[], column: string): string {
  const src = h.sources.get(column);
  if (!src) return '';
  const event = EVENT_COLUMNS.has(column);
  if (src.length === 1 && !(event && mixedEvents(h))) {
    const v = values[src[0].index] ?? '';
    return event ? eventList(v.split('|').map(noNull)) : v;
  }
  if (!event) {
    const parts = [...new Set(src.map((s) => values[s.index] ?? '').filter((v) => v !== ''))];
    return parts.join('|');
  }
  const items: string[] = [];
  for (const group of ['legacy', 'current'] as const) {
    const n = eventsIn(h, values, group);
    if (n === 0) continue;
    const own = src.filter((s) => s.group === group).map((s) => (values[s.index] ?? '').split('|').map(noNull));
    for (let i = 0; i < n; i++) items.push(own.map((list) => list[i] ?? '').find((v) => v !== '') ?? '');
  }
  return eventList(items);
}

/** Whether the file has event columns under both the older and the current names. */
function mixedEvents(h: Header): boolean {
  const groups = new Set<string>();
  for (const column of EVENT_COLUMNS) for (const s of h.sources.get(column) ?? []) groups.add(s.group);
  return groups.size > 1;
}

/** A `|` list, or '' when every item is blank. */
function eventList(items: string[]): string {
  return items.every((v) => v === '') ? '' : items.join('|');
}

/** How many events a group's columns describe in this row (the longest of its lists). */
function eventsIn(h: Header, values: readonly string[], group: Position['group']): number {
  let n = 0;
  for (const column of EVENT_COLUMNS) {
    for (const s of h.sources.get(column) ?? []) {
      const v = values[s.index] ?? '';
      if (s.group === group && v !== '' && v !== 'NULL') n = Math.max(n, v.split('|').length);
    }
  }
  return n;
}
