/**
 * csv-import's CSV of the rows not imported: the file's own header after two columns of
 * ours (`importRow`, `importReason`), then each row in full with its reason. Corrected, it
 * imports again as it is (the import ignores those two columns, as any unknown one).
 *
 * A completed import lists the rows it skipped (`import_rejects`). A failed one lists
 * those it skipped before the failure, then every row after the last committed one: the
 * row that failed with its reason, the rows rolled back with its batch, the rows never
 * read, so that nothing of the file is lost from view, however the output cap cut the log.
 *
 * The worker makes the file when the import ends and stores it as the job's result,
 * rather than the web making it from `import_rejects` at download time: the rows after a
 * failure were never written to the database, and only the worker is sure to reach the
 * file they are in (an import from the command line reads a path on the worker's host),
 * whereas the file store is reached from every host. The download is then the same as any
 * job's result: its route, its permissions, its API link.
 */
import { stringify } from 'csv-stringify';
import { once } from 'node:events';
import type { CsvRecord } from '../../../app/archive/csv-read.js';
import type { Db } from '../../../app/db.js';
import { importRejects } from '../../../app/store/import-rejects.js';
import type { TaskContext } from '../types.js';
import type { ImportFile } from './csv-import-file.js';

/** Where a failed import stopped, and why each row from there on was not imported. */
export interface Stop {
  /** The rows up to this one were committed or skipped on purpose (`--skip-rows`). */
  after: number;
  reasonOf(rec: CsvRecord): string;
}

export interface NotImported {
  file: { stored: string; downloadName: string };
  /** The rows in it: skipped ones, and for a failed import the rows from where it stopped. */
  rows: number;
  skipped: number;
}

/** Stores the CSV of the rows not imported as a result file of the job. */
export async function storeNotImported(ctx: TaskContext, db: Db, file: ImportFile, sourceName: string, stop: Stop | null): Promise<NotImported> {
  const name = `${(sourceName.replace(/\.csv$/i, '') || 'import').slice(0, 150)}-not-imported.csv`;
  const csv = stringify({ header: false });
  const stored = ctx.putResult(csv, name, 'text/csv');
  stored.catch(() => undefined);
  const write = async (cells: string[]) => {
    if (!csv.write(cells)) await Promise.race([once(csv, 'drain'), stored]);
  };
  let skipped = 0;
  let rows = 0;
  try {
    if (stop) {
      // Opened first: the header of the CSV is the file's own.
      const reader = await file.open();
      try {
        await write(['importRow', 'importReason', ...file.rawHeader]);
        for await (const r of importRejects(db, ctx.jobId)) {
          await write([String(r.row), r.reason, ...r.cells]);
          skipped++;
        }
        for await (const rec of reader.records) {
          // Every record goes through reasonOf, in order: it may follow the file's legacyIds.
          const reason = stop.reasonOf(rec);
          if (rec.row <= stop.after) continue;
          await write([String(rec.row), reason, ...rec.values]);
          rows++;
        }
      } finally {
        reader.close();
      }
    } else {
      await write(['importRow', 'importReason', ...file.rawHeader]);
      for await (const r of importRejects(db, ctx.jobId)) {
        await write([String(r.row), r.reason, ...r.cells]);
        skipped++;
      }
    }
    csv.end();
  } catch (err) {
    csv.destroy(err as Error);
    await stored.catch(() => undefined);
    throw err;
  }
  const info = await stored;
  const n = skipped + rows;
  console.log(`The ${n} row${n === 1 ? '' : 's'} not imported, each with its reason: ${name} (the job's result file).`);
  return { file: { stored: info.id, downloadName: name }, rows: n, skipped };
}
