/**
 * Files the results folder held before the file store: a job's `resultFile` (a base
 * name in the results folder: exports, finding aids) and a web upload's path (inside
 * `<resultsDir>/uploads`, named by a csv-import job's `file` parameter). They stay
 * readable, and deletable when their job is cleared, on the host that has them.
 */
import { open, rm, stat } from 'node:fs/promises';
import { basename, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { NotFoundError } from '../errors.js';
import type { StoredFile } from './types.js';

const TYPES: Record<string, string> = {
  '.csv': 'text/csv',
  '.pdf': 'application/pdf',
  '.rtf': 'application/rtf',
};

/** The path a legacy name stands for, or null when it names nothing the store may read. */
export function legacyPath(resultsDir: string, key: string): { path: string; kind: 'upload' | 'result' } | null {
  if (isAbsolute(key)) {
    const rel = relative(resolve(resultsDir, 'uploads'), resolve(key));
    const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
    return inside ? { path: resolve(key), kind: 'upload' } : null;
  }
  // A result's stored name is a base name; anything else would reach outside the folder.
  if (!key || key.includes('/') || key.includes('\\') || key.startsWith('.')) return null;
  return { path: join(resultsDir, key), kind: 'result' };
}

export async function openLegacy(resultsDir: string, key: string): Promise<StoredFile> {
  const where = legacyPath(resultsDir, key);
  if (!where) throw new NotFoundError('No such file');
  let handle;
  try {
    handle = await open(where.path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`No file "${basename(key)}" in the results folder`);
    throw err;
  }
  const s = await handle.stat();
  if (!s.isFile()) {
    await handle.close();
    throw new NotFoundError(`No file "${basename(key)}" in the results folder`);
  }
  return {
    id: key,
    jobId: null,
    kind: where.kind,
    name: basename(where.path),
    contentType: TYPES[extname(where.path).toLowerCase()] ?? 'application/octet-stream',
    size: s.size,
    createdAt: Math.round(s.mtimeMs),
    stream: handle.createReadStream(),
  };
}

export async function legacyExists(resultsDir: string, key: string): Promise<boolean> {
  const where = legacyPath(resultsDir, key);
  if (!where) return false;
  return stat(where.path).then(
    (s) => s.isFile(),
    () => false,
  );
}

export async function removeLegacy(resultsDir: string, key: string): Promise<boolean> {
  const where = legacyPath(resultsDir, key);
  if (!where) return false;
  try {
    await rm(where.path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw err;
  }
}
