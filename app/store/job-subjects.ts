/**
 * What the jobs page names a job by, read in one query per page: the parameters of the
 * jobs that carry a file name (an import's upload), and the titles of the descriptions
 * the jobs work on. The list itself reads light columns only; these are the few extra
 * values a page of 50 rows needs, by primary key.
 */
import type { Db } from '../db.js';
import { FINAL_STATUSES, type JobStatus } from '../types.js';

/** The parameters of these jobs, by id (unparseable ones are left out). */
export async function paramsOf(db: Db, ids: number[]): Promise<Map<number, Record<string, unknown>>> {
  const out = new Map<number, Record<string, unknown>>();
  if (ids.length === 0) return out;
  const rows = (await db('jobs').whereIn('id', ids).select('id', 'params')) as Array<{ id: number | string; params: unknown }>;
  for (const r of rows) {
    try {
      const p: unknown = typeof r.params === 'string' ? JSON.parse(r.params) : r.params;
      if (p && typeof p === 'object') out.set(Number(r.id), p as Record<string, unknown>);
    } catch {
      /* a job whose parameters do not parse is named by its task alone */
    }
  }
  return out;
}

/** Titles of descriptions referred to by id or slug, keyed by the reference as given. */
export async function descriptionTitles(db: Db, refs: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const unique = [...new Set(refs)].filter((r) => r !== '');
  if (unique.length === 0) return out;
  const ids = unique.filter((r) => /^\d{1,15}$/.test(r)).map(Number);
  const rows = (await db('descriptions')
    .where((b) => {
      b.whereIn('slug', unique);
      if (ids.length) b.orWhereIn('id', ids);
    })
    .select('id', 'slug', 'title')) as Array<{ id: number | string; slug: string; title: string | null }>;
  for (const r of rows) {
    const title = r.title || r.slug;
    if (unique.includes(r.slug)) out.set(r.slug, title);
    if (unique.includes(String(r.id))) out.set(String(r.id), title);
  }
  return out;
}

/** Descriptions whose title or slug starts with or contains `text`, for the job form's picker. */
export async function searchDescriptions(db: Db, text: string, limit = 20): Promise<Array<{ id: number; slug: string; title: string }>> {
  // '!' escapes: a backslash literal is read differently by MySQL and SQLite.
  const like = `%${text.replace(/[!%_]/g, (c) => `!${c}`)}%`;
  const rows = (await db('descriptions')
    .where((b) => b.whereRaw("title like ? escape '!'", [like]).orWhereRaw("slug like ? escape '!'", [like]))
    .orderBy('title')
    .limit(limit)
    .select('id', 'slug', 'title')) as Array<{ id: number | string; slug: string; title: string | null }>;
  return rows.map((r) => ({ id: Number(r.id), slug: r.slug, title: r.title || r.slug }));
}

/**
 * What "Clear inactive jobs" would remove for this scope (the same rule as
 * `clearInactive`): how many jobs, and how many of them leave a result file. With `cap`,
 * at most `cap + 1` rows are read and `capped` says there are more than `cap` (the jobs
 * page asks on every load: an uncapped count read every finished job of the scope, a
 * million rows for an administrator after a busy year).
 */
export async function clearableCounts(
  db: Db,
  scope: { userId: number | null; includeCommandLine: boolean },
  cap = Infinity,
): Promise<{ jobs: number; files: number; capped: boolean }> {
  const b = db('jobs').whereIn('status', FINAL_STATUSES as JobStatus[]);
  b.where((w) => {
    if (scope.userId !== null) w.where('user_id', scope.userId);
    else if (!scope.includeCommandLine) w.whereNotNull('user_id');
    else w.whereRaw('1 = 1');
    if (scope.userId !== null && scope.includeCommandLine) w.orWhereNull('user_id');
  });
  if (Number.isFinite(cap)) b.select('result_file').limit(cap + 1);
  const r = (await (Number.isFinite(cap)
    ? db.from(b.as('t')).select(db.raw('count(*) as n'), db.raw('count(result_file) as f')).first()
    : b.select(db.raw('count(*) as n'), db.raw('count(result_file) as f')).first())) as { n: number | string; f: number | string };
  const n = Number(r.n);
  return { jobs: Math.min(n, cap), files: Number(r.f), capped: n > cap };
}
