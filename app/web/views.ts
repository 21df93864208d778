/**
 * The view engine: EJS, each template compiled once, without `with (locals)`.
 *
 * EJS wraps a template's code in `with (locals) { ... }` by default, so every name the
 * template uses is looked up through the locals object first, which V8 cannot optimise:
 * the jobs table renders about three times slower that way. Here each template is
 * compiled with its names declared from the locals instead (EJS's `destructuredLocals`),
 * the names being read from the template's own code when it is compiled. A name the
 * template uses that the page does not pass is `undefined`, as before; a name that is a
 * JavaScript global (`Date`, `JSON`, `encodeURIComponent`, ...) stays the global.
 *
 * Includes resolve as EJS resolves them (relative to the including file, `.ejs`
 * added), looked up on disk once per place rather than once per render.
 *
 * A page is kept in plain ASCII where the templates decide it: their literal text's
 * other characters ("…", "·", "↓") are written as character references. One such
 * character made V8 build the whole page as a two-byte string, and turning that into
 * UTF-8 bytes for the response cost the jobs page about 1 ms of its 7 (a 70 KB page);
 * the browser shows the same text. Values from the data are sent as they are.
 */
import ejs from 'ejs';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';

type Include = (path: string, extra?: Record<string, unknown>) => string;
type Compiled = (locals: Record<string, unknown>, escapeFn: (s: unknown) => string, include: Include) => string;

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for ' +
    'function if implements import in instanceof interface let new null package private protected public return ' +
    'static super switch this throw true try typeof var void while with yield await arguments eval'
  ).split(' '),
);
/** EJS's own names inside a compiled template. */
const EJS_NAMES = new Set(['locals', 'escapeFn', 'include', 'rethrow', '__output', '__append', '__line', '__lines', '__filename', '__locals']);

const TAG = /<%(?!%)([_=\-#]?)([\s\S]*?)[_-]?%>/g;
const STRING = /'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g;
// A name not reached through a dot (`a.b` yields `a` only).
const NAME = /(?<![\w$.])(?<!\.\s+)[A-Za-z_$][\w$]*/g;

/**
 * The names a template's code may read from its locals: every identifier in its
 * scriptlets, less keywords, globals and EJS's own. A superset is harmless (an extra
 * name is an unused variable), so property keys and loop variables may be among them.
 */
export function localNames(template: string): string[] {
  const names = new Set<string>();
  for (const [, kind, code] of template.matchAll(TAG)) {
    if (kind === '#') continue;
    for (const [name] of code.replace(STRING, '""').matchAll(NAME)) {
      if (RESERVED.has(name) || EJS_NAMES.has(name) || name in globalThis) continue;
      names.add(name);
    }
  }
  return [...names].sort();
}

const LITERAL_OR_TAG = /<%(?!%)[\s\S]*?%>|[^\t\n\r\x20-\x7e]/gu;

/**
 * The template with the non-ASCII characters of its literal text as character
 * references (`…` becomes `&#x2026;`); its tags are left as written.
 */
export function asciiTemplate(template: string): string {
  return template.replace(LITERAL_OR_TAG, (m) => (m.startsWith('<%') ? m : `&#x${m.codePointAt(0)!.toString(16)};`));
}

const HTML_SPECIAL = /[&<>'"]/;
const HTML_SPECIALS = /[&<>'"]/g;
const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' };

/**
 * EJS's `escapeXML` (the same output), without its replace-with-a-function when there
 * is nothing to escape, as for most values of a page (ids, dates, statuses).
 */
export function escapeHtml(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'number') return String(value);
  const s = String(value);
  return HTML_SPECIAL.test(s) ? s.replace(HTML_SPECIALS, (c) => HTML_ESCAPES[c]) : s;
}

/** An Express view engine for `.ejs` files (`app.engine('ejs', ejsEngine(viewsDir))`). */
export function ejsEngine(viewsDir: string) {
  const compiled = new Map<string, Compiled>();
  const includes = new Map<string, string>();

  const load = (file: string, cache: boolean): Compiled => {
    let fn = cache ? compiled.get(file) : undefined;
    if (!fn) {
      const text = asciiTemplate(readFileSync(file, 'utf8'));
      fn = ejs.compile(text, { client: true, filename: file, _with: false, destructuredLocals: localNames(text) }) as unknown as Compiled;
      if (cache) compiled.set(file, fn);
    }
    return fn;
  };

  const includePath = (from: string, path: string, cache: boolean): string => {
    const key = `${from}\u0000${path}`;
    let found = cache ? includes.get(key) : undefined;
    if (!found) {
      const name = extname(path) ? path : `${path}.ejs`;
      const near = resolve(dirname(from), name);
      found = existsSync(near) ? near : join(viewsDir, name);
      if (cache) includes.set(key, found);
    }
    return found;
  };

  const run = (file: string, locals: Record<string, unknown>, cache: boolean): string => {
    const include: Include = (path, extra) => run(includePath(file, path, cache), extra ? { ...locals, ...extra } : locals, cache);
    return load(file, cache)(locals, escapeHtml, include);
  };

  return (file: string, options: object, done: (err: unknown, html?: string) => void): void => {
    let html: string;
    try {
      const locals = options as Record<string, unknown>;
      html = run(file, locals, Boolean(locals.cache));
    } catch (err) {
      done(err);
      return;
    }
    done(null, html);
  };
}
