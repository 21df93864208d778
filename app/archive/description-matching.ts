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

/** The latest description an import of `sourceName` made from the row with this legacyId. */
export async function findByLegacyId(db: Db, sourceName: string, legacyId: string): Promise<Description | null> {
  const r = (await db('descriptions')
    .where({ source_name: sourceName, legacy_id: legacyId })
    .orderBy('id', 'desc')
    .first()) as Row | undefined;
  return r ? rowToDescription(r) : null;
}

/** AtoM's second way to match an import row: identifier, title and repository all equal. */
export async function findByIdentifierTitleRepository(
  db: Db,
  identifier: string | null,
  title: string | null,
  repository: string | null,
): Promise<Description | null> {
  const q = db('descriptions');
  for (const [column, value] of [
    ['identifier', identifier],
    ['title', title],
    ['repository', repository],
  ] as const) {
    if (value === null) q.whereNull(column);
    else q.where(column, value);
  }
  const r = (await q.orderBy('id', 'desc').first()) as Row | undefined;
  return r ? rowToDescription(r) : null;
}
/** Which of these legacyIds an earlier import of `sourceName` made a description from. */
export async function legacyIdsImported(db: Db, sourceName: string, legacyIds: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < legacyIds.length; i += CHUNK) {
    const rows = (await db('descriptions')
      .where('source_name', sourceName)
      .whereIn('legacy_id', legacyIds.slice(i, i + CHUNK))
      .distinct('legacy_id')) as Array<{ legacy_id: string }>;
    for (const r of rows) found.add(r.legacy_id);
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
