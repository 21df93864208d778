/**
 * Sends a file of the file store as a download: streamed (memory stays flat at any
 * size) with its type, length and name, from whichever host wrote it.
 */
import { pipeline } from 'node:stream/promises';
import type { Response } from 'express';
import type { Context } from '../context.js';
import { NotFoundError } from '../errors.js';
import { isFileId } from '../files/index.js';

/**
 * `key` is a store id, or a result's base name in the results folder from before the
 * store. Anything else (a path) is refused: a job's stored name must not reach outside.
 * Rejects with `gone` (a NotFoundError) when there is no such file.
 */
export async function sendStoredFile(ctx: Context, res: Response, key: string, name: string, gone: string): Promise<void> {
  if (!isFileId(key) && (key.includes('/') || key.includes('\\') || key.startsWith('.'))) throw new NotFoundError(gone);
  let file;
  try {
    file = await ctx.files.get(key);
  } catch (err) {
    if (err instanceof NotFoundError) throw new NotFoundError(gone);
    throw err;
  }
  res.status(200);
  res.attachment(name || file.name);
  res.set({
    'Content-Type': file.contentType,
    'Content-Length': String(file.size),
    'Cache-Control': 'private, no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  try {
    await pipeline(file.stream, res);
  } catch (err) {
    // Headers are out: a failure half-way cuts the download short (the browser reports
    // it), and a client that went away is no error of ours.
    if (!res.headersSent) throw err;
    if (!res.destroyed) res.destroy(err as Error);
  }
}
