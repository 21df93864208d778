/**
 * The file store's words. A **file** belongs to a job: an upload it takes in or a
 * result it hands back. Every host reaches the store, so a file written by a worker on
 * one machine downloads from a web process on another. A file is named by an opaque
 * **id** that a job's params or result can carry; it is visible only once complete.
 */
import type { Readable } from 'node:stream';
import type { FileStoreKind } from '../config.js';
import type { FileKind } from '../store/files.js';

export type { FileKind } from '../store/files.js';
export const FILE_KINDS: readonly FileKind[] = ['upload', 'result'];

export interface PutOptions {
  /** The job the file belongs to; null for an upload whose job is not created yet (see `assign`). */
  jobId: number | null;
  kind: FileKind;
  /** The name offered on download (no folders), 1 to 255 characters. */
  name: string;
  /** e.g. `text/csv`, `application/pdf`. */
  contentType: string;
  /** Bytes allowed; one more fails the put with a PayloadTooLargeError while it streams. */
  maxBytes: number;
}

export interface FileInfo {
  id: string;
  /** Null for an unassigned upload, and for a file of the results folder from before the store. */
  jobId: number | null;
  kind: FileKind;
  name: string;
  contentType: string;
  size: number;
  createdAt: number;
}

export interface StoredFile extends FileInfo {
  /** The bytes, read as they are consumed (memory stays flat at any size). */
  stream: Readable;
}

export type PutSource = Readable | AsyncIterable<Buffer | Uint8Array | string>;

export interface FileStore {
  /** Where this store writes new files. */
  readonly kind: FileStoreKind;
  /**
   * Streams `source` into the store. Rejects with PayloadTooLargeError past `maxBytes`,
   * with the source's own error if it fails or is aborted, and leaves nothing behind
   * either way. The file is visible to readers only once this resolves.
   */
  put(source: PutSource, opts: PutOptions): Promise<FileInfo>;
  /**
   * A complete file, or NotFoundError. Also reads a name the results folder held before
   * the store (a job's `resultFile`, an upload path in its params).
   */
  get(id: string): Promise<StoredFile>;
  /** Whether a complete file (or a legacy one) is there, without reading it. */
  exists(id: string): Promise<boolean>;
  /** Removes a file (also a legacy one); false when there was none. */
  delete(id: string): Promise<boolean>;
  /** Removes every file of a job, finished or not; how many there were. */
  deleteJobFiles(jobId: number): Promise<number>;
  /** A job's complete files, oldest first. */
  list(jobId: number): Promise<FileInfo[]>;
  /** Gives an upload put with `jobId: null` to its job, once the job exists. NotFoundError if gone. */
  assign(id: string, jobId: number): Promise<void>;
  /**
   * Removes files a crashed process left incomplete, and uploads no job claimed, untouched
   * for `olderThanMs` (default one hour); for the maintenance sweep. How many went.
   */
  sweepAbandoned(opts?: { olderThanMs?: number; now?: number }): Promise<number>;
}
