/**
 * Translations of descriptions: a description's fields in another culture, as AtoM keeps
 * its i18n rows. Every query on `description_translations` lives here.
 */
import type { Db } from '../db.js';
import { columnCell, copyRepeatable, EVENT_PROPERTY, ALTERNATIVE_IDENTIFIER_PROPERTY, setColumn } from './repeatable.js';
import type { Description, DescriptionFields, TreeNode } from './types.js';

export interface Translation {
  culture: string;
  /** Column name → value, the columns the translation's row had. */
  fields: Record<string, string>;
}

/** Adds or replaces the translation of description `id` into `culture`. */
export async function saveTranslation(db: Db, id: number, t: Translation, now = Date.now()): Promise<void> {
  const row = { fields: JSON.stringify(t.fields), updated_at: now };
  const n = await db('description_translations').where({ description_id: id, culture: t.culture }).update(row);
  if (n === 0) await db('description_translations').insert({ description_id: id, culture: t.culture, ...row });
}

/** The translations of a description, by culture. */
export async function listTranslations(db: Db, id: number): Promise<Translation[]> {
  const rows = (await db('description_translations')
    .where({ description_id: id })
    .orderBy('culture')
    .select('culture', 'fields')) as Array<{ culture: string; fields: string }>;
  return rows.map((r) => ({ culture: r.culture, fields: JSON.parse(r.fields) as Record<string, string> }));
}

/** The translations of many descriptions, by description id (one query per 500 ids). */
export async function translationsOf(db: Db, ids: readonly number[], culture?: string): Promise<Map<number, Translation[]>> {
  const out = new Map<number, Translation[]>();
  for (let i = 0; i < ids.length; i += 500) {
    const q = db('description_translations').whereIn('description_id', ids.slice(i, i + 500));
    if (culture !== undefined) q.where('culture', culture);
    const rows = (await q.orderBy(['description_id', 'culture']).select('description_id', 'culture', 'fields')) as Array<{
      description_id: number;
      culture: string;
      fields: string;
    }>;
    for (const r of rows) {
      const list = out.get(Number(r.description_id)) ?? [];
      list.push({ culture: r.culture, fields: JSON.parse(r.fields) as Record<string, string> });
      out.set(Number(r.description_id), list);
    }
  }
  return out;
}

/** The cultures a description can be read in: its source culture first, then its translations'. */
export async function culturesOf(db: Db, d: Pick<Description, 'id' | 'culture'>): Promise<string[]> {
  const rows = (await db('description_translations').where({ description_id: d.id }).orderBy('culture').select('culture')) as Array<{
    culture: string;
  }>;
  return [d.culture, ...rows.map((r) => r.culture).filter((c) => c !== d.culture)];
}

/**
 * Fields a translation never changes: they identify or place the record, or name a linked
 * record (a level is a term, a repository an actor, each with its own translations in
 * AtoM), so they stay as the source culture has them. AtoM keeps the same split: the
 * columns of `information_object_i18n` are the ones a culture may change.
 */
const UNTRANSLATED: ReadonlySet<string> = new Set([
  'legacyId',
  'parentId',
  'qubitParentSlug',
  'identifier',
  'levelOfDescription',
  'repository',
  'publicationStatus',
  'culture',
  'eventStartDates',
  'eventEndDates',
  'eventTypes',
  'accessionNumber',
  'digitalObjectPath',
  'digitalObjectURI',
  'digitalObjectChecksum',
  'slug',
]);

/** Record fields a translation may set, by CSV column name. */
const OWN_FIELDS: Readonly<Record<string, keyof DescriptionFields>> = {
  title: 'title',
  extentAndMedium: 'extentAndMedium',
  scopeAndContent: 'scopeAndContent',
};

/** A description read in one culture. */
export interface Localized {
  description: Description;
  /** The culture asked for. */
  culture: string;
  /** Columns shown in the source culture because the translation lacks them. */
  fallback: ReadonlySet<string>;
}

