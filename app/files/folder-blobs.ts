/**
 * Bytes kept as files under `<resultsDir>/files/` on the host that wrote them: the
 * single-host store (SQLite's default). A file is written as `.<id>.part` and renamed
 * to `<id>` once complete, so that no reader ever opens a half-written file.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { NotFoundError } from '../errors.js';
import type { BlobBackend } from './blobs.js';

export function filesDir(resultsDir: string): string {
  return join(resultsDir, 'files');
}

const partName = (id: string): string => `.${id}.part`;

export function folderBlobs(resultsDir: string): BlobBackend {
  const dir = filesDir(resultsDir);
  return {
    name: 'folder',
    async write(id, pieces) {
      await mkdir(dir, { recursive: true });
      const part = join(dir, partName(id));
      // Readable.from pulls the next piece only when the file has taken the last one.
      await pipeline(Readable.from(pieces), createWriteStream(part, { flags: 'wx' }));
      await rename(part, join(dir, id));
    },
    async open(file) {
      const path = join(dir, file.id);
      let size: number;
      try {
        const s = await stat(path);
        if (!s.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
        size = s.size;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        // The row says "folder": the bytes are on the host that wrote them, if anywhere.
        throw new NotFoundError(`"${file.name}" is not in this host's results folder (written by another host, or removed)`);
      }
      if (size !== file.size) throw new Error(`file ${file.id} has ${size} bytes on disk, ${file.size} recorded`);
      const handle = await open(path, 'r');
      return handle.createReadStream();
    },
    async remove(id) {
      await rm(join(dir, partName(id)), { force: true });
      await rm(join(dir, id), { force: true });
    },
    async sweepStrays(before) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
        throw err;
      }
      let n = 0;
      for (const name of names.filter((x) => x.endsWith('.part'))) {
        const path = join(dir, name);
        const s = await stat(path).catch(() => null);
        if (s && s.mtimeMs < before) {
          await rm(path, { force: true });
          n++;
        }
      }
      return n;
    },
  };
}

