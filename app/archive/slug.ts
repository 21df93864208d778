/**
 * Slugs: the unique, URL-safe names of descriptions, made from their titles as AtoM
 * makes them ("Series A" → `series-a`, a second "Series A" → `series-a-2`).
 */
import type { Db } from '../db.js';
import { whereStartsWithNumbered } from '../dialect.js';

/** Longest base slug; leaves room for a `-NNNNNN` suffix under the 191-character column. */
const MAX_BASE = 180;

/** Lower-case ASCII letters and digits joined by single hyphens; `untitled` if nothing is left. */
export function slugify(text: string | null | undefined): string {
  const ascii = (text ?? '')
    .normalize('NFKD')
    // Combining marks left by NFKD: "é" → "e".
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/ß/g, 'ss')
    .replace(/[æ]/g, 'ae')
    .replace(/[œ]/g, 'oe')
    .replace(/[ø]/g, 'o')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const cut = ascii.slice(0, MAX_BASE).replace(/-+$/, '');
  return cut || 'untitled';
}

/**
 * Hands out unique slugs for many titles at once: one query for the plain slugs of a
 * batch, and one more for each base that is already taken, after which the next free
 * suffix of that base is remembered (an import of 10,000 rows titled "Letter" must not
 * search the table 10,000 times). The unique index on `descriptions.slug` stays the
 * final guard against a concurrent writer.
 */
export class SlugAllocator {
  /** base → next suffix to try; bounded, since an import may see many distinct bases. */
  private nextSuffix = new Map<string, number>();
  /** Slugs handed out but perhaps not yet visible to this connection's queries. */
  private handedOut = new Set<string>();

  constructor(private readonly maxRemembered = 10_000) {}

  async allocate(db: Db, titles: Array<string | null>): Promise<string[]> {
    const bases = titles.map(slugify);
    const taken = await existingSlugs(db, [...new Set(bases)]);
    const out: string[] = [];
    for (const base of bases) {
      let slug: string;
      if (!taken.has(base) && !this.handedOut.has(base)) {
        slug = base;
      } else {
        let n = this.nextSuffix.get(base);
        if (n === undefined) n = (await highestSuffix(db, base)) + 1;
        n = Math.max(n, 2);
        while (this.handedOut.has(`${base}-${n}`) || (await slugExists(db, `${base}-${n}`))) n++;
        slug = `${base}-${n}`;
        this.remember(base, n + 1);
      }
      this.handedOut.add(slug);
      out.push(slug);
    }
    return out;
  }

  /** Forget slugs once their batch is committed (they are in the table then). */
  committed(): void {
    this.handedOut.clear();
  }

  /** A rolled-back batch: its slugs are free again, and remembered suffixes may be stale. */
  rolledBack(): void {
    this.handedOut.clear();
    this.nextSuffix.clear();
  }

  private remember(base: string, next: number): void {
    this.nextSuffix.delete(base);
    this.nextSuffix.set(base, next);
    if (this.nextSuffix.size > this.maxRemembered) {
      const oldest = this.nextSuffix.keys().next().value as string;
      this.nextSuffix.delete(oldest);
    }
  }
}

async function existingSlugs(db: Db, slugs: string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < slugs.length; i += 500) {
    const rows = (await db('descriptions').whereIn('slug', slugs.slice(i, i + 500)).select('slug')) as Array<{
      slug: string;
    }>;
    for (const r of rows) found.add(r.slug);
  }
  return found;
}

async function slugExists(db: Db, slug: string): Promise<boolean> {
  return (await db('descriptions').where({ slug }).first('id')) !== undefined;
}

/** The highest N among `base-N` slugs (1 when there is none, so the first suffix is 2). */
async function highestSuffix(db: Db, base: string): Promise<number> {
  // Slugs hold only [a-z0-9-]: the pattern needs no escaping, and the index serves it.
  const rows = (await whereStartsWithNumbered(db, db('descriptions').select('slug'), 'slug', `${base}-`)) as Array<{ slug: string }>;
  let max = 1;
  for (const { slug } of rows) {
    const rest = slug.slice(base.length + 1);
    if (/^[0-9]{1,9}$/.test(rest)) max = Math.max(max, Number(rest));
  }
  return max;
}
