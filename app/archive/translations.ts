/**
 * Translations of descriptions: a description's fields in another culture, as AtoM keeps
 * its i18n rows. Every query on `description_translations` lives here.
 */
import type { Db } from '../db.js';

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
