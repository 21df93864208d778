/**
 * Uploads go straight into the file store as they arrive: a multer storage engine that
 * streams the file part into `FileStore.put`. The size limit is the store's, counted while
 * streaming (a 413 past it); an aborted or refused upload leaves nothing behind; memory
 * stays flat at any size. The stored file's id is the part's `path`; the upload belongs to
 * no job until `JobService.enqueueWithUpload` gives it to its job.
 */
import { basename } from 'node:path';
import type { Request } from 'express';
import multer from 'multer';
import type { FileStore } from '../files/index.js';
import { MAX_UPLOAD_BYTES } from '../tasks/uploads.js';

/** The name offered on download: the client's base name, without control characters. */
export function uploadName(original: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  const name = basename((original ?? '').replace(/\\/g, '/')).replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 255);
  return name === '' || name === '.' || name === '..' ? 'upload.csv' : name;
}

class StoreStorage implements multer.StorageEngine {
  constructor(
    private readonly files: FileStore,
    private readonly maxBytes: number,
  ) {}

  _handleFile(_req: Request, file: Express.Multer.File, cb: (error?: unknown, info?: Partial<Express.Multer.File>) => void): void {
    this.files
      .put(file.stream, { jobId: null, kind: 'upload', name: uploadName(file.originalname), contentType: 'text/csv', maxBytes: this.maxBytes })
      .then(
        (info) => cb(null, { path: info.id, size: info.size }),
        (err: unknown) => {
          // The rest of the part must still be read for the request to end; it is dropped.
          file.stream.resume();
          cb(err);
        },
      );
  }

  _removeFile(_req: Request, file: Express.Multer.File, cb: (error: Error | null) => void): void {
    this.files.delete(file.path).then(
      () => cb(null),
      (err: unknown) => cb(err as Error),
    );
  }
}

/** One file part (`file`) streamed into the store, and up to 20 other fields. */
export function uploadToStore(files: FileStore, maxBytes = MAX_UPLOAD_BYTES): multer.Multer {
  return multer({ storage: new StoreStorage(files, maxBytes), limits: { files: 1, fields: 20, fieldSize: 256 * 1024 } });
}
