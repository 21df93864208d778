/** Helpers the archival task handlers share. */
import { findDescription } from '../../../app/archive/descriptions.js';
import { CULTURE_PATTERN } from '../../../app/archive/translations.js';
import type { Description } from '../../../app/archive/types.js';
import type { Db } from '../../../app/db.js';
import { InputError } from '../../../app/errors.js';

/** The description a parameter names, or an InputError (retrying cannot help). */
export async function describedBy(db: Db, ref: unknown, what = 'description'): Promise<Description> {
  const d = await findDescription(db, String(ref ?? ''));
  if (!d) throw new InputError(`no ${what} has the slug or id "${String(ref).slice(0, 100)}"`);
  return d;
}

/** The `culture` parameter: null when absent, an InputError when it is no culture code. */
export function cultureOf(raw: unknown): string | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const c = String(raw).trim();
  if (!CULTURE_PATTERN.test(c)) {
    throw new InputError(`"${c.slice(0, 20)}" is not a culture code; give one such as en, fr or pt_BR`);
  }
  return c;
}

/** How output lines name a description: its title and slug. */
export function label(d: Pick<Description, 'title' | 'identifier' | 'slug'>): string {
  const name = d.title ?? d.identifier ?? 'Untitled';
  return `"${name}" (${d.slug})`;
}

/** A Map that forgets its least recently used entries beyond `max`. */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();
  constructor(private readonly max: number) {}

  get(key: K): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as K);
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  get size(): number {
    return this.map.size;
  }
}