/**
 * A description in `culture`: each field the translation has, and the source culture's
 * value for every field it lacks, field by field, as AtoM falls back (a French reader of
 * a fonds translated in part sees the French title and the English scope and content).
 * `culture` on the result is the one asked for; the source culture stays readable in
 * `fallback`.
 */
export function localize(d: Description, culture: string, translation: Translation | null | undefined): Localized {
  if (culture === d.culture) return { description: d, culture, fallback: new Set() };
  // A translation keeps its row's cells as written (`a|b` for a list): each is read into
  // the description's lists here, an event column item by item onto the same events.
  const out: Description = { ...d, culture, ...copyRepeatable(d) };
  const taken = new Set<string>();
  for (const [column, value] of Object.entries(translation?.fields ?? {})) {
    if (UNTRANSLATED.has(column) || value.trim() === '') continue;
    const own = Object.hasOwn(OWN_FIELDS, column) ? OWN_FIELDS[column] : undefined;
    if (own) (out as unknown as Record<string, unknown>)[own] = value;
    else setColumn(out, column, value);
    taken.add(column);
  }
  const grouped = [...Object.keys(EVENT_PROPERTY), ...Object.keys(ALTERNATIVE_IDENTIFIER_PROPERTY)].filter((c) => columnCell(d, c) !== '');
  const fallback = new Set<string>();
  for (const c of [...Object.keys(OWN_FIELDS), ...Object.keys(d.extra), ...Object.keys(d.lists), ...grouped]) {
    if (!taken.has(c) && !UNTRANSLATED.has(c)) fallback.add(c);
  }
  return { description: out, culture, fallback };
}

/**
 * A tree walk read in `culture`: the translations of each run of `chunk` descriptions in
 * one query, so a fonds of 100,000 costs 200 more queries, and memory stays one chunk.
 * Without a culture (or in each description's own), the walk passes through unchanged.
 */
export async function* inCulture(
  db: Db,
  nodes: AsyncIterable<TreeNode>,
  culture: string | null,
  chunk = 500,
): AsyncGenerator<TreeNode> {
  if (!culture) {
    yield* nodes;
    return;
  }
  let batch: TreeNode[] = [];
  const flush = async function* (): AsyncGenerator<TreeNode> {
    const ids = batch.filter((n) => n.description.culture !== culture).map((n) => n.description.id);
    const found = ids.length ? await translationsOf(db, ids, culture) : new Map<number, Translation[]>();
    for (const n of batch) {
      const t = found.get(n.description.id)?.[0];
      yield { ...n, description: localize(n.description, culture, t).description };
    }
    batch = [];
  };
  for await (const n of nodes) {
    batch.push(n);
    if (batch.length >= chunk) yield* flush();
  }
  if (batch.length) yield* flush();
}

/** A culture code as AtoM writes them: "en", "fr", "pt_BR", "sr-Latn". */
export const CULTURE_PATTERN = /^[a-z]{2,3}(?:[_-][A-Za-z0-9]{2,8}){0,2}$/;

/** A tree walk with every translation of each description (for an export of all cultures), `chunk` at a time. */
export async function* withTranslations(
  db: Db,
  nodes: AsyncIterable<TreeNode>,
  chunk = 500,
): AsyncGenerator<TreeNode & { translations: Translation[] }> {
  let batch: TreeNode[] = [];
  const flush = async function* (): AsyncGenerator<TreeNode & { translations: Translation[] }> {
    const found = await translationsOf(
      db,
      batch.map((n) => n.description.id),
    );
    for (const n of batch) {
      yield { ...n, translations: (found.get(n.description.id) ?? []).filter((t) => t.culture !== n.description.culture) };
    }
    batch = [];
  };
  for await (const n of nodes) {
    batch.push(n);
    if (batch.length >= chunk) yield* flush();
  }
  if (batch.length) yield* flush();
}
