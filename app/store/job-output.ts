/** A job's output: chunks appended by the running attempt only, read back in order. */
import type { Db } from '../db.js';
import { outputChunkValue } from '../dialect.js';
import { rawTransaction, type Row } from './raw.js';
import type { OutputChunk, OutputStream } from '../types.js';

/** A chunk of a job's output: text (or its UTF-8 bytes), and its size in bytes as printed. */
export interface OutputPart {
  stream: OutputStream;
  text: string | Buffer;
  bytes: number;
}

/** Appends one chunk of output for the running attempt only (see appendOutputParts). */
export async function appendOutput(
  db: Db,
  id: number,
  attempt: number,
  stream: OutputStream,
  text: string,
  bytes: number,
  now: number,
  opts: { truncated?: boolean; allowFinal?: boolean } = {},
): Promise<boolean> {
  return appendOutputParts(db, id, attempt, [{ stream, text, bytes }], now, opts);
}

/**
 * Appends chunks of output, in order, for the running attempt only: one transaction,
 * one commit. The conditional UPDATE of the job's byte count is the fence: for a zombie
 * (an old attempt) or a job no longer running it matches nothing, and the chunks
 * inserted before it are rolled back unseen. It comes last, so the job's row is held
 * only for the commit, not while a megabyte of output goes in: progress, lease renewals
 * and the job's end do not wait for the output. On MySQL the statements are prepared
 * ones: a chunk travels unescaped, as UTF-8 bytes when given so (sent as they are).
 */
export async function appendOutputParts(
  db: Db,
  id: number,
  attempt: number,
  parts: OutputPart[],
  now: number,
  opts: { truncated?: boolean; allowFinal?: boolean } = {},
): Promise<boolean> {
  if (parts.length === 0) return true;
  const bytes = parts.reduce((n, p) => n + p.bytes, 0);
  const insert = 'insert into job_output (job_id, attempt, stream, chunk, at) values (?, ?, ?, ?, ?)';
  const update =
    `update jobs set output_bytes = output_bytes + ?${opts.truncated ? ', output_truncated = 1' : ''} ` +
    `where id = ? and attempt = ?${opts.allowFinal ? '' : " and status = 'running'"}`;
  try {
    // Prepared statements on MySQL: a megabyte of output travels as it is, unescaped.
    return await rawTransaction(
      db,
      async (q) => {
        for (const p of parts) {
          await q(insert, [id, attempt, p.stream, outputChunkValue(db, p.text), now]);
        }
        if ((await q(update, [bytes, id, attempt])).affected !== 1) throw new StaleAttempt();
        return true;
      },
      { prepared: true },
    );
  } catch (err) {
    if (err instanceof StaleAttempt) return false;
    throw err;
  }
}

/** Thrown to roll back a write for an attempt that is no longer running. */
class StaleAttempt extends Error {}

export async function readOutput(
  db: Db,
  jobId: number,
  afterId = 0,
  limit = 1000,
): Promise<OutputChunk[]> {
  const rows = (await db('job_output')
    .where({ job_id: jobId })
    .where('id', '>', afterId)
    .orderBy('id', 'asc')
    .limit(limit)) as Row[];
  return rows.map((r) => ({
    id: Number(r.id),
    jobId: Number(r.job_id),
    attempt: Number(r.attempt),
    stream: r.stream as OutputStream,
    text: String(r.chunk),
    at: Number(r.at),
  }));
}
