/**
 * Reads a CSV file as a stream of records, in constant memory: the file is read in
 * chunks, checked to be UTF-8 on the way (csv-parse would otherwise turn bad bytes into
 * U+FFFD without a word), and parsed by csv-parse with backpressure.
 */
import { createReadStream } from 'node:fs';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { parse, CsvError } from 'csv-parse';

/** A file that cannot be read as CSV at all; the message says where and why. */
export class CsvFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CsvFileError';
  }
}

/**
 * Passes bytes through unchanged, failing at the first byte sequence that is not UTF-8,
 * with the line it is on.
 */
export class Utf8Check extends Transform {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private line = 1;
  private offset = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let text: string;
    try {
      text = this.decoder.decode(chunk, { stream: true });
    } catch {
      cb(this.failure(chunk));
      return;
    }
    this.count(text);
    this.offset += chunk.length;
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.decoder.decode();
    } catch {
      cb(new CsvFileError(`the file is not valid UTF-8: it ends in the middle of a character (line ${this.line})`));
      return;
    }
    cb();
  }

  private count(text: string): void {
    for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) this.line++;
  }

  /** Finds the bad byte in the chunk with a lenient decoder, for the line number. */
  private failure(chunk: Buffer): CsvFileError {
    const lenient = new TextDecoder('utf-8').decode(chunk);
    const bad = lenient.indexOf('\uFFFD');
    const before = bad >= 0 ? lenient.slice(0, bad) : lenient;
    this.count(before);
    return new CsvFileError(
      `the file is not valid UTF-8 (the first bad byte is on line ${this.line}, near byte ${this.offset + Buffer.byteLength(before)}). ` +
        'AtoM CSV files must be UTF-8: save it as "CSV UTF-8" and import it again',
    );
  }
}

export interface CsvRecord {
  /** 1 for the first record after the header. */
  row: number;
  /** Line of the file where the record starts. */
  line: number;
  values: string[];
}

export interface CsvReader {
  header: string[];
  records: AsyncIterable<CsvRecord>;
  /** Stops reading (closes the file). */
  close(): void;
}

/** A file's path, or a function opening its bytes (a file of the file store). */
export type CsvSource = string | (() => Promise<Readable>);

/**
 * Opens a CSV file: reads its header, then yields its records one at a time. Blank lines
 * are skipped; a byte-order mark is dropped; fields are trimmed (inside quotes too). Records may have a
 * different number of fields from the header (the caller reports them).
 */
export async function openCsv(source: CsvSource): Promise<CsvReader> {
  let file: Readable;
  try {
    file = typeof source === 'string' ? createReadStream(source, { highWaterMark: 64 * 1024 }) : await source();
  } catch (err) {
    throw explain(err);
  }
  const check = new Utf8Check();
  const parser = parse({
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    trim: true,
    info: true,
    // A field longer than this is a broken quote swallowing the rest of the file.
    max_record_size: 4 * 1024 * 1024,
  });
  file.on('error', (err) => parser.destroy(err));
  check.on('error', (err) => parser.destroy(err));
  file.pipe(check).pipe(parser);
  const it = parser[Symbol.asyncIterator]() as AsyncIterator<{ record: string[]; info: { lines: number } }>;
  const close = () => {
    file.destroy();
    parser.destroy();
  };
  let first: IteratorResult<{ record: string[]; info: { lines: number } }>;
  try {
    first = await it.next();
  } catch (err) {
    close();
    throw explain(err);
  }
  if (first.done) {
    close();
    throw new CsvFileError('the file is empty: it has no header row');
  }
  const header = first.value.record;
  async function* records(): AsyncGenerator<CsvRecord> {
    let row = 0;
    try {
      for (;;) {
        const next = await it.next();
        if (next.done) return;
        row++;
        const { record, info } = next.value;
        // A row of empty cells (",,,,") is blank: AtoM skips it without a word.
        if (record.every((v) => v.trim() === '')) continue;
        // csv-parse trims only outside quotes; AtoM trims every value, so a quoted "T1 "
        // legacyId is "T1" and its children's parentId finds it.
        yield { row, line: startLine(info), values: record.map((v) => v.trim()) };
      }
    } catch (err) {
      throw explain(err);
    } finally {
      close();
    }
  }
  return { header, records: records(), close };
}

function startLine(info: unknown): number {
  const i = info as { lines?: number; raw?: string };
  return Number(i.lines ?? 0);
}

/** csv-parse's and the file system's errors, in words a person can act on. */
function explain(err: unknown): Error {
  if (err instanceof CsvFileError) return err;
  if (err instanceof CsvError) {
    const line = (err as CsvError & { lines?: number }).lines;
    return new CsvFileError(`the file is not valid CSV${line ? ` at line ${line}` : ''}: ${err.message}`);
  }
  // The file store's NotFoundError: the upload was removed (its job cleared meanwhile).
  if ((err as { status?: number })?.status === 404) return new CsvFileError(`the uploaded file is gone: ${(err as Error).message}`);
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return new CsvFileError(`the file ${e.path ?? ''} does not exist`);
  if (e?.code === 'EACCES') return new CsvFileError(`the file ${e.path ?? ''} cannot be read (permission denied)`);
  if (e?.code === 'EISDIR') return new CsvFileError(`${e.path ?? 'the path'} is a folder, not a file`);
  return err instanceof Error ? err : new Error(String(err));
}
