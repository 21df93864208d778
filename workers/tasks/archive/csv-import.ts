/**
 * csv-import: AtoM's ISAD CSV import.
 *
 * Two passes over the file, both streaming:
 * 1. A check (`csv-import-file.ts`): nothing is written until the whole file has been read.
 * 2. The import, in transactions of 500 rows: a crash loses at most the open batch, and
 *    other processes sharing a SQLite file never wait long for the write lock. Each
 *    batch's transaction also records the import's position (a checkpoint): a new attempt
 *    of the job skips the rows already committed, so no row is imported twice. What each
 *    row does is in `csv-import-rows.ts`.
 *
 * Options as AtoM's: `update` (none: import as new; match-and-update; delete-and-replace),
 * `skipMatched`, `skipUnmatched`, `limit`, `roundtrip`, `defaultParentSlug`,
 * `defaultLegacyParentId`, `skipRows`; and `strict`, refusing a file with columns this
 * import does not know (AtoM ignores them).
 *
 * Every row not imported is kept in full with its reason (`import_rejects`, written with
 * its batch) and becomes the job's result: a CSV of those rows, ready to be corrected and
 * imported again, whatever the output cap cut from the log. A failed import leaves one
 * too, with the rows from where it stopped (`csv-import-rejects.ts`).
 */
import { rm } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { writeTransaction } from '../../../app/archive/descriptions.js';
import { CsvFileError, type CsvRecord } from '../../../app/archive/csv-read.js';
import type { Db } from '../../../app/db.js';
import { describeError, InputError, NotFoundError, UnrecoverableError } from '../../../app/errors.js';
import { isFileId, type FileInfo } from '../../../app/files/index.js';
import { attemptIsCurrent, getImportCheckpoint, saveImportCheckpoint } from '../../../app/store/import-checkpoints.js';
import { saveImportRejects } from '../../../app/store/import-rejects.js';
import { lockTree } from '../../../app/archive/descriptions.js';
import { jobOrigin } from '../../../app/store/job-origin.js';
import { csvImportOptionProblem, csvImportSpec, notImportedSummary, type UpdateMode } from '../../../app/tasks/archive.js';
import { isUpload } from '../../../app/tasks/uploads.js';
import { withResult, type TaskContext, type TaskDefinition, type TaskResult } from '../types.js';
import { ImportFile, RefusedRows } from './csv-import-file.js';
import { storeNotImported, type Stop } from './csv-import-rejects.js';
import { Counts, RowFailure, RowImporter, type BatchOutcome, type ImportOptions } from './csv-import-rows.js';
import { isRetryableWrite, isSlugCollision } from './slug-collision.js';

const UPDATE_LABELS: Record<UpdateMode, string> = {
  none: 'import as new',
  'match-and-update': 'match and update',
  'delete-and-replace': 'delete and replace',
};

/** This attempt is no longer the job's: a newer one carries on from the checkpoint. */
class Superseded extends Error {
  constructor(attempt: number) {
    super(`attempt ${attempt} is no longer the job's running attempt (its worker was taken for lost); its open batch was rolled back`);
  }
}

/** Rows per transaction. */
export const BATCH_ROWS = 500;

export const csvImport: TaskDefinition = {
  ...csvImportSpec,
  async run(ctx) {
    return new CsvImport(ctx, await readOptions(ctx)).run();
  },
};

async function readOptions(ctx: TaskContext): Promise<ImportOptions> {
  const p = ctx.params;
  const update = (p.update as UpdateMode | undefined) ?? 'none';
  const opts: ImportOptions = {
    file: String(p.file),
    update,
    skipMatched: Boolean(p.skipMatched),
    skipUnmatched: Boolean(p.skipUnmatched),
    limit: typeof p.limit === 'string' && p.limit.trim() !== '' ? p.limit.trim() : null,
    onError: p.onError === 'fail' ? 'fail' : 'skip',
    sourceName: '',
    strict: p.strict === true || p.strict === 'true',
    roundtrip: p.roundtrip === true || p.roundtrip === 'true',
    defaultParentSlug: typeof p.defaultParentSlug === 'string' && p.defaultParentSlug.trim() !== '' ? p.defaultParentSlug.trim() : null,
    defaultLegacyParentId:
      typeof p.defaultLegacyParentId === 'string' && p.defaultLegacyParentId.trim() !== '' ? p.defaultLegacyParentId.trim() : null,
    skipRows: p.skipRows === undefined || p.skipRows === null || p.skipRows === '' ? 0 : Number(p.skipRows),
  };
  const problem = csvImportOptionProblem(opts);
  if (problem) throw new InputError(problem);
  let defaultName: string;
  if (isFileId(opts.file)) {
    defaultName = (await storedUpload(ctx, opts.file)).name;
  } else {
    opts.file = await allowedPath(ctx, opts.file);
    defaultName = basename(opts.file);
  }
  opts.sourceName = typeof p.sourceName === 'string' && p.sourceName.trim() !== '' ? p.sourceName.trim() : defaultName;
  return opts;
}

