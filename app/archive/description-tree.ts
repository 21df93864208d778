/**
 * Walking a description's hierarchy in order, for exports and finding aids. Part of the
 * descriptions store (`descriptions.ts`).
 */
import type { Db } from '../db.js';
import { listChildren } from './descriptions.js';
import type { Description, TreeNode } from './types.js';

/**
 * Walks a description and its descendants depth first, in order (a parent before its
 * children, children by position). Memory stays bounded by depth × page size: each
 * level keeps one page of siblings, and one query per page tells which of them have
 * children, so leaves cost no query of their own.
 *
 * `publishedOnly` leaves out drafts and everything below them: a published item under a
 * draft series is not public either. `draftRoot` still walks a draft root (and its
 * published descendants): AtoM generates the public finding aid of a draft fonds so.
 */
export async function* walkTree(
  db: Db,
  root: Description,
  opts: { publishedOnly?: boolean; draftRoot?: boolean; pageSize?: number } = {},
): AsyncGenerator<TreeNode> {
  const pageSize = opts.pageSize ?? 500;
  if (opts.publishedOnly && !opts.draftRoot && root.publicationStatus !== 'published') return;
  yield { description: root, depth: 0 };
  interface Frame {
    parentId: number;
    depth: number;
    buffer: Description[];
    withChildren: Set<number>;
    after: { position: number; id: number } | null;
    exhausted: boolean;
  }
  const frame = (parentId: number, depth: number): Frame => ({
    parentId,
    depth,
    buffer: [],
    withChildren: new Set(),
    after: null,
    exhausted: false,
  });
  const stack: Frame[] = [frame(root.id, 1)];
  while (stack.length > 0) {
    const f = stack[stack.length - 1];
    if (f.buffer.length === 0) {
      if (f.exhausted) {
        stack.pop();
        continue;
      }
      const page = await listChildren(db, f.parentId, {
        after: f.after,
        limit: pageSize,
        publishedOnly: opts.publishedOnly,
      });
      f.buffer = page.items;
      f.after = page.next;
      f.exhausted = page.next === null;
      f.withChildren = await parentsAmong(
        db,
        page.items.map((d) => d.id),
      );
      continue;
    }
    const d = f.buffer.shift()!;
    yield { description: d, depth: f.depth };
    if (f.withChildren.has(d.id)) stack.push(frame(d.id, f.depth + 1));
  }
}

/** Which of these descriptions have at least one child. */
async function parentsAmong(db: Db, ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = (await db('descriptions').distinct('parent_id').whereIn('parent_id', ids)) as Array<{
    parent_id: number;
  }>;
  return new Set(rows.map((r) => Number(r.parent_id)));
}
