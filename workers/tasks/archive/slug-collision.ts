/**
 * Whether a batch's write failed only because another writer got there first, so that
 * the whole batch, rolled back, can simply be written again:
 * - a slug taken between this batch's choice and its insert (SQLite: "UNIQUE constraint
 *   failed: descriptions.slug"; MySQL/MariaDB: ER_DUP_ENTRY on the key
 *   `descriptions_slug`);
 * - on MySQL/MariaDB, a deadlock between two imports inserting into the same index
 *   (ER_LOCK_DEADLOCK: InnoDB rolled the transaction back).
 */
export function isSlugCollision(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  const text = String(e?.message ?? '');
  if (e?.code === 'ER_DUP_ENTRY') return /descriptions_slug|'slug'/.test(text);
  return /UNIQUE constraint failed: descriptions\.slug/.test(text);
}

export function isRetryableWrite(err: unknown): boolean {
  const e = err as { code?: string } | null;
  return isSlugCollision(err) || e?.code === 'ER_LOCK_DEADLOCK';
}