/**
 * The upload in the file store, on whichever host put it there. It must be this job's
 * (or not yet given to a job: the job can start before its enqueuer assigns it).
 */
async function storedUpload(ctx: TaskContext, id: string): Promise<FileInfo> {
  let file;
  try {
    file = await ctx.openFile(id);
  } catch (err) {
    if (err instanceof NotFoundError) throw new InputError('The file was not imported: the uploaded file is gone (its job was cleared?)');
    throw err;
  }
  file.stream.destroy();
  if (file.kind !== 'upload' || (file.jobId !== null && file.jobId !== ctx.jobId)) {
    throw new InputError('a CSV import reads only the file uploaded with it');
  }
  return file;
}

/**
 * A job queued before the file store names a path. Administrators on the command line
 * may import any file the worker can read. A job
 * from the web or the API may only read an upload: otherwise anyone allowed to start an
 * import could make the worker read a server file and show its first line as a "column".
 */
async function allowedPath(ctx: TaskContext, file: string): Promise<string> {
  const path = resolve(file);
  if ((await jobOrigin(ctx.db(), ctx.jobId)) === 'cli') return path;
  if (!isUpload(ctx.resultsDir, path)) {
    throw new InputError('a CSV import from the web or the API reads only files uploaded with it');
  }
  return path;
}

class CsvImport {
  private readonly db: Db;
  private readonly file: ImportFile;
  private readonly rows: RowImporter;
  private committed = new Counts();
  private total = 0;
  /** Rows up to this one were committed by an earlier attempt. */
  private resumeAfter = 0;
  /** The import pass has begun (the check passed). */
  private importing = false;
  /** The batch whose write failed, and the row at fault when a row was. */
  private stopped: { first: number; last: number; row: number | null; reason: string } | null = null;

  constructor(
    private readonly ctx: TaskContext,
    private readonly opts: ImportOptions,
  ) {
    this.db = ctx.db();
    const stored = opts.file;
    this.file = new ImportFile(
      isFileId(stored) ? async () => (await ctx.openFile(stored)).stream : stored,
      opts.sourceName,
      opts.strict,
    );
    this.rows = new RowImporter(this.file, opts);
  }

  async run(): Promise<TaskResult> {
    try {
      return await this.importAll();
    } catch (err) {
      throw await this.withNotImported(err);
    }
  }

  private async importAll(): Promise<TaskResult> {
    const o = this.opts;
    if (o.limit) await this.rows.resolveLimit(this.db, o.limit);
    await this.rows.resolveDefaultParent(this.db);
    this.ctx.steps?.(['Check the file', 'Import rows', 'Report']);
    this.ctx.step?.('Check the file');
    this.ctx.progress(0, null, 'checking the file');
    this.total = await this.file.check(this.db, o.onError === 'fail');
    console.log(
      `Importing ${isFileId(o.file) ? 'the uploaded file' : o.file} (source name "${o.sourceName}"): ${this.total} row${this.total === 1 ? '' : 's'}; ` +
        `${UPDATE_LABELS[o.update]}` +
        `${o.skipMatched ? ', skip matched' : ''}${o.skipUnmatched ? ', skip unmatched' : ''}` +
        `${this.rows.limitText()}` +
        `${o.roundtrip ? ', round trip (legacyId is the description id)' : ''}` +
        `${o.defaultParentSlug ? `, default parent ${o.defaultParentSlug}` : ''}` +
        `${o.defaultLegacyParentId ? `, default parent legacyId ${o.defaultLegacyParentId}` : ''}; ` +
        `a bad row ${o.onError === 'fail' ? 'fails the import' : 'is skipped'}`,
    );
    // The header's warnings head the report: an ignored column is the first thing to check.
    for (const w of this.file.warnings) console.log(`Warning: ${w}.`);
    await this.resume();
    if (o.skipRows > 0) {
      console.log(`Skipping the first ${Math.min(o.skipRows, this.total)} row${o.skipRows === 1 ? '' : 's'} of the file (--skip-rows ${o.skipRows}).`);
    }
    const from = Math.max(this.resumeAfter, o.skipRows);
    this.importing = true;
    // Progress counts the rows this import reads, not the ones skipped.
    this.total -= Math.min(o.skipRows, this.total);
    const done = this.committed.rows;
    this.ctx.step?.('Import rows', { current: done, total: this.total, text: `Working on row ${done} / ${this.total}` });
    this.ctx.progress(done, this.total, `row ${done} of ${this.total}`);
    const reader = await this.file.open();
    let batch: CsvRecord[] = [];
    try {
      for await (const rec of reader.records) {
        if (rec.row <= from) continue;
        batch.push(rec);
        if (batch.length >= BATCH_ROWS) {
          await this.commit(batch);
          batch = [];
        }
      }
      if (batch.length > 0) await this.commit(batch);
    } catch (err) {
      reader.close();
      if (err instanceof CsvFileError) throw new InputError(`${err.message}. ${this.committedSoFar(true)}`);
      throw err;
    }
    this.ctx.step?.('Report');
    this.report();
    const file = this.committed.skipped > 0 ? (await storeNotImported(this.ctx, this.db, this.file, this.opts.sourceName, null)).file : undefined;
    // The checkpoint (now at the last row) and the rows not imported stay until the job
    // is removed: an attempt that runs again after this one finished (its worker lost
    // before the completion was recorded) resumes after the last row, imports nothing,
    // and makes the same report and file.
    await this.removeUpload();
    const c = this.committed;
    const ref = this.rows.objectId;
    const ignored = this.file.header?.unknown.length ?? 0;
    return {
      summary:
        `${c.rows} rows: ${c.line()}${c.skippedErrors ? ` (${c.skippedErrors} with errors)` : ''}` +
        `${ignored ? `; ${ignored} unknown column${ignored === 1 ? '' : 's'} ignored` : ''}`,
      objectRef: ref !== null ? `description:${ref}` : undefined,
      file,
    };
  }

