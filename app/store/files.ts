/**
 * The `files` table: one row per stored file, whatever keeps its bytes. Only complete
 * rows are ever shown to readers; the rest belongs to an upload still running or to
 * one that crashed (the sweep's business).
 */
import type { Db } from '../db.js';

export type FileKind = 'upload' | 'result';
export type FileBackend = 'database' | 'folder';

export interface FileRow {
  id: string;
  jobId: number | null;
  kind: FileKind;
  name: string;
  contentType: string;
  backend: FileBackend;
  size: number;
  createdAt: number;
}

function toRow(r: Record<string, unknown>): FileRow {
  return {
    id: r.id as string,
    jobId: r.job_id === null ? null : Number(r.job_id),
    kind: r.kind as FileKind,
    name: r.name as string,
    contentType: r.content_type as string,
    backend: r.backend as FileBackend,
    size: Number(r.size),
    createdAt: Number(r.created_at),
  };
}

const COLUMNS = ['id', 'job_id', 'kind', 'name', 'content_type', 'backend', 'size', 'created_at'];

export async function insertFile(db: Db, f: Omit<FileRow, 'size'>): Promise<void> {
  await db('files').insert({
    id: f.id,
    job_id: f.jobId,
    kind: f.kind,
    name: f.name,
    content_type: f.contentType,
    backend: f.backend,
    size: 0,
    complete: false,
    created_at: f.createdAt,
    updated_at: f.createdAt,
  });
}

/** Shows the sweep that a long upload is still alive. */
export async function touchFile(db: Db, id: string, now: number): Promise<void> {
  await db('files').where({ id, complete: false }).update({ updated_at: now });
}

/**
 * Makes a file visible. False when its row is gone or no longer incomplete: the sweep
 * or a delete took it while it was written, and the upload must not claim success.
 */
export async function completeFile(db: Db, id: string, size: number, now: number): Promise<boolean> {
  const n = await db('files').where({ id, complete: false }).update({ complete: true, size, updated_at: now });
  return n === 1;
}

export async function getCompleteFile(db: Db, id: string): Promise<FileRow | null> {
  const r = (await db('files').where({ id, complete: true }).first(COLUMNS)) as Record<string, unknown> | undefined;
  return r ? toRow(r) : null;
}

/** The row whatever its state, for a delete: an incomplete file's bytes go too. */
export async function getAnyFile(db: Db, id: string): Promise<FileRow | null> {
  const r = (await db('files').where({ id }).first(COLUMNS)) as Record<string, unknown> | undefined;
  return r ? toRow(r) : null;
}

export async function listJobFiles(db: Db, jobId: number): Promise<FileRow[]> {
  const rows = (await db('files').where({ job_id: jobId, complete: true }).orderBy('created_at').orderBy('id').select(COLUMNS)) as Array<
    Record<string, unknown>
  >;
  return rows.map(toRow);
}

/** Every row of a job, complete or not (clearing a job removes its unfinished uploads too). */
export async function jobFileIds(db: Db, jobId: number): Promise<string[]> {
  return (await db('files').where({ job_id: jobId }).pluck('id')) as string[];
}

/** Gives an upload stored before its job existed to that job. False when the file is gone. */
export async function assignFile(db: Db, id: string, jobId: number, now: number): Promise<boolean> {
  return (await db('files').where({ id }).update({ job_id: jobId, updated_at: now })) === 1;
}

/**
 * Hides a file before its bytes go: a reader arriving during the delete finds nothing,
 * and a delete cut short (a crash) leaves an incomplete row dated 0 that the next sweep
 * finishes at once.
 */
export async function hideFile(db: Db, id: string): Promise<void> {
  await db('files').where({ id }).update({ complete: false, updated_at: 0 });
}

export async function deleteFileRow(db: Db, id: string): Promise<void> {
  await db('files').where({ id }).delete();
}

/** Files a crash left incomplete, and uploads no job claimed, untouched since `before`. */
export async function abandonedFiles(db: Db, before: number, limit: number): Promise<FileRow[]> {
  const rows = (await db('files')
    .where('updated_at', '<', before)
    .andWhere((q) => q.where({ complete: false }).orWhereNull('job_id'))
    .orderBy('updated_at')
    .limit(limit)
    .select(COLUMNS)) as Array<Record<string, unknown>>;
  return rows.map(toRow);
}
