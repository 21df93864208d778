/**
 * csv-export: a description and its descendants as an AtoM ISAD CSV, in the columns the
 * import reads. `legacyId` is each description's id and `parentId` its parent's, so that
 * the file imported as new rebuilds the same hierarchy; the first row carries its
 * parent's slug in `qubitParentSlug` (when it has a parent), so the copy lands in the
 * same place.
 *
 * Cultures, as AtoM exports them: with `culture`, every row holds that culture's values
 * (the source culture's where a translation lacks a field) and names that culture; without
 * it, each description's row is followed by one row per translation, with the same
 * legacyId and parentId, the translation's culture and only its own fields, which the
 * import reads back as translations of the row before (csvImportTask's i18n rows).
 */
import { once } from 'node:events';
import { stringify } from 'csv-stringify';
import { EXPORT_COLUMNS, exportRow, RAD_EXPORT_COLUMNS } from '../../../app/archive/csv-columns.js';
import { usesRad } from '../../../app/archive/rad.js';
import { walkTree } from '../../../app/archive/description-tree.js';
import { getDescription } from '../../../app/archive/descriptions.js';
import { inCulture, withTranslations, type Translation } from '../../../app/archive/translations.js';
import type { Description, TreeNode } from '../../../app/archive/types.js';
import { UnrecoverableError } from '../../../app/errors.js';
import { csvExportSpec } from '../../../app/tasks/archive.js';
import type { TaskDefinition } from '../types.js';
import { cultureOf, describedBy, label } from './common.js';

/** A translation's row: the description's place, the translation's culture, its own fields only. */
function translationRow(
  d: Description,
  t: Translation,
  columns: readonly string[],
  place: { parentId: number | null; qubitParentSlug: string | null },
): string[] {
  return columns.map((c) => {
    if (c === 'legacyId') return String(d.id);
    if (c === 'parentId') return place.parentId === null ? '' : String(place.parentId);
    if (c === 'qubitParentSlug') return place.qubitParentSlug ?? '';
    if (c === 'culture') return t.culture;
    return t.fields[c] ?? '';
  });
}

export const csvExport: TaskDefinition = {
  ...csvExportSpec,
  async run(ctx) {
    const db = ctx.db();
    const root = await describedBy(db, ctx.params.description);
    const publishedOnly = Boolean(ctx.params.public);
    const culture = cultureOf(ctx.params.culture);
    if (publishedOnly && root.publicationStatus !== 'published') {
      throw new UnrecoverableError(`${label(root)} is a draft: an export of published descriptions only would be empty`);
    }
    const parentSlug = root.parentId === null ? null : ((await getDescription(db, root.parentId))?.slug ?? null);
    // A description in RAD exports RAD's columns too (AtoM exports in the template of the
    // description); the ISAD columns come first either way, so one import reads both.
    const columns = usesRad(root.extra, root.lists) ? RAD_EXPORT_COLUMNS : EXPORT_COLUMNS;
    // Streamed into the file store as it is written (backpressure on both sides), so a
    // web process on any host serves it and memory stays flat at any size.
    const csv = stringify({ header: true, columns: [...columns] });
    const name = `${root.slug}${culture ? `-${culture}` : ''}.csv`;
    const stored = ctx.putResult(csv, name, 'text/csv');
    // Handled below; a failed put is seen here too, as a write error or the awaited rejection.
    stored.catch(() => undefined);
    let rows = 0;
    let translations = 0;
    try {
      console.log(
        `Exporting ${label(root)} and its descendants${publishedOnly ? ' (published only)' : ''}` +
          (culture ? ` in ${culture}, the source culture's values where a translation lacks one` : ', with every translation'),
      );
      const walk = walkTree(db, root, { publishedOnly });
      const nodes: AsyncIterable<TreeNode & { translations?: Translation[] }> = culture
        ? inCulture(db, walk, culture)
        : withTranslations(db, walk);
      for await (const node of nodes) {
        if (ctx.signal.aborted) throw new Error(`stopped after ${rows} rows: ${String(ctx.signal.reason ?? 'cancelled')}`);
        const d = node.description;
        const place = d.id === root.id ? { parentId: null, qubitParentSlug: parentSlug } : { parentId: d.parentId, qubitParentSlug: null };
        const lines = [exportRow(d, columns, place)];
        for (const t of node.translations ?? []) lines.push(translationRow(d, t, columns, place));
        translations += node.translations?.length ?? 0;
        for (const line of lines) {
          if (!csv.write(line)) await Promise.race([once(csv, 'drain'), stored]);
        }
        rows++;
        if (rows % 500 === 0) ctx.progress(rows, null, `${rows} descriptions written`);
      }
      csv.end();
    } catch (err) {
      // The put sees the error and removes what it had written.
      csv.destroy(err as Error);
      await stored.catch(() => undefined);
      throw err;
    }
    const file = await stored;
    ctx.progress(rows, rows, `${rows} descriptions written`);
    const also = translations ? ` and ${translations} translation${translations === 1 ? '' : 's'}` : '';
    console.log(`Exported ${rows} description${rows === 1 ? '' : 's'}${also} to ${name} (${file.size} bytes, stored as ${file.id})`);
    return {
      summary: `exported ${rows} description${rows === 1 ? '' : 's'}${also}${culture ? ` in ${culture}` : ''}`,
      file: { stored: file.id, downloadName: name },
      objectRef: `description:${root.id}`,
    };
  },
};
