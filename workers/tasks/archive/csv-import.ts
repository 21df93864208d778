/**
 * csv-import: AtoM's ISAD CSV import.
 *
 * Two passes over the file, both streaming:
 * 1. A check (`csv-import-file.ts`): nothing is written until the whole file has been read.
 * 2. The import, in transactions of 500 rows: a crash loses at most the open batch, and
 *    other processes sharing a SQLite file never wait long for the write lock. What each
 *    row does is in `csv-import-rows.ts`.
 *
 * Options as AtoM's: `update` (none: import as new; match-and-update; delete-and-replace),
 * `skipMatched`, `skipUnmatched`, `limit`.
 */
import { rm } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { writeTransaction } from '../../../app/archive/descriptions.js';
import { CsvFileError, type CsvRecord } from '../../../app/archive/csv-read.js';
import type { Db } from '../../../app/db.js';
import { UnrecoverableError } from '../../../app/errors.js';
import { jobOrigin } from '../../../app/store/job-origin.js';
import { csvImportSpec, type UpdateMode } from '../../../app/tasks/archive.js';
import { isUpload } from '../../../app/tasks/uploads.js';
import type { TaskContext, TaskDefinition, TaskResult } from '../types.js';
import { ImportFile } from './csv-import-file.js';
import { Counts, RowFailure, RowImporter, type BatchOutcome, type ImportOptions } from './csv-import-rows.js';

const UPDATE_LABELS: Record<UpdateMode, string> = {
  none: 'import as new',
  'match-and-update': 'match and update',
  'delete-and-replace': 'delete and replace',
};

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
  };
  if (opts.skipMatched && update !== 'none') {
    throw new UnrecoverableError('--skip-matched applies only when importing as new (without --update): an update handles matched rows');
  }
  if (opts.skipUnmatched && update === 'none') {
    throw new UnrecoverableError(
      '--skip-unmatched applies only with --update match-and-update or delete-and-replace (it skips rows that match nothing)',
    );
  }
  if (opts.limit && update === 'none' && !opts.skipMatched) {
    throw new UnrecoverableError('--limit limits matching, so it needs --update or --skip-matched');
  }
  opts.file = await allowedPath(ctx, opts.file);
  opts.sourceName =
    typeof p.sourceName === 'string' && p.sourceName.trim() !== '' ? p.sourceName.trim() : basename(opts.file);
  return opts;
}

/**
 * Administrators on the command line may import any file the worker can read. A job
 * from the web or the API may only read an upload: otherwise anyone allowed to start an
 * import could make the worker read a server file and show its first line as a "column".
 */
async function allowedPath(ctx: TaskContext, file: string): Promise<string> {
  const path = resolve(file);
  if ((await jobOrigin(ctx.db(), ctx.jobId)) === 'cli') return path;
  if (!isUpload(ctx.resultsDir, path)) {
    throw new UnrecoverableError('a CSV import from the web or the API reads only files uploaded with it');
  }
  return path;
}

class CsvImport {
  private readonly db: Db;
  private readonly file: ImportFile;
  private readonly rows: RowImporter;
  private readonly committed = new Counts();
  private total = 0;

  constructor(
    private readonly ctx: TaskContext,
    private readonly opts: ImportOptions,
  ) {
    this.db = ctx.db();
    this.file = new ImportFile(opts.file, opts.sourceName);
    this.rows = new RowImporter(this.file, opts);
  }

  async run(): Promise<TaskResult> {
    const o = this.opts;
    if (o.limit) await this.rows.resolveLimit(this.db, o.limit);
    this.ctx.steps?.(['Check the file', 'Import rows', 'Report']);
    this.ctx.step?.('Check the file');
    this.ctx.progress(0, null, 'checking the file');
    this.total = await this.file.check(this.db, o.onError === 'fail');
    console.log(
      `Importing ${o.file} (source name "${o.sourceName}"): ${this.total} row${this.total === 1 ? '' : 's'}; ` +
        `${UPDATE_LABELS[o.update]}` +
        `${o.skipMatched ? ', skip matched' : ''}${o.skipUnmatched ? ', skip unmatched' : ''}` +
        `${this.rows.limitText()}; ` +
        `a bad row ${o.onError === 'fail' ? 'fails the import' : 'is skipped'}`,
    );
    this.ctx.step?.('Import rows', { current: 0, total: this.total, text: `Working on row 0 / ${this.total}` });
    this.ctx.progress(0, this.total, `row 0 of ${this.total}`);
    const reader = await this.file.open();
    let batch: CsvRecord[] = [];
    try {
      for await (const rec of reader.records) {
        batch.push(rec);
        if (batch.length >= BATCH_ROWS) {
          await this.commit(batch);
          batch = [];
        }
      }
      if (batch.length > 0) await this.commit(batch);
    } catch (err) {
      reader.close();
      if (err instanceof CsvFileError) throw new UnrecoverableError(`${err.message}. ${this.committedSoFar()}`);
      throw err;
    }
    this.ctx.step?.('Report');
    this.report();
    await this.removeUpload();
    const c = this.committed;
    const ref = this.rows.objectId;
    return {
      summary: `${c.rows} rows: ${c.line()}${c.skippedErrors ? ` (${c.skippedErrors} with errors)` : ''}`,
      objectRef: ref !== null ? `description:${ref}` : undefined,
    };
  }

  /** Imports one batch in one transaction; prints its lines once it is committed. */
  private async commit(batch: CsvRecord[]): Promise<void> {
    if (this.ctx.signal.aborted) {
      throw new Error(`stopped before row ${batch[0].row}: ${String(this.ctx.signal.reason ?? 'cancelled')}. ${this.committedSoFar()}`);
    }
    const out: BatchOutcome = { lines: [], counts: new Counts(), remembered: [] };
    try {
      await writeTransaction(this.db, (trx) => this.rows.batch(trx, batch, out));
    } catch (err) {
      this.rows.rolledBack(out);
      const first = batch[0].row;
      const last = batch[batch.length - 1].row;
      const why = err instanceof RowFailure ? err.message : `rows ${first}–${last} could not be written: ${(err as Error).message}`;
      throw new UnrecoverableError(
        `${why}. The import stopped there, and rows ${first}–${last} were rolled back. ${this.committedSoFar()}`,
      );
    }
    this.rows.committed();
    this.committed.add(out.counts);
    if (out.lines.length) process.stdout.write(out.lines.join(''));
    this.ctx.progress(this.committed.rows, this.total, `row ${this.committed.rows} of ${this.total}`);
    this.ctx.step?.('Import rows', { current: this.committed.rows, total: this.total, text: `Working on row ${this.committed.rows} / ${this.total}` });
  }

  private committedSoFar(): string {
    const c = this.committed;
    if (c.rows === 0) return 'Nothing was written.';
    return `The ${c.rows} rows before were committed (${c.line()}); run the rest again with --update match-and-update to continue.`;
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

  /** A web upload is removed once its import has completed (a failed one stays for a retry). */
  private async removeUpload(): Promise<void> {
    if (isUpload(this.ctx.resultsDir, this.opts.file)) await rm(this.opts.file, { force: true });
  }
}
