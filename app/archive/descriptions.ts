/**
 * The descriptions store: every query on `descriptions` lives here (and, for what a CSV
 * import asks, in `description-matching.ts`). Routes and task handlers call these named
 * functions and get typed rows back.
 */
import type { Db } from '../db.js';
import { ConflictError, NotFoundError } from '../errors.js';
import type {
  Description,
  DescriptionFields,
  FindingAidStatus,
  PublicationStatus,
} from './types.js';
import { readEvents, readExtra, storedEvents, storedExtra } from './repeatable.js';

type Row = Record<string, unknown>;

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function rowToDescription(r: Row): Description {
  return {
    id: Number(r.id),
    parentId: num(r.parent_id),
    position: Number(r.position),
    legacyId: str(r.legacy_id),
    sourceName: str(r.source_name),
    identifier: str(r.identifier),
    title: str(r.title),
    levelOfDescription: str(r.level_of_description),
    extentAndMedium: str(r.extent_and_medium),
    scopeAndContent: str(r.scope_and_content),
    repository: str(r.repository),
    publicationStatus: r.publication_status === 'published' ? 'published' : 'draft',
    slug: String(r.slug),
    culture: String(r.culture ?? 'en'),
    events: readEvents(r.events),
    ...readExtra(r.extra),
    findingAidStatus: (str(r.finding_aid_status) as FindingAidStatus | null) ?? null,
    findingAidJobId: num(r.finding_aid_job_id),
    findingAidFile: str(r.finding_aid_file),
    findingAidName: str(r.finding_aid_name),
    findingAidError: str(r.finding_aid_error),
    findingAidAt: num(r.finding_aid_at),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** Column values for the fields given (absent keys are left out of the update). */
function fieldsToRow(f: Partial<DescriptionFields>): Row {
  const out: Row = {};
  const map: Array<[keyof DescriptionFields, string]> = [
    ['identifier', 'identifier'],
    ['title', 'title'],
    ['levelOfDescription', 'level_of_description'],
    ['extentAndMedium', 'extent_and_medium'],
    ['scopeAndContent', 'scope_and_content'],
    ['repository', 'repository'],
    ['publicationStatus', 'publication_status'],
    ['culture', 'culture'],
  ];
  for (const [field, column] of map) if (f[field] !== undefined) out[column] = f[field];
  // The lists travel in `extra` as JSON arrays (app/archive/repeatable.ts): the three are
  // written together, so a patch gives all three or none.
  if (f.extra !== undefined || f.lists !== undefined || f.alternativeIdentifiers !== undefined) {
    if (f.extra === undefined || f.lists === undefined || f.alternativeIdentifiers === undefined) {
      throw new Error('a description\'s extra fields, lists and alternative identifiers are written together');
    }
    out.extra = storedExtra({ extra: f.extra, lists: f.lists, alternativeIdentifiers: f.alternativeIdentifiers });
  }
  if (f.events !== undefined) out.events = storedEvents(f.events);
  return out;
}

/** Transactions here take SQLite's write lock first; see `writeTransaction` in app/db.ts. */
import { writeTransaction } from '../db.js';
import { forUpdate } from '../dialect.js';
export { writeTransaction };

/**
 * The descriptions tree's lock. Every transaction that may move a description (the move
 * task; an import updating matched records, which moves one whose row names a parent)
 * takes it first, so no two of them read the tree at once. Without it, on MariaDB, "A
 * under B" and "B under A" would each pass the "not under its own descendant" check in
 * its own snapshot and both commit: a loop cut off from the tree. On SQLite the write
 * lock of `writeTransaction` already orders every writer. An import as new takes no lock:
 * it moves nothing, and its new rows follow their parent wherever a move puts it.
 */
export async function lockTree(trx: Db): Promise<void> {
  await forUpdate(trx, trx('tree_locks').where({ name: 'descriptions' }).select('name'));
}

export async function getDescription(db: Db, id: number): Promise<Description | null> {
  const r = (await db('descriptions').where({ id }).first()) as Row | undefined;
  return r ? rowToDescription(r) : null;
}

export async function getDescriptionBySlug(db: Db, slug: string): Promise<Description | null> {
  const r = (await db('descriptions').where({ slug }).first()) as Row | undefined;
  return r ? rowToDescription(r) : null;
}

/** A description by id (digits) or slug; a slug of digits is tried when no id matches. */
export async function findDescription(db: Db, ref: string | number): Promise<Description | null> {
  const s = String(ref).trim();
  if (/^[0-9]{1,10}$/.test(s)) {
    const byId = await getDescription(db, Number(s));
    if (byId) return byId;
  }
  return getDescriptionBySlug(db, s);
}

export async function countDescriptions(db: Db): Promise<number> {
  const r = (await db('descriptions').count({ n: '*' }).first()) as { n: number | string } | undefined;
  return Number(r?.n ?? 0);
}

export interface Page<T> {
  items: T[];
  /** Pass as `after` for the next page; null on the last page. */
  next: { position: number; id: number } | null;
}

/**
 * Children of a description (or the top-level descriptions, for `null`) in order, a page
 * at a time: keyset pagination on (position, id), so a fonds with 100,000 items costs the
 * same per page as one with ten.
 */
export async function listChildren(
  db: Db,
  parentId: number | null,
  opts: { after?: { position: number; id: number } | null; limit?: number; publishedOnly?: boolean } = {},
): Promise<Page<Description>> {
  const limit = opts.limit ?? 100;
  const q = db('descriptions');
  if (parentId === null) q.whereNull('parent_id');
  else q.where('parent_id', parentId);
  if (opts.publishedOnly) q.where('publication_status', 'published');
  const after = opts.after;
  if (after) {
    q.where((w) =>
      w.where('position', '>', after.position).orWhere((w2) => w2.where('position', after.position).where('id', '>', after.id)),
    );
  }
  const rows = (await q.orderBy([{ column: 'position' }, { column: 'id' }]).limit(limit + 1)) as Row[];
  const items = rows.slice(0, limit).map(rowToDescription);
  const last = items[items.length - 1];
  return { items, next: rows.length > limit && last ? { position: last.position, id: last.id } : null };
}

/** How many children each of these descriptions has (absent: none). */
export async function countChildren(db: Db, ids: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = (await db('descriptions')
      .whereIn('parent_id', ids.slice(i, i + 500))
      .groupBy('parent_id')
      .select('parent_id')
      .count({ n: '*' })) as Array<{ parent_id: number; n: number | string }>;
    for (const r of rows) out.set(Number(r.parent_id), Number(r.n));
  }
  return out;
}

/** The ancestors of a description, top-level first, the parent last. */
export async function ancestors(db: Db, d: Pick<Description, 'id' | 'parentId'>): Promise<Description[]> {
  const chain: Description[] = [];
  const seen = new Set<number>([d.id]);
  let parentId = d.parentId;
  while (parentId !== null) {
    // A cycle cannot be written through this module; the guard keeps a damaged table
    // from hanging a job.
    if (seen.has(parentId)) throw new Error(`the hierarchy above description ${d.id} loops through ${parentId}`);
    seen.add(parentId);
    const p = await getDescription(db, parentId);
    if (!p) break;
    chain.unshift(p);
    parentId = p.parentId;
  }
  return chain;
}

/** The next position among the children of `parentId` (after the last one). */
export async function nextPosition(db: Db, parentId: number | null): Promise<number> {
  const q = db('descriptions');
  if (parentId === null) q.whereNull('parent_id');
  else q.where('parent_id', parentId);
  const r = (await q.max({ m: 'position' }).first()) as { m: number | null } | undefined;
  return r?.m === null || r?.m === undefined ? 0 : Number(r.m) + 1;
}

export interface NewDescription extends DescriptionFields {
  parentId: number | null;
  position: number;
  slug: string;
  legacyId?: string | null;
  sourceName?: string | null;
}

export async function insertDescription(db: Db, d: NewDescription, now = Date.now()): Promise<number> {
  const [id] = (await db('descriptions').insert({
    ...fieldsToRow(d),
    parent_id: d.parentId,
    position: d.position,
    slug: d.slug,
    legacy_id: d.legacyId ?? null,
    source_name: d.sourceName ?? null,
    created_at: now,
    updated_at: now,
  })) as number[];
  if (d.legacyId && d.sourceName) {
    await db('description_keymap').insert({ source_name: d.sourceName, legacy_id: d.legacyId, description_id: Number(id), created_at: now });
  }
  return Number(id);
}

/** Sets the given fields (and optionally the keymap entry) of one description. */
export async function updateDescription(
  db: Db,
  id: number,
  patch: Partial<DescriptionFields> & { legacyId?: string | null; sourceName?: string | null; parentId?: number | null; position?: number },
  now = Date.now(),
): Promise<void> {
  const row: Row = { ...fieldsToRow(patch), updated_at: now };
  if (patch.legacyId !== undefined) row.legacy_id = patch.legacyId;
  if (patch.sourceName !== undefined) row.source_name = patch.sourceName;
  if (patch.parentId !== undefined) row.parent_id = patch.parentId;
  if (patch.position !== undefined) row.position = patch.position;
  await db('descriptions').where({ id }).update(row);
}

/**
 * The ids of a description's descendants, level by level, `chunk` at a time. Memory is
 * bounded by the widest level, not by the size of the subtree.
 */
export async function* descendantIds(db: Db, id: number, chunk = 500): AsyncGenerator<number[]> {
  let level = [id];
  while (level.length > 0) {
    const next: number[] = [];
    for (let i = 0; i < level.length; i += chunk) {
      const rows = (await db('descriptions').whereIn('parent_id', level.slice(i, i + chunk)).select('id')) as Array<{
        id: number;
      }>;
      const ids = rows.map((r) => Number(r.id));
      for (let j = 0; j < ids.length; j += chunk) yield ids.slice(j, j + chunk);
      next.push(...ids);
    }
    level = next;
  }
}

export interface StatusChange {
  /** Descriptions whose status changed. */
  changed: number;
  /** Descriptions looked at (the description, and its descendants when asked). */
  total: number;
}

/**
 * Sets the publication status of a description and, optionally, of all its descendants.
 * Each chunk of 500 is its own short statement, so a large fonds never holds a long lock.
 */
export async function setPublicationStatus(
  db: Db,
  id: number,
  status: PublicationStatus,
  opts: { descendants?: boolean; onProgress?: (done: StatusChange) => void; signal?: AbortSignal } = {},
): Promise<StatusChange> {
  const now = Date.now();
  const apply = async (ids: number[]): Promise<number> =>
    Number(
      await db('descriptions')
        .whereIn('id', ids)
        .whereNot('publication_status', status)
        .update({ publication_status: status, updated_at: now }),
    );
  const result: StatusChange = { changed: await apply([id]), total: 1 };
  if (opts.descendants) {
    for await (const ids of descendantIds(db, id)) {
      if (opts.signal?.aborted) throw new Error(`stopped after ${result.total} descriptions: ${String(opts.signal.reason)}`);
      result.changed += await apply(ids);
      result.total += ids.length;
      opts.onProgress?.(result);
    }
  }
  return result;
}

/**
 * Moves a description under a new parent, as the parent's last child. Refuses a move
 * under the description itself or one of its descendants, which would cut the subtree
 * off from the tree into a loop. Checked and written in one transaction, under the tree's
 * lock (`lockTree`), so two moves at once cannot make a loop either.
 */
export async function moveDescription(
  db: Db,
  id: number,
  newParentId: number,
): Promise<{ description: Description; from: Description | null; to: Description; position: number; unchanged: boolean }> {
  return writeTransaction(db, async (trx) => {
    await lockTree(trx);
    const d = await getDescription(trx, id);
    if (!d) throw new NotFoundError(`description ${id} does not exist`);
    const to = await getDescription(trx, newParentId);
    if (!to) throw new NotFoundError(`description ${newParentId} does not exist`);
    const label = (x: Description) => `"${x.title ?? x.slug}" (${x.slug})`;
    if (to.id === d.id) throw new ConflictError(`cannot move ${label(d)} under itself`);
    const above = await ancestors(trx, to);
    if (above.some((a) => a.id === d.id)) {
      throw new ConflictError(
        `cannot move ${label(d)} under ${label(to)}: ${label(to)} is one of its own descendants, ` +
          'and the move would cut the branch off the tree',
      );
    }
    const from = d.parentId === null ? null : await getDescription(trx, d.parentId);
    if (d.parentId === to.id) return { description: d, from, to, position: d.position, unchanged: true };
    const position = await nextPosition(trx, to.id);
    await updateDescription(trx, d.id, { parentId: to.id, position });
    return { description: { ...d, parentId: to.id, position }, from, to, position, unchanged: false };
  });
}

/** Records where a description's finding aid stands; fields not given are left alone. */
export async function setFindingAid(
  db: Db,
  id: number,
  f: {
    status: FindingAidStatus | null;
    jobId?: number | null;
    file?: string | null;
    name?: string | null;
    error?: string | null;
    at?: number | null;
  },
): Promise<void> {
  const row: Row = { finding_aid_status: f.status };
  if (f.jobId !== undefined) row.finding_aid_job_id = f.jobId;
  if (f.file !== undefined) row.finding_aid_file = f.file;
  if (f.name !== undefined) row.finding_aid_name = f.name;
  if (f.error !== undefined) row.finding_aid_error = f.error === null ? null : f.error.slice(0, 1000);
  if (f.at !== undefined) row.finding_aid_at = f.at;
  await db('descriptions').where({ id }).update(row);
}

/** The reference code AtoM shows: the identifiers from the top-level description down, joined by "-". */
export function referenceCode(chain: Array<Pick<Description, 'identifier'>>): string {
  return chain
    .map((d) => d.identifier?.trim() ?? '')
    .filter((s) => s !== '')
    .join('-');
}

/** The repository a description holds or inherits from its nearest ancestor that names one. */
export function inheritedRepository(chain: Array<Pick<Description, 'repository'>>): string | null {
  for (let i = chain.length - 1; i >= 0; i--) if (chain[i].repository) return chain[i].repository;
  return null;
}
