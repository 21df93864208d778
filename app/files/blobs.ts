/** Where a file's bytes live, behind the store's rows: one backend per `files.backend`. */
import type { Readable } from 'node:stream';
import type { FileBackend, FileRow } from '../store/files.js';

export interface BlobBackend {
  readonly name: FileBackend;
  /**
   * Writes all of `pieces` under `id`. On a throw the caller calls `remove`; the bytes
   * must not be readable as the finished file before this resolves.
   */
  write(id: string, pieces: AsyncIterable<Buffer>): Promise<void>;
  /** A stream of a complete file's bytes; NotFoundError when they are not here. */
  open(file: FileRow): Promise<Readable>;
  /** Removes whatever `write` left, finished or not; nothing there is fine. */
  remove(id: string): Promise<void>;
  /** Removes leftovers with no row (a crash between write and row); how many. */
  sweepStrays(before: number): Promise<number>;
}
