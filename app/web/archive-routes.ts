/**
 * The archival pages: browse descriptions, one description with its children, fields,
 * publication status and finding aid, and the forms that start the archival tasks
 * (import, export, finding aid, publication status, move). Every form enqueues a job as
 * the signed-in user and goes to that job's page; the work itself happens in a worker.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';
import { displayOrder, fieldValue, labelOf } from '../archive/csv-columns.js';
import {
  ancestors,
  countChildren,
  findDescription,
  listChildren,
  referenceCode,
  type Page,
} from '../archive/descriptions.js';
import { FINDING_AID_LABELS, type Description } from '../archive/types.js';
import type { Context } from '../context.js';
import { BadRequestError, HttpError, NotFoundError } from '../errors.js';
import { canSee } from '../policy.js';
import { activeByKeyPrefix } from '../store/job-unique.js';
import { getJob } from '../store/jobs.js';
import { csvImportOptionProblem, FINDING_AID_FORMATS, FINDING_AID_MODELS, UPDATE_MODES, findingAidKeyPrefix, type UpdateMode } from '../tasks/archive.js';
import type { Job, User } from '../types.js';
import { requireUser } from './auth.js';
import { bodyValue, one, queryValue } from './http.js';
import { registerRecordLink } from './links.js';
import { flash, render, saveAndRedirect } from './render.js';
import { sendStoredFile } from './send-file.js';
import { uploadError, uploadName, uploadToStore } from './upload-storage.js';
const PAGE_SIZE = 50;

registerRecordLink('description', (id) => ({ href: `/descriptions/${encodeURIComponent(id)}`, label: `Description ${id}` }));

/** What the description page says about the finding aid, reconciled with its job. */
export interface FindingAidView {
  label: string;
  /** The job generating it now, or the one that made or failed it. */
  jobId: number | null;
  downloadHref: string | null;
  error: string | null;
  at: number | null;
}

/**
 * The finding-aid status as stored, checked against the jobs: a request still queued
 * shows as such, and a "generating" status whose job is over without saying so (its
 * worker was killed) shows as an error instead of "in progress" for ever. Only jobs the
 * viewer may see are named (the viewer's own first): the status of the description's
 * finding aid is everyone's, another user's job is not (ADR 0005).
 */
async function findingAidView(ctx: Context, d: Description, viewer: User): Promise<FindingAidView | null> {
  // The keys before format, model and public were part of them, for jobs queued then.
  const legacy = [`finding-aid:${d.id}`, `finding-aid:${d.slug}`];
  const visible = (await activeByKeyPrefix(ctx.db, findingAidKeyPrefix(d.id), legacy)).filter((j) => canSee(viewer, j));
  const active = visible.find((j) => j.userId === viewer.id) ?? visible[0];
  if (active) {
    return {
      label: active.status === 'queued' ? 'Queued' : FINDING_AID_LABELS.generating,
      jobId: active.id,
      downloadHref: null,
      error: null,
      at: active.queuedAt,
    };
  }
  if (!d.findingAidStatus) return null;
  const stored: Job | null = d.findingAidJobId ? await getJob(ctx.db, d.findingAidJobId) : null;
  const job = stored && canSee(viewer, stored) ? stored : null;
  const base = { jobId: job?.id ?? null, at: d.findingAidAt };
  if (d.findingAidStatus === 'generating') {
    if (stored && (stored.status === 'queued' || stored.status === 'running')) {
      return { ...base, label: FINDING_AID_LABELS.generating, downloadHref: null, error: null };
    }
    return { ...base, label: FINDING_AID_LABELS.error, downloadHref: null, error: job?.error ?? 'Its job ended before it was written.' };
  }
  if (d.findingAidStatus === 'error') {
    return { ...base, label: FINDING_AID_LABELS.error, downloadHref: null, error: d.findingAidError };
  }
  const present = await findingAidPresent(ctx, d);
  return {
    ...base,
    label: present ? FINDING_AID_LABELS.generated : 'Removed',
    downloadHref: present ? `/descriptions/${encodeURIComponent(d.slug)}/finding-aid` : null,
    error: present ? null : 'The file was removed when its job was cleared; generate it again.',
  };
}

/**
 * Whether a "generated" finding aid's file is still in the store (its job not cleared).
 * The descriptions list and the description page both ask this, so they agree.
 */
