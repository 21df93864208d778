import type { Knex } from 'knex';

/**
 * A description's repeatable fields become real lists (app/archive/repeatable.ts):
 * - `descriptions.events`: a JSON array with one object per event ({type, date,
 *   startDate, endDate, actor, actorHistory, place, description}), made from the n-th `|`
 *   item of each event column. It replaces `event_dates`, `event_start_dates`,
 *   `event_end_dates` (emptied here, kept so that `down` can put them back) and the
 *   `event*` keys of `extra`.
 * - In `extra`, the notes, access points, languages and scripts become JSON arrays of
 *   their items, and `alternativeIdentifiers` + `alternativeIdentifierLabels` one array of
 *   {identifier, label} pairs.
 * JSON in the row, rather than child tables, because nothing queries inside these lists:
 * a page, an export or a finding aid reads a description whole, and a tree walk of
 * 100,000 descriptions stays one query per page of rows instead of one more per list.
 *
 * The column lists are copied here, not imported, so that this migration does the same
 * whatever the app's lists become later. Rows are converted 500 at a time by id.
 */
const LIST_COLUMNS = [
  'generalNote',
  'archivistNote',
  'publicationNote',
  'languageNote',
  'radTitleStatementOfResponsibilityNote',
  'radTitleNoteContinuationOfTitle',
  'radPublishersSeriesNote',
  'radNoteOnPublishersSeries',
  'radNoteAccompanyingMaterial',
  'radNoteAlphaNumericDesignation',
  'radNoteConservation',
  'radNoteEdition',
  'radNotePhysicalDescription',
  'radNotePublishersSeries',
  'radNoteRights',
  'radNoteCast',
  'radNoteCredits',
  'radNoteSignaturesInscriptions',
  'radNoteGeneral',
  'subjectAccessPoints',
  'placeAccessPoints',
  'nameAccessPoints',
  'genreAccessPoints',
  'language',
  'script',
  'languageOfDescription',
  'scriptOfDescription',
];

/** Event keys of `extra` and the property each fills. */
const EVENT_KEYS: Array<[string, string]> = [
  ['eventTypes', 'type'],
  ['eventActors', 'actor'],
  ['eventActorHistories', 'actorHistory'],
  ['eventPlaces', 'place'],
  ['eventDescriptions', 'description'],
];

/** Event columns of the table and the property each fills. */
const EVENT_COLUMNS: Array<[string, string]> = [
  ['event_dates', 'date'],
  ['event_start_dates', 'startDate'],
  ['event_end_dates', 'endDate'],
];

const EVENT_PROPERTIES = ['type', 'date', 'startDate', 'endDate', 'actor', 'actorHistory', 'place', 'description'];

const items = (v: string): string[] =>
  v
    .split('|')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** The cells of a grouped column, one per group ('' kept in place; AtoM's NULL is no value). */
const cells = (v: string): string[] => (v.trim() === '' ? [] : v.split('|').map((s) => (s.trim() === 'NULL' ? '' : s.trim())));

/** Objects with `props` from parallel `|` cells; trailing objects with no value dropped. */
function grouped(sources: Array<[string, string]>, props: string[]): Array<Record<string, string>> {
  const split = sources.map(([prop, v]) => [prop, cells(v)] as const);
  const n = Math.max(0, ...split.map(([, c]) => c.length));
  const out: Array<Record<string, string>> = [];
  for (let i = 0; i < n; i++) out.push(Object.fromEntries(props.map((p) => [p, split.find(([q]) => q === p)?.[1][i] ?? ''])));
  while (out.length && Object.values(out[out.length - 1]).every((v) => v === '')) out.pop();
  return out;
}

function parse(raw: unknown): Record<string, unknown> {
  if (typeof raw !== 'string' || raw === '') return {};
  try {
    const v = JSON.parse(raw) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

type Row = { id: number; extra: unknown; event_dates: unknown; event_start_dates: unknown; event_end_dates: unknown; events?: unknown };

/** Visits every description, 500 at a time, with the update `change` returns (or none). */
async function eachDescription(knex: Knex, columns: string[], change: (r: Row) => Record<string, unknown> | null): Promise<void> {
  let after = 0;
  for (;;) {
    const rows = (await knex('descriptions').where('id', '>', after).orderBy('id').limit(500).select('id', ...columns)) as Row[];
    if (rows.length === 0) return;
    for (const r of rows) {
      const update = change(r);
      if (update) await knex('descriptions').where({ id: r.id }).update(update);
    }
    after = Number(rows[rows.length - 1].id);
  }
}

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('descriptions', (t) => {
    t.text('events', 'mediumtext').nullable();
  });
  await eachDescription(knex, ['extra', 'event_dates', 'event_start_dates', 'event_end_dates'], (r) => {
    const extra = parse(r.extra);
    for (const c of LIST_COLUMNS) {
      if (typeof extra[c] !== 'string') continue;
      const list = items(extra[c]);
      if (list.length) extra[c] = list;
      else delete extra[c];
    }
    const ids = grouped(
      [
        ['identifier', str(extra.alternativeIdentifiers)],
        ['label', str(extra.alternativeIdentifierLabels)],
      ],
      ['identifier', 'label'],
    );
    delete extra.alternativeIdentifiers;
    delete extra.alternativeIdentifierLabels;
    if (ids.length) extra.alternativeIdentifiers = ids;
    const events = grouped(
      [
        ...EVENT_KEYS.map(([k, p]): [string, string] => [p, str(extra[k])]),
        ...EVENT_COLUMNS.map(([c, p]): [string, string] => [p, str(r[c as keyof Row])]),
      ],
      EVENT_PROPERTIES,
    );
    for (const [k] of EVENT_KEYS) delete extra[k];
    return {
      extra: Object.keys(extra).length ? JSON.stringify(extra) : null,
      events: events.length ? JSON.stringify(events) : null,
      event_dates: null,
      event_start_dates: null,
      event_end_dates: null,
    };
  });
}

/** The `|` cell of one property of a list of objects ('' when none has it). */
function cell(list: Array<Record<string, unknown>>, prop: string): string {
  const v = list.map((o) => str(o[prop]));
  return v.every((s) => s === '') ? '' : v.join('|');
}

export async function down(knex: Knex): Promise<void> {
  await eachDescription(knex, ['extra', 'events'], (r) => {
    const extra = parse(r.extra);
    for (const [k, v] of Object.entries(extra)) if (Array.isArray(v)) extra[k] = v.map(str).join('|');
    const ids = Array.isArray(parse(r.extra).alternativeIdentifiers)
      ? (parse(r.extra).alternativeIdentifiers as Array<Record<string, unknown>>)
      : [];
    delete extra.alternativeIdentifiers;
    for (const [k, p] of [['alternativeIdentifiers', 'identifier'], ['alternativeIdentifierLabels', 'label']]) {
      if (cell(ids, p)) extra[k] = cell(ids, p);
    }
    let events: Array<Record<string, unknown>> = [];
    try {
      const v = JSON.parse(str(r.events) || '[]') as unknown;
      if (Array.isArray(v)) events = v as Array<Record<string, unknown>>;
    } catch {
      // A damaged value has no events to give back.
    }
    for (const [k, p] of EVENT_KEYS) if (cell(events, p)) extra[k] = cell(events, p);
    const back: Record<string, unknown> = { extra: Object.keys(extra).length ? JSON.stringify(extra) : null };
    for (const [c, p] of EVENT_COLUMNS) back[c] = cell(events, p) || null;
    return back;
  });
  await knex.schema.alterTable('descriptions', (t) => {
    t.dropColumn('events');
  });
}
