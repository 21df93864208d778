/**
 * The one FileStore: rows in `files` say what a file is and whether it is complete;
 * a blob backend keeps its bytes (`database` chunks or this host's `folder`). New files
 * go to the configured backend; a file is read from the backend its row names, so that
 * files written before a change of DOCKET_FILE_STORE stay readable.
 */
import { randomBytes } from 'node:crypto';
import type { FileStoreKind } from '../config.js';
import type { Db } from '../db.js';
import { BadRequestError, NotFoundError, PayloadTooLargeError } from '../errors.js';
import {
  abandonedFiles,
  assignFile,
  completeFile,
  deleteFileRow,
  getAnyFile,
  getCompleteFile,
  hideFile,
  insertFile,
  jobFileIds,
  listJobFiles,
  touchFile,
  type FileBackend,
  type FileRow,
} from '../store/files.js';
import type { BlobBackend } from './blobs.js';
import { legacyExists, openLegacy, removeLegacy } from './legacy.js';
import { FILE_KINDS, type FileInfo, type FileStore, type PutOptions, type PutSource, type StoredFile } from './types.js';

/** Ids the store makes; anything else is a legacy name of the results folder. */
const ID = /^f[0-9a-f]{32}$/;
export const isFileId = (id: string): boolean => ID.test(id);

/** How often a running put tells the sweep it is alive. */
const TOUCH_MS = 60_000;
const HOUR_MS = 3_600_000;
const SWEEP_BATCH = 100;

const info = (r: FileRow): FileInfo => ({
  id: r.id,
  jobId: r.jobId,
  kind: r.kind,
  name: r.name,
  contentType: r.contentType,
  size: r.size,
  createdAt: r.createdAt,
});

function limitText(bytes: number): string {
  const MiB = 1024 * 1024;
  return bytes >= MiB && bytes % MiB === 0 ? `${bytes / MiB} MB` : `${bytes} bytes`;
}

const removedWhileWritten = (name: string): NotFoundError => new NotFoundError(`"${name}" was removed while it was written`);

function checkPut(o: PutOptions): void {
  if (o.jobId !== null && !(Number.isSafeInteger(o.jobId) && o.jobId > 0)) throw new BadRequestError(`a file's job id must be a positive whole number, not ${String(o.jobId)}`);
  if (!FILE_KINDS.includes(o.kind)) throw new BadRequestError(`a file's kind must be ${FILE_KINDS.join(' or ')}, not "${String(o.kind)}"`);
  // eslint-disable-next-line no-control-regex
  if (typeof o.name !== 'string' || !o.name || o.name.length > 255 || /[/\\\u0000-\u001f\u007f]/.test(o.name)) {
    throw new BadRequestError('a file name must be 1 to 255 characters, without folders or control characters');
  }
  if (typeof o.contentType !== 'string' || o.contentType.length > 255 || !/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/.test(o.contentType)) {
    throw new BadRequestError(`"${String(o.contentType)}" is not a content type (such as text/csv)`);
  }
  if (!Number.isSafeInteger(o.maxBytes) || o.maxBytes < 0) throw new BadRequestError('maxBytes must be a whole number of bytes');
}

export class RowFileStore implements FileStore {
  private readonly backends: Record<FileBackend, BlobBackend>;

  constructor(
    private readonly db: Db,
    readonly kind: FileStoreKind,
    private readonly resultsDir: string,
    backends: BlobBackend[],
  ) {
    this.backends = Object.fromEntries(backends.map((b) => [b.name, b])) as Record<FileBackend, BlobBackend>;
    if (!this.backends[kind]) throw new Error(`no blob backend for the "${kind}" file store`);
  }