export async function findingAidPresent(ctx: Context, d: Description): Promise<boolean> {
  return d.findingAidStatus === 'generated' && d.findingAidFile !== null && (await ctx.files.exists(d.findingAidFile));
}

/** The list's "Finding aid" column, in the page's words. */
async function findingAidColumn(ctx: Context, d: Description): Promise<string> {
  if (d.findingAidStatus === 'generated') return (await findingAidPresent(ctx, d)) ? FINDING_AID_LABELS.generated : 'Removed';
  if (d.findingAidStatus === 'generating') return 'In progress';
  return d.findingAidStatus === 'error' ? FINDING_AID_LABELS.error : '';
}

async function descriptionParam(ctx: Context, raw: unknown): Promise<Description> {
  const ref = one(raw);
  const d = ref ? await findDescription(ctx.db, ref) : null;
  if (!d) throw new NotFoundError('No such description');
  return d;
}

function cursor(raw: string | null): { position: number; id: number } | null {
  if (!raw) return null;
  const m = /^(-?[0-9]{1,10})\.([0-9]{1,10})$/.exec(raw);
  if (!m) throw new BadRequestError('"after" must look like POSITION.ID');
  return { position: Number(m[1]), id: Number(m[2]) };
}

const cursorText = (c: Page<Description>['next']): string | null => (c ? `${c.position}.${c.id}` : null);

function checkbox(req: Request, name: string): boolean {
  const v = bodyValue(req, name);
  return v === 'true' || v === 'on' || v === '1' || v === 'yes';
}

/** Enqueues a task as the signed-in user (with the upload it reads) and goes to its job page. */
async function startJob(
  ctx: Context,
  req: Request,
  res: Response,
  task: string,
  params: Record<string, unknown>,
  upload: string | null = null,
): Promise<void> {
  const request = { task, params, user: req.user as User, origin: 'web' as const };
  const { job, joined, dispatched } = upload ? await ctx.service.enqueueWithUpload(request, upload) : await ctx.service.enqueue(request);
  flash(
    req,
    'info',
    joined
      ? `An unfinished job for the same work already existed: this is job ${job.id}.`
      : `Job ${job.id} is queued.` +
          (dispatched || ctx.transport.kind !== 'amqp' ? '' : ' The message broker is unreachable; the job is sent when it is back.'),
  );
  await saveAndRedirect(req, res, `/jobs/${job.id}`);
}

/** A form error goes back to the page with the message, rather than to an error page. */
async function formError(req: Request, res: Response, err: unknown, back: string): Promise<void> {
  if (err instanceof HttpError && err.status < 500) {
    flash(req, 'error', err.message);
    await saveAndRedirect(req, res, back);
    return;
  }
  throw err;
}

