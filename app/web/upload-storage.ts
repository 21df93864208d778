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

/** The name offered on download: the client's base name, without control characters. */
export function uploadName(original: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  const name = basename((original ?? '').replace(/\\/g, '/')).replace(/[\u0000-\u001f\u007f]/g, '').slice(0, 255);
  return name === '' || name === '.' || name === '..' ? 'upload.csv' : name;
}

type UploadRequest = Request & { storeError?: unknown; storePut?: Promise<unknown> };

/**
 * The error an upload ended with: the store's own reason when it has one. Multer may end
 * the request before the put has settled (busboy sees the part's stream destroyed by the
 * refused put, an AbortError): wait for the put, whose reason (the 413) the client needs.
 */
export async function uploadError(req: Request, err: unknown): Promise<unknown> {
  await (req as UploadRequest).storePut?.catch(() => undefined);
  return (req as UploadRequest).storeError ?? err;
}

class StoreStorage implements multer.StorageEngine {
  constructor(
    private readonly files: FileStore,
    private readonly maxBytes: number,
  ) {}

  _handleFile(req: Request, file: Express.Multer.File, cb: (error?: unknown, info?: Partial<Express.Multer.File>) => void): void {
    const put = this.files.put(file.stream, {
      jobId: null,
      kind: 'upload',
      name: uploadName(file.originalname),
      contentType: 'text/csv',
      maxBytes: this.maxBytes,
    });
    (req as UploadRequest).storePut = put;
    put.then(
      (info) => cb(null, { path: info.id, size: info.size }),
      (err: unknown) => {
        (req as UploadRequest).storeError ??= err;
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

/** One file part (`file`) of at most `maxBytes` streamed into the store, and up to 20 other fields. */
export function uploadToStore(files: FileStore, maxBytes: number): multer.Multer {
  return multer({ storage: new StoreStorage(files, maxBytes), limits: { files: 1, fields: 20, fieldSize: 256 * 1024 } });
}
