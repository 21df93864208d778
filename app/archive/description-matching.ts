/**
 * The queries a CSV import makes on `descriptions`: AtoM's two ways of matching a row to
 * a description, whether the references of a file exist (checked before anything is
 * written), and the repositories a `--limit` may name. Part of the descriptions store.
 */
import type { Db } from '../db.js';
import { rowToDescription } from './descriptions.js';
import type { Description } from './types.js';

type Row = Record<string, unknown>;

/** Keys per `where in` query: well under every database's limit on bound values. */
const CHUNK = 500;

/**
 * The latest description an import of `sourceName` made or matched from the row with
 * this legacyId: AtoM's keymap, which keeps one entry per source (a description imported
 * from two files matches from both; AtoM's QubitFlatfileImport::createKeymapEntry adds an
 * entry, never replaces one).
 */
export async function findByLegacyId(db: Db, sourceName: string, legacyId: string): Promise<Description | null> {
  const r = (await db('descriptions')
    .join('description_keymap as k', 'k.description_id', 'descriptions.id')
    .where({ 'k.source_name': sourceName, 'k.legacy_id': legacyId })
    .orderBy('descriptions.id', 'desc')
    .first('descriptions.*')) as Row | undefined;
  return r ? rowToDescription(r) : null;
}

/** Adds a keymap entry (none if this description already has it). */
export async function addKeymapEntry(db: Db, sourceName: string, legacyId: string, descriptionId: number, now = Date.now()): Promise<void> {
  const key = { source_name: sourceName, legacy_id: legacyId, description_id: descriptionId };
  if (await db('description_keymap').where(key).first('description_id')) return;
  await db('description_keymap').insert({ ...key, created_at: now });
}

/**
 * AtoM's second way to match an import row: identifier, title and repository all equal.
 * A blank never matches: AtoM's csvImportTask looks a record up by identifier, title and
 * repository only when the row has all three (QubitInformationObject::
 * getByTitleIdentifierAndRepo is never asked with an empty value), so a row without an
 * identifier cannot replace an unrelated "Untitled box list" that has none either.
 */
export async function findByIdentifierTitleRepository(
  db: Db,
  identifier: string | null,
  title: string | null,
  repository: string | null,
): Promise<Description | null> {
  if (!identifier || !title || !repository) return null;
  const q = db('descriptions').where({ identifier, title, repository });
  const r = (await q.orderBy('id', 'desc').first()) as Row | undefined;
  return r ? rowToDescription(r) : null;
}
/** Which of these legacyIds an earlier import of `sourceName` made a description from. */
export async function legacyIdsImported(db: Db, sourceName: string, legacyIds: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < legacyIds.length; i += CHUNK) {
    const rows = (await db('description_keymap')
      .where('source_name', sourceName)
      .whereIn('legacy_id', legacyIds.slice(i, i + CHUNK))
      .distinct('legacy_id')) as Array<{ legacy_id: string }>;
    for (const r of rows) found.add(r.legacy_id);
  }
  return found;
}

/** Which of these ids a description has. */
export async function descriptionIdsExisting(db: Db, ids: readonly number[]): Promise<Set<number>> {
  const found = new Set<number>();
  for (let i = 0; i < ids.length; i += CHUNK) {
    const rows = (await db('descriptions').whereIn('id', ids.slice(i, i + CHUNK)).select('id')) as Array<{ id: number }>;
    for (const r of rows) found.add(Number(r.id));
  }
  return found;
}

/** Which of these slugs a description has. */
export async function slugsInUse(db: Db, slugs: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < slugs.length; i += CHUNK) {
    const rows = (await db('descriptions').whereIn('slug', slugs.slice(i, i + CHUNK)).select('slug')) as Array<{ slug: string }>;
    for (const r of rows) found.add(r.slug);
  }
  return found;
}

/** Every repository name the descriptions carry, once each. */
export async function repositoryNames(db: Db): Promise<string[]> {
  const rows = (await db('descriptions').distinct('repository').whereNotNull('repository')) as Array<{ repository: string }>;
  return rows.map((r) => r.repository);
}
