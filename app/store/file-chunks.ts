/**
 * The `file_chunks` table: the bytes of files the database store keeps, in order of
 * `seq` from 0. Read one chunk per query (a primary-key lookup) so that a reader never
 * holds more than a chunk, whatever the file's size.
 */
import type { Db } from '../db.js';

/** Chunks deleted per statement: 32 × 256 KiB, a short transaction even on a large file. */
const DELETE_BATCH = 32;

export async function insertChunk(db: Db, fileId: string, seq: number, data: Buffer): Promise<void> {
  await db('file_chunks').insert({ file_id: fileId, seq, data });
}

export async function readChunk(db: Db, fileId: string, seq: number): Promise<Buffer | null> {
  const r = (await db('file_chunks').where({ file_id: fileId, seq }).first('data')) as { data: Buffer } | undefined;
  return r ? r.data : null;
}

export async function deleteChunks(db: Db, fileId: string): Promise<void> {
  const r = (await db('file_chunks').where({ file_id: fileId }).max({ top: 'seq' }).first()) as { top: number | null } | undefined;
  const top = r?.top ?? null;
  if (top === null) return;
  for (let from = 0; from <= Number(top); from += DELETE_BATCH) {
    await db('file_chunks').where({ file_id: fileId }).andWhere('seq', '>=', from).andWhere('seq', '<', from + DELETE_BATCH).delete();
  }
}