  /**
   * A failed import's error, with the CSV of the rows it did not import as the job's
   * result (withResult). None when the file could not be read as rows (its header, its
   * syntax), when the options were at fault before a row was read, when the job was
   * cancelled or timed out, or when this attempt is no longer the job's. Making the file
   * may fail too (the database away): the import's own error is what the job reports.
   */
  private async withNotImported(err: unknown): Promise<unknown> {
    if (!(err instanceof Error) || err instanceof Superseded || this.ctx.signal.aborted) return err;
    const reasonOf = this.reasonAfterStop(err);
    if (!reasonOf) return err;
    try {
      // What is committed is what the checkpoint says (an earlier attempt's batches too).
      const after = Math.max((await getImportCheckpoint(this.db, this.ctx.jobId))?.lastRow ?? 0, this.opts.skipRows);
      const stop: Stop = { after, reasonOf };
      const made = await storeNotImported(this.ctx, this.db, this.file, this.opts.sourceName, stop);
      const later = made.rows - made.skipped;
      const detail = `${made.skipped ? `${made.skipped} skipped, ` : ''}${later} from row ${after + 1} on`;
      return withResult(err, { summary: notImportedSummary(made.rows, detail), file: made.file });
    } catch (failed) {
      console.log(`The rows not imported could not be written to a file: ${describeError(failed)}.`);
      return err;
    }
  }

  /** Why each row after the last committed one was not imported, or null for no file. */
  private reasonAfterStop(err: Error): ((rec: CsvRecord) => string) | null {
    if (err instanceof RefusedRows) {
      const seen = new Set<string>();
      return (rec) => this.file.refusal(rec, err, seen) ?? 'not imported: the file was refused for the rows whose parent is missing';
    }
    const s = this.stopped;
    if (!this.importing || !s) return null;
    return (rec) => {
      if (rec.row === s.row) return s.reason;
      // The rows before the failed one in its batch were written, then undone with it.
      if (s.row !== null && rec.row >= s.first && rec.row < s.row) return `rolled back: row ${s.row} failed, and the rows of its batch before it were undone`;
      if (s.row === null && rec.row >= s.first && rec.row <= s.last) return `rolled back with rows ${s.first}–${s.last}: ${s.reason}`;
      return `not imported: the import stopped at row ${s.row ?? s.first}`;
    };
  }

  /** An earlier attempt committed some batches: carry on after its last one. */
  private async resume(): Promise<void> {
    const cp = await getImportCheckpoint(this.db, this.ctx.jobId);
    if (!cp) return;
    this.resumeAfter = cp.lastRow;
    this.committed = Counts.from(cp.state.counts);
    this.rows.restore(cp.state.rows as never);
    console.log(
      `Resuming after row ${cp.lastRow}, the last row an earlier attempt committed (${this.committed.line()} so far); ` +
        'rows up to it are not imported again.',
    );
  }