  async put(source: PutSource, opts: PutOptions): Promise<FileInfo> {
    checkPut(opts);
    const id = `f${randomBytes(16).toString('hex')}`;
    const createdAt = Date.now();
    const row = { id, jobId: opts.jobId, kind: opts.kind, name: opts.name, contentType: opts.contentType, backend: this.kind, createdAt };
    const blobs = this.backends[this.kind];
    await insertFile(this.db, row);
    let size = 0;
    const db = this.db;
    async function* bounded(): AsyncGenerator<Buffer> {
      let touched = Date.now();
      for await (const piece of source) {
        const b = typeof piece === 'string' ? Buffer.from(piece) : Buffer.isBuffer(piece) ? piece : Buffer.from(piece);
        size += b.length;
        // Counted before the piece is written: nothing past the limit reaches the store.
        if (size > opts.maxBytes) throw new PayloadTooLargeError(`"${opts.name}" is larger than the limit of ${limitText(opts.maxBytes)}`);
        if (Date.now() - touched > TOUCH_MS) {
          touched = Date.now();
          await touchFile(db, id, touched);
        }
        yield b;
      }
    }
    try {
      await blobs.write(id, bounded());
      if (!(await completeFile(this.db, id, size, Date.now()))) {
        throw removedWhileWritten(opts.name);
      }
    } catch (err) {
      // A row gone midway means a delete or the sweep took the file: say so, rather
      // than the backend's own complaint about its vanished bytes.
      const taken = await getAnyFile(this.db, id).then(
        (r) => r === null,
        () => false,
      );
      // Leave nothing behind. If this fails too (the database is down), the row stays
      // incomplete and the sweep removes it within the hour.
      await blobs
        .remove(id)
        .then(() => deleteFileRow(this.db, id))
        .catch(() => undefined);
      throw taken ? removedWhileWritten(opts.name) : err;
    }
    return { ...info({ ...row, size }) };
  }

  async get(id: string): Promise<StoredFile> {
    if (!isFileId(id)) return openLegacy(this.resultsDir, id);
    const row = await getCompleteFile(this.db, id);
    if (!row) throw new NotFoundError('No such file');
    const stream = await this.backends[row.backend].open(row);
    return { ...info(row), stream };
  }

  async exists(id: string): Promise<boolean> {
    if (!isFileId(id)) return legacyExists(this.resultsDir, id);
    return (await getCompleteFile(this.db, id)) !== null;
  }

  async delete(id: string): Promise<boolean> {
    if (!isFileId(id)) return removeLegacy(this.resultsDir, id);
    const row = await getAnyFile(this.db, id);
    if (!row) return false;
    await this.remove(row);
    return true;
  }

  async deleteJobFiles(jobId: number): Promise<number> {
    const ids = await jobFileIds(this.db, jobId);
    for (const id of ids) {
      const row = await getAnyFile(this.db, id);
      if (row) await this.remove(row);
    }
    return ids.length;
  }

  async list(jobId: number): Promise<FileInfo[]> {
    return (await listJobFiles(this.db, jobId)).map(info);
  }

  async assign(id: string, jobId: number): Promise<void> {
    if (!isFileId(id) || !(await assignFile(this.db, id, jobId, Date.now()))) throw new NotFoundError('No such file');
  }

  async sweepAbandoned(opts: { olderThanMs?: number; now?: number } = {}): Promise<number> {
    const before = (opts.now ?? Date.now()) - (opts.olderThanMs ?? HOUR_MS);
    let n = 0;
    for (;;) {
      const rows = await abandonedFiles(this.db, before, SWEEP_BATCH);
      for (const row of rows) await this.remove(row);
      n += rows.length;
      if (rows.length < SWEEP_BATCH) break;
    }
    for (const b of Object.values(this.backends)) n += await b.sweepStrays(before);
    return n;
  }

  /** Hidden first, bytes next, row last: a crash midway leaves a row the sweep finishes. */
  private async remove(row: FileRow): Promise<void> {
    await hideFile(this.db, row.id);
    await this.backends[row.backend].remove(row.id);
    await deleteFileRow(this.db, row.id);
  }
}
