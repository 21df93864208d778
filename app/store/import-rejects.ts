/**
 * csv-import's rejects: every row an import did not import (skipped for an error, or as
 * matched or unmatched by the options), in full, with the reason. Written in the batch's
 * transaction, with its checkpoint, so a resumed import neither loses nor repeats one;
 * read back in order to make the job's CSV of the rows not imported, whatever the output
 * cap cut from the log (a failed import's too). Kept until the job is removed: an attempt
 * run again after the import ended makes the same file.
 */
import type { Db } from '../db.js';

export interface ImportReject {
  row: number;
  reason: string;
  cells: string[];
}

export async function saveImportRejects(trx: Db, jobId: number, rejects: readonly ImportReject[]): Promise<void> {
  for (let i = 0; i < rejects.length; i += 100) {
    await trx('import_rejects').insert(
      rejects.slice(i, i + 100).map((r) => ({ job_id: jobId, row_number: r.row, reason: r.reason.slice(0, 10_000), cells: JSON.stringify(r.cells) })),
    );
  }
}

/** The job's rejects in row order, a page at a time. */
export async function* importRejects(db: Db, jobId: number, page = 1000): AsyncGenerator<ImportReject> {
  let after = 0;
  for (;;) {
    const rows = (await db('import_rejects')
      .where('job_id', jobId)
      .where('row_number', '>', after)
      .orderBy('row_number')
      .limit(page)
      .select('row_number', 'reason', 'cells')) as Array<{ row_number: number; reason: string; cells: string }>;
    for (const r of rows) {
      let cells: string[] = [];
      try {
        cells = JSON.parse(r.cells) as string[];
      } catch {
        // A damaged row still gives its number and reason.
      }
      yield { row: Number(r.row_number), reason: r.reason, cells };
    }
    if (rows.length < page) return;
    after = Number(rows[rows.length - 1].row_number);
  }
}

export async function deleteImportRejects(db: Db, jobId: number): Promise<void> {
  await db('import_rejects').where({ job_id: jobId }).del();
}
