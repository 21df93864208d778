/**
 * Whether a write failed on the unique index of `descriptions.slug`: another import took
 * the slug between this batch's choice and its insert (SQLite: "UNIQUE constraint failed:
 * descriptions.slug"; MySQL/MariaDB: ER_DUP_ENTRY on the key `descriptions_slug`).
 */
export function isSlugCollision(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  const text = String(e?.message ?? '');
  if (e?.code === 'ER_DUP_ENTRY') return /descriptions_slug|'slug'/.test(text);
  return /UNIQUE constraint failed: descriptions\.slug/.test(text);
}