  /** Imports one batch in one transaction; prints its lines once it is committed. */
  private async commit(batch: CsvRecord[]): Promise<void> {
    if (this.ctx.signal.aborted) {
      throw new Error(`stopped before row ${batch[0].row}: ${String(this.ctx.signal.reason ?? 'cancelled')}. ${this.committedSoFar()}`);
    }
    let out: BatchOutcome = { lines: [], counts: new Counts(), remembered: [], rejects: [] };
    const before = this.rows.state();
    // Another import writing at the same moment may take a slug this batch was given
    // (the unique index refuses the second), or deadlock with it on MariaDB: the batch is
    // rolled back and done again with fresh slugs, a few times.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.write(batch, out);
        break;
      } catch (err) {
        this.rows.rolledBack(out, before);
        if (err instanceof Superseded) throw err;
        if (attempt < 5 && isRetryableWrite(err)) {
          const what = isSlugCollision(err) ? 'a slug was taken by another writer meanwhile' : 'the database chose this batch to undo a deadlock';
          console.log(`Rows ${batch[0].row}–${batch[batch.length - 1].row}: ${what}; the batch was rolled back and is written again`);
          out = { lines: [], counts: new Counts(), remembered: [], rejects: [] };
          continue;
        }
        const first = batch[0].row;
        const last = batch[batch.length - 1].row;
        const why = err instanceof RowFailure ? err.message : `rows ${first}–${last} could not be written: ${(err as Error).message}`;
        this.stopped =
          err instanceof RowFailure
            ? { first, last, row: err.row, reason: err.reason }
            : { first, last, row: null, reason: `the batch could not be written: ${describeError(err)}` };
        // A row the file got wrong is its input; a write the database refused may pass later.
        const Refusal = err instanceof RowFailure ? InputError : UnrecoverableError;
        throw new Refusal(
          `${why}. The import stopped there, and rows ${first}–${last} were rolled back. ${this.committedSoFar(Refusal === InputError)}`,
        );
      }
    }
    this.rows.committed();
    this.committed.add(out.counts);
    if (out.lines.length) process.stdout.write(out.lines.join(''));
    this.ctx.progress(this.committed.rows, this.total, `row ${this.committed.rows} of ${this.total}`);
    this.ctx.step?.('Import rows', { current: this.committed.rows, total: this.total, text: `Working on row ${this.committed.rows} / ${this.total}` });
  }

  /** One batch's transaction: its rows, the rows it did not import, and the checkpoint. */
  private async write(batch: CsvRecord[], out: BatchOutcome): Promise<void> {
    await writeTransaction(this.db, async (trx) => {
      // An update may move a matched description: the tree's lock first (see lockTree).
      if (this.opts.update !== 'none') await lockTree(trx);
      await this.rows.batch(trx, batch, out);
      const counts = new Counts();
      counts.add(this.committed);
      counts.add(out.counts);
      // In the batch's transaction: the position and the rows not imported commit with
      // the rows they count.
      await saveImportRejects(trx, this.ctx.jobId, out.rejects);
      // Last, so the shared lock it takes on the job's row is held only for the commit.
      if (!(await attemptIsCurrent(trx, this.ctx.jobId, this.ctx.attempt))) throw new Superseded(this.ctx.attempt);
      await saveImportCheckpoint(trx, this.ctx.jobId, {
        lastRow: batch[batch.length - 1].row,
        state: { counts, rows: this.rows.state() },
      });
    });
  }

  /** What was kept, and how to go on: a retry resumes; a file at fault is corrected instead. */
  private committedSoFar(fileAtFault = false): string {
    const c = this.committed;
    if (c.rows === 0) return 'Nothing was written.';
    if (fileAtFault) {
      return `The ${c.rows} rows before were committed (${c.line()}); correct the file and import it with "match and update", so that those rows are matched rather than imported twice.`;
    }
    return `The ${c.rows} rows before were committed (${c.line()}); retry the job to continue after them (it resumes after the last committed row).`;
  }

  private report(): void {
    const c = this.committed;
    console.log(`Import finished: ${c.rows} row${c.rows === 1 ? '' : 's'} read; ${c.line()}.`);
    if (c.skipped > 0) {
      console.log(
        `Skipped: ${c.skippedMatched} matching an existing description, ${c.skippedUnmatched} matching none, ` +
          `${c.skippedErrors} with errors.`,
      );
    }
    if (c.warnings > 0) console.log(`Warnings: ${c.warnings} (listed above).`);
    if (c.skippedErrors > 0) {
      console.log(
        `Warning: ${c.skippedErrors} row${c.skippedErrors === 1 ? ' was' : 's were'} not imported because of errors ` +
          '(listed above), nor were the rows below them in the hierarchy: the imported hierarchy is incomplete.',
      );
    }
  }

  /**
   * A web upload from before the file store is removed once its import has completed (a
   * failed one stays for a retry). A stored upload stays with its job until it is cleared.
   */
  private async removeUpload(): Promise<void> {
    if (!isFileId(this.opts.file) && isUpload(this.ctx.resultsDir, this.opts.file)) await rm(this.opts.file, { force: true });
  }
}