/** Mounts the archival pages on a router; see `createWebApp` for where it goes. */
export function archiveRoutes(ctx: Context): express.Router {
  const router = express.Router();
  router.use('/descriptions', requireUser);

  const upload = uploadToStore(ctx.files, ctx.config.maxUploadBytes);

  // ---- browse ---------------------------------------------------------------------

  router.get('/descriptions', async (req, res) => {
    const page = await listChildren(ctx.db, null, { after: cursor(queryValue(req, 'after')), limit: PAGE_SIZE });
    const counts = await countChildren(
      ctx.db,
      page.items.map((d) => d.id),
    );
    render(res, 'archive/index', {
      title: 'Archival descriptions',
      rows: await Promise.all(page.items.map(async (d) => ({ d, children: counts.get(d.id) ?? 0, findingAid: await findingAidColumn(ctx, d) }))),
      nextHref: page.next ? `/descriptions?after=${cursorText(page.next)}` : null,
      firstHref: queryValue(req, 'after') ? '/descriptions' : null,
    });
  });

  // ---- import (before /descriptions/:ref) -----------------------------------------

  const importPage = (res: Response, values: Record<string, unknown> = {}, error: string | null = null, status = 200) =>
    render(
      res,
      'archive/import',
      { title: 'Import descriptions from CSV', values, error, updateModes: UPDATE_MODES, maxMb: ctx.config.maxUploadBytes / 1048576 },
      status,
    );

  router.get('/descriptions/import', (_req, res) => importPage(res));

  router.post('/descriptions/import', (req: Request, res: Response, next: NextFunction) => {
    upload.single('file')(req, res, async (raw: unknown) => {
      if (raw) {
        const err = await uploadError(req, raw);
        const code = (err as { code?: string }).code;
        if (err instanceof HttpError && err.status === 413) return importPage(res, {}, `The file is larger than ${ctx.config.maxUploadBytes / 1048576} MB.`, 413);
        if (err instanceof multer.MulterError) return importPage(res, {}, `The upload failed: ${err.message} (${code ?? 'error'}).`, 400);
        return next(err);
      }
      void handleImport(req, res).catch(next);
    });
  });

  /** The upload form's labels, for csvImportOptionProblem's messages. */
  const FORM_NAMES = {
    update: '"Matching existing descriptions"',
    skipMatched: '"Skip matched records"',
    skipUnmatched: '"Skip unmatched records"',
    limit: '"Limit matches to"',
    roundtrip: '"Round trip"',
    defaultParentSlug: '"Default parent (slug)"',
    defaultLegacyParentId: '"Default parent (legacyId)"',
    skipRows: '"Skip rows"',
  };

  async function handleImport(req: Request, res: Response): Promise<void> {
    const file = req.file;
    const values = {
      update: bodyValue(req, 'update') || 'none',
      skipMatched: checkbox(req, 'skipMatched'),
      skipUnmatched: checkbox(req, 'skipUnmatched'),
      limit: bodyValue(req, 'limit')?.trim() || '',
      onError: bodyValue(req, 'onError') === 'fail' ? 'fail' : 'skip',
      strict: checkbox(req, 'strict'),
      roundtrip: checkbox(req, 'roundtrip'),
      defaultParentSlug: bodyValue(req, 'defaultParentSlug')?.trim() || '',
      defaultLegacyParentId: bodyValue(req, 'defaultLegacyParentId')?.trim() || '',
      skipRows: bodyValue(req, 'skipRows')?.trim() || '',
    };
    if (!file) return importPage(res, values, 'Choose a CSV file to import.', 400);
    try {
      const params: Record<string, unknown> = {
        file: file.path, // the stored upload's id
        update: values.update,
        skipMatched: values.skipMatched,
        skipUnmatched: values.skipUnmatched,
        onError: values.onError,
        strict: values.strict,
        // The keymap remembers the file's own name, so that a later update of the same
        // file matches its rows (the stored upload has a random name).
        sourceName: uploadName(file.originalname).slice(0, 191),
      };
      if (values.limit) params.limit = values.limit;
      if (values.skipMatched && values.update !== 'none') {
        throw new BadRequestError('"Skip matched records" applies only when importing as new.');
      }
      if (values.skipUnmatched && values.update === 'none') {
        throw new BadRequestError('"Skip unmatched records" applies only when updating.');
      }
      if (values.roundtrip) params.roundtrip = true;
      if (values.defaultParentSlug) params.defaultParentSlug = values.defaultParentSlug;
      if (values.defaultLegacyParentId) params.defaultLegacyParentId = values.defaultLegacyParentId;
      const skipRows = values.skipRows === '' ? 0 : /^[0-9]{1,9}$/.test(values.skipRows) ? Number(values.skipRows) : Number.NaN;
      if (skipRows > 0) params.skipRows = skipRows;
      const problem = csvImportOptionProblem(
        {
          update: values.update as UpdateMode,
          skipMatched: values.skipMatched,
          skipUnmatched: values.skipUnmatched,
          limit: values.limit || null,
          roundtrip: values.roundtrip,
          defaultParentSlug: values.defaultParentSlug || null,
          defaultLegacyParentId: values.defaultLegacyParentId || null,
          skipRows: Number.isNaN(skipRows) ? (values.skipRows as unknown as number) : skipRows,
        },
        FORM_NAMES,
      );
      if (problem) throw new BadRequestError(`${problem[0].toUpperCase()}${problem.slice(1)}.`);
      await startJob(ctx, req, res, 'csv-import', params, file.path);
    } catch (err) {
      // enqueueWithUpload removes it when the job cannot be made; a form error comes first.
      await ctx.files.delete(file.path).catch(() => undefined);
      if (err instanceof HttpError && err.status < 500) return importPage(res, values, err.message, err.status);
      throw err;
    }
  }

  // ---- one description ------------------------------------------------------------

  router.get('/descriptions/:ref', async (req, res) => {
    const d = await descriptionParam(ctx, req.params.ref);
    // Ids are accepted in links (jobs point at "description:12"); the page lives at its slug.
    if (req.params.ref !== d.slug) return res.redirect(301, `/descriptions/${encodeURIComponent(d.slug)}`);
    const chain = await ancestors(ctx.db, d);
    const page = await listChildren(ctx.db, d.id, { after: cursor(queryValue(req, 'after')), limit: PAGE_SIZE });
    const counts = await countChildren(
      ctx.db,
      page.items.map((c) => c.id),
    );
    const fields = displayOrder(d)
      .filter((c) => c !== 'title')
      .map((c) => ({ label: labelOf(d, c), value: fieldValue(d, c).split('|').join('; ') }))
      .filter((f) => f.value.trim() !== '');
    render(res, 'archive/show', {
      title: d.title ?? d.slug,
      d,
      chain,
      reference: referenceCode([...chain, d]),
      fields,
      children: page.items.map((c) => ({ d: c, children: counts.get(c.id) ?? 0 })),
      nextHref: page.next ? `/descriptions/${encodeURIComponent(d.slug)}?after=${cursorText(page.next)}` : null,
      firstHref: queryValue(req, 'after') ? `/descriptions/${encodeURIComponent(d.slug)}` : null,
      findingAid: d.parentId === null ? await findingAidView(ctx, d, req.user as User) : null,
      formats: FINDING_AID_FORMATS,
      models: FINDING_AID_MODELS,
    });
  });

  router.get('/descriptions/:ref/finding-aid', async (req, res) => {
    const d = await descriptionParam(ctx, req.params.ref);
    const file = d.findingAidStatus === 'generated' ? d.findingAidFile : null;
    if (!file) throw new NotFoundError(`"${d.title ?? d.slug}" has no finding aid to download.`);
    await sendStoredFile(ctx, res, file, d.findingAidName ?? '', 'The finding aid was removed when its job was cleared; generate it again.');
  });

  // ---- the task forms -------------------------------------------------------------

  const back = (d: Description) => `/descriptions/${encodeURIComponent(d.slug)}`;

  router.post('/descriptions/:ref/export', async (req, res) => {
    const d = await descriptionParam(ctx, req.params.ref);
    await startJob(ctx, req, res, 'csv-export', { description: String(d.id), public: checkbox(req, 'public') }).catch(
      (err: unknown) => formError(req, res, err, back(d)),
    );
  });

  router.post('/descriptions/:ref/finding-aid', async (req, res) => {
    const d = await descriptionParam(ctx, req.params.ref);
    await startJob(ctx, req, res, 'finding-aid', {
      description: String(d.id),
      format: bodyValue(req, 'format') || 'pdf',
      model: bodyValue(req, 'model') || 'inventory-summary',
      public: checkbox(req, 'public'),
    }).catch((err: unknown) => formError(req, res, err, back(d)));
  });

  router.post('/descriptions/:ref/publication-status', async (req, res) => {
    const d = await descriptionParam(ctx, req.params.ref);
    await startJob(ctx, req, res, 'publication-status', {
      description: String(d.id),
      status: bodyValue(req, 'status') ?? '',
      descendants: checkbox(req, 'descendants'),
    }).catch((err: unknown) => formError(req, res, err, back(d)));
  });

  router.post('/descriptions/:ref/move', async (req, res) => {
    const d = await descriptionParam(ctx, req.params.ref);
    const parentRef = bodyValue(req, 'parent')?.trim() ?? '';
    try {
      const parent = parentRef ? await findDescription(ctx.db, parentRef) : null;
      if (!parent) throw new BadRequestError(parentRef ? `No description has the slug or id "${parentRef.slice(0, 100)}".` : 'Give the new parent\'s slug or id.');
      // Refusing a move under the description's own branch is the job's decision, so
      // the CLI and the web give the same answer in the same place.
      await startJob(ctx, req, res, 'move', { description: String(d.id), parent: String(parent.id) });
    } catch (err) {
      await formError(req, res, err, back(d));
    }
  });

  return router;
}
