/**
 * The culture a reader reads descriptions in, as AtoM chooses it: a `?culture=` choice
 * (AtoM's `sf_culture`), remembered in the session for the next pages; else the browser's
 * Accept-Language, the first of its languages the description has; else the description's
 * source culture.
 */
import type { Request } from 'express';
import { CULTURE_PATTERN } from '../archive/translations.js';
import { BadRequestError } from '../errors.js';
import { queryValue } from './http.js';

declare module 'express-session' {
  interface SessionData {
    /** The culture chosen with `?culture=` on a description page. */
    culture?: string;
  }
}

/** Accept-Language's languages, most wanted first ("fr-CA,fr;q=0.9,en;q=0.5" → fr-CA, fr, en). */
export function acceptedLanguages(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(',')
    .slice(0, 20)
    .map((part, i) => {
      const [tag, ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean);
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((l) => l.tag !== '' && l.tag !== '*' && l.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i)
    .map((l) => l.tag);
}

/** The culture among `available` that a language tag asks for: exact ("pt-BR" = "pt_BR"), else the same language ("fr-CA" → "fr"). */
function match(tag: string, available: readonly string[]): string | null {
  const norm = (c: string) => c.toLowerCase().replace('_', '-');
  const t = norm(tag);
  return available.find((c) => norm(c) === t) ?? available.find((c) => norm(c).split('-')[0] === t.split('-')[0]) ?? null;
}

/**
 * The reader's culture for a description with these cultures (its source culture first).
 * A `?culture=` that is no culture code is refused (400); a valid one the description
 * lacks is kept, and the page shows the source culture's values for every field.
 */
export function readerCulture(req: Request, available: readonly string[]): string {
  const asked = queryValue(req, 'culture')?.trim();
  if (asked) {
    if (!CULTURE_PATTERN.test(asked)) throw new BadRequestError(`"${asked.slice(0, 20)}" is not a culture code (such as en, fr or pt_BR).`);
    if (req.session) req.session.culture = asked;
    return asked;
  }
  const remembered = req.session?.culture;
  if (remembered) return match(remembered, available) ?? remembered;
  for (const tag of acceptedLanguages(req.get('accept-language'))) {
    const m = match(tag, available);
    if (m) return m;
  }
  return available[0];
}

/** A culture's name in its own language ("français" for "fr"), as a language switch shows it. */
export function cultureName(culture: string): string {
  try {
    const tag = culture.replace('_', '-');
    const name = new Intl.DisplayNames([tag], { type: 'language' }).of(tag) ?? culture;
    return name.charAt(0).toLocaleUpperCase(tag) + name.slice(1);
  } catch {
    return culture;
  }
}
