/**
 * csv-export: a description and its descendants as an AtoM ISAD CSV, in the columns the
 * import reads. `legacyId` is each description's id and `parentId` its parent's, so that
 * the file imported as new rebuilds the same hierarchy; the first row carries its
 * parent's slug in `qubitParentSlug` (when it has a parent), so the copy lands in the
 * same place.
 */
import { once } from 'node:events';
import { stringify } from 'csv-stringify';
import { EXPORT_COLUMNS, exportRow, RAD_EXPORT_COLUMNS } from '../../../app/archive/csv-columns.js';
import { usesRad } from '../../../app/archive/rad.js';
import { walkTree } from '../../../app/archive/description-tree.js';
import { getDescription } from '../../../app/archive/descriptions.js';
import { UnrecoverableError } from '../../../app/errors.js';
import { csvExportSpec } from '../../../app/tasks/archive.js';
import type { TaskDefinition } from '../types.js';
import { describedBy, label } from './common.js';

export const csvExport: TaskDefinition = {
  ...csvExportSpec,
  async run(ctx) {
    const db = ctx.db();
    const root = await describedBy(db, ctx.params.description);
    const publishedOnly = Boolean(ctx.params.public);
    if (publishedOnly && root.publicationStatus !== 'published') {
      throw new UnrecoverableError(`${label(root)} is a draft: an export of published descriptions only would be empty`);
    }
    const parentSlug = root.parentId === null ? null : ((await getDescription(db, root.parentId))?.slug ?? null);
    // A description in RAD exports RAD's columns too (AtoM exports in the template of the
    // description); the ISAD columns come first either way, so one import reads both.
    const columns = usesRad(root.extra) ? RAD_EXPORT_COLUMNS : EXPORT_COLUMNS;
    // Streamed into the file store as it is written (backpressure on both sides), so a
    // web process on any host serves it and memory stays flat at any size.
    const csv = stringify({ header: true, columns: [...columns] });
    const stored = ctx.putResult(csv, `${root.slug}.csv`, 'text/csv');
    // Handled below; a failed put is seen here too, as a write error or the awaited rejection.
    stored.catch(() => undefined);
    let rows = 0;
    try {
      console.log(`Exporting ${label(root)} and its descendants${publishedOnly ? ' (published only)' : ''}`);
      for await (const { description: d } of walkTree(db, root, { publishedOnly })) {
        if (ctx.signal.aborted) throw new Error(`stopped after ${rows} rows: ${String(ctx.signal.reason ?? 'cancelled')}`);
        const place = d.id === root.id ? { parentId: null, qubitParentSlug: parentSlug } : { parentId: d.parentId, qubitParentSlug: null };
        if (!csv.write(exportRow(d, columns, place))) await Promise.race([once(csv, 'drain'), stored]);
        rows++;
        if (rows % 500 === 0) ctx.progress(rows, null, `${rows} rows written`);
      }
      csv.end();
    } catch (err) {
      // The put sees the error and removes what it had written.
      csv.destroy(err as Error);
      await stored.catch(() => undefined);
      throw err;
    }
    const file = await stored;
    ctx.progress(rows, rows, `${rows} rows written`);
    console.log(`Exported ${rows} description${rows === 1 ? '' : 's'} to ${root.slug}.csv (${file.size} bytes, stored as ${file.id})`);
    return {
      summary: `exported ${rows} description${rows === 1 ? '' : 's'}`,
      file: { stored: file.id, downloadName: `${root.slug}.csv` },
      objectRef: `description:${root.id}`,
    };
  },
};
