/**
 * `POST /api/jobs` as `multipart/form-data`: a `task` field, a `params` field holding
 * JSON, an optional `priority`, and one `file` part, streamed into the file store while
 * it arrives (the size limit applies while streaming; an aborted or refused request
 * leaves nothing behind). The file becomes the value of the task's file parameter (for
 * csv-import, `file`), and the job's own once it exists.
 */
import type { Request, Response } from 'express';
import multer from 'multer';
import type { Context } from '../context.js';
import { BadRequestError } from '../errors.js';
import type { EnqueueResult } from '../job-service.js';
import { requireTask } from '../tasks/index.js';
import type { PriorityName, User } from '../types.js';
import { bodyValue } from './http.js';
import { uploadError, uploadToStore } from './upload-storage.js';

/** Reads the multipart request and enqueues its job with the upload. */
export function multipartJob(ctx: Context): (req: Request, res: Response) => Promise<EnqueueResult> {
  const upload = uploadToStore(ctx.files, ctx.config.maxUploadBytes).single('file');
  return async (req, res) => {
    await new Promise<void>((resolve, reject) =>
      upload(req, res, (raw: unknown) => {
        if (!raw) return resolve();
        void uploadError(req, raw).then((err) =>
          reject(err instanceof multer.MulterError ? new BadRequestError(`the upload failed: ${err.message} (${err.field ?? err.code})`) : err),
        );
      }),
    );
    const file = req.file;
    try {
      return await enqueue(ctx, req, file?.path ?? null);
    } catch (err) {
      if (file) await ctx.files.delete(file.path).catch(() => undefined);
      throw err;
    }
  };
}

async function enqueue(ctx: Context, req: Request, fileId: string | null): Promise<EnqueueResult> {
  const task = bodyValue(req, 'task');
  if (!task) throw new BadRequestError('a multipart job needs a "task" field');
  const def = requireTask(task);
  const rawParams = bodyValue(req, 'params');
  let params: unknown = {};
  if (rawParams !== null && rawParams !== undefined && rawParams !== '') {
    try {
      params = JSON.parse(rawParams);
    } catch (err) {
      throw new BadRequestError(`the "params" field must hold a JSON object: ${(err as Error).message}`);
    }
  }
  if (!params || typeof params !== 'object' || Array.isArray(params)) throw new BadRequestError('the "params" field must hold a JSON object');
  const fileParam = Object.entries(def.params).find(([, spec]) => spec.upload)?.[0];
  if (!fileParam) throw new BadRequestError(`task "${def.name}" takes no file: send its job as JSON`);
  if (!fileId) throw new BadRequestError(`task "${def.name}" needs its file as a part named "file"`);
  const priority = bodyValue(req, 'priority') || undefined;
  if (priority !== undefined && !['high', 'normal', 'low'].includes(priority)) throw new BadRequestError('priority must be high, normal or low');
  return ctx.service.enqueueWithUpload(
    {
      task: def.name,
      params: { ...(params as Record<string, unknown>), [fileParam]: fileId },
      priority: priority as PriorityName | undefined,
      user: req.user as User,
      origin: 'api',
    },
    fileId,
  );
}
