/**
 * The archival pages: browse descriptions, one description with its children, fields,
 * publication status and finding aid, and the forms that start the archival tasks
 * (import, export, finding aid, publication status, move). Every form enqueues a job as
 * the signed-in user and goes to that job's page; the work itself happens in a worker.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';
import { displayOrder, fieldItems, labelOf } from '../archive/csv-columns.js';
import { isRepeatable } from '../archive/repeatable.js';
import {
  ancestors,
  countChildren,
  findDescription,
  listChildren,
  referenceCode,
  type Page,
} from '../archive/descriptions.js';
import { culturesOf, localize, translationsOf } from '../archive/translations.js';
import { FINDING_AID_LABELS, type Description } from '../archive/types.js';
import type { Context } from '../context.js';
import { BadRequestError, HttpError, NotFoundError } from '../errors.js';
import { canSee } from '../policy.js';
import { activeByKeyPrefix } from '../store/job-unique.js';
import { getJob } from '../store/jobs.js';
import { csvImportOptionProblem, FINDING_AID_FORMATS, FINDING_AID_MODELS, UPDATE_MODES, findingAidKeyPrefix, type UpdateMode } from '../tasks/archive.js';
import type { Job, User } from '../types.js';
import { requireUser } from './auth.js';
import { bodyValue, jobIdParam, one, queryValue } from './http.js';
import { uploadName as jobFileName } from './present.js';
import { visibleJob } from './jobs-query.js';
import { registerRecordLink } from './links.js';
import { cultureName, readerCulture } from './reader-culture.js';
import { flash, render, saveAndRedirect } from './render.js';
import { GroupService } from '../groups/service.js';
import { FROM_PREVIOUS } from '../store/group-chain.js';
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

/** The culture select of the export and finding-aid forms: blank for "all" / the source culture. */
function cultureChoice(req: Request): string | undefined {
  return bodyValue(req, 'culture')?.trim() || undefined;
}

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

/**
 * Creates a chain (an envelope) as the signed-in user and goes to its first job's page,
 * the flash linking the envelope's page.
 */
async function startChain(
  ctx: Context,
  req: Request,
  res: Response,
  name: string,
  jobs: Array<{ task: string; params: Record<string, unknown> }>,
  what: string,
  upload: string | null = null,
): Promise<void> {
  const g = await new GroupService(ctx.service).create({ name, chain: true, jobs }, req.user as User, 'web', upload);
  flash(req, 'info', `Envelope ${g.id} is queued: ${what}, one after the other.`, { href: `/groups/${g.id}`, text: `Follow envelope ${g.id}` });
  await saveAndRedirect(req, res, `/jobs/${g.jobs[0].id}`);
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
      rows: await Promise.all(
        page.items.map(async (d) => ({ d, dates: fieldItems(d, 'eventDates'), children: counts.get(d.id) ?? 0, findingAid: await findingAidColumn(ctx, d) })),
      ),
      nextHref: page.next ? `/descriptions?after=${cursorText(page.next)}` : null,
      firstHref: queryValue(req, 'after') ? '/descriptions' : null,
    });
  });

  // ---- import (before /descriptions/:ref) -----------------------------------------

  /** The import a new one corrects: a CSV import the user can see (404 otherwise, as its page). */
  const correctedJob = async (req: Request, raw: unknown): Promise<Job> => {
    const job = await visibleJob(ctx, req.user as User, jobIdParam(raw));
    if (job.task !== 'csv-import') throw new BadRequestError(`Job ${job.id} is not a CSV import: there is no file to correct.`);
    return job;
  };

  const importPage = async (req: Request, res: Response, values: Record<string, unknown> = {}, error: string | null = null, status = 200) => {
    const corrects = typeof values.corrects === 'number' ? await correctedJob(req, String(values.corrects)) : null;
    render(
      res,
      'archive/import',
      {
        title: corrects ? `Import a corrected file for job ${corrects.id}` : 'Import descriptions from CSV',
        values,
        error,
        updateModes: UPDATE_MODES,
        maxMb: ctx.config.maxUploadBytes / 1048576,
        corrects: corrects && {
          id: corrects.id,
          file: jobFileName(corrects.params),
          error: corrects.error,
          onInput: corrects.failureKind === 'input',
        },
      },
      status,
    );
  };

  /** The form's values from a job's parameters: every import option but the file. */
  const optionsOf = (job: Job): Record<string, unknown> => {
    const p = job.params;
    return {
      update: typeof p.update === 'string' ? p.update : 'none',
      skipMatched: p.skipMatched === true,
      skipUnmatched: p.skipUnmatched === true,
      limit: typeof p.limit === 'string' ? p.limit : '',
      onError: p.onError === 'fail' ? 'fail' : 'skip',
      strict: p.strict === true,
      corrects: job.id,
    };
  };

  router.get('/descriptions/import', async (req, res) => {
    const raw = queryValue(req, 'corrects');
    if (!raw) return importPage(req, res);
    await importPage(req, res, optionsOf(await correctedJob(req, raw)));
  });

  router.post('/descriptions/import', (req: Request, res: Response, next: NextFunction) => {
    upload.single('file')(req, res, async (raw: unknown) => {
      if (raw) {
        const err = await uploadError(req, raw);
        const code = (err as { code?: string }).code;
        if (err instanceof HttpError && err.status === 413) {
          return importPage(req, res, {}, `The file is larger than ${ctx.config.maxUploadBytes / 1048576} MB.`, 413).catch(next);
        }
        if (err instanceof multer.MulterError) return importPage(req, res, {}, `The upload failed: ${err.message} (${code ?? 'error'}).`, 400).catch(next);
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
      corrects: undefined as number | undefined,
      thenFindingAid: checkbox(req, 'thenFindingAid'),
      roundtrip: checkbox(req, 'roundtrip'),
      defaultParentSlug: bodyValue(req, 'defaultParentSlug')?.trim() || '',
      defaultLegacyParentId: bodyValue(req, 'defaultLegacyParentId')?.trim() || '',
      skipRows: bodyValue(req, 'skipRows')?.trim() || '',
    };
    const corrects = bodyValue(req, 'corrects');
    let correctedSource: string | null = null;
    if (corrects) {
      try {
        const failed = await correctedJob(req, corrects);
        values.corrects = failed.id;
        if (typeof failed.params.sourceName === 'string' && failed.params.sourceName !== '') correctedSource = failed.params.sourceName;
      } catch (err) {
        if (file) await ctx.files.delete(file.path).catch(() => undefined);
        throw err;
      }
    }
    if (!file) return importPage(req, res, values, 'Choose a CSV file to import.', 400);
    try {
      const params: Record<string, unknown> = {
        file: file.path, // the stored upload's id
        update: values.update,
        skipMatched: values.skipMatched,
        skipUnmatched: values.skipUnmatched,
        onError: values.onError,
        strict: values.strict,
        // The keymap remembers the file's own name, so that a later update of the same
        // file matches its rows (the stored upload has a random name). A corrected file is
        // the same source as the import it corrects, whatever its name ("…-not-imported.csv",
        // the rows that one did not import): its parentIds find the rows that one imported.
        sourceName: correctedSource ?? uploadName(file.originalname).slice(0, 191),
      };
      if (values.limit) params.limit = values.limit;
      if (values.corrects) params.corrects = values.corrects;
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
      if (values.thenFindingAid) {
        // The finding aid's description is the import's result: the fonds it created.
        const findingAid = { description: FROM_PREVIOUS, format: 'pdf', model: 'inventory-summary', public: true };
        const name = `Import ${uploadName(file.originalname).slice(0, 120)}, then finding aid`;
        await startChain(ctx, req, res, name, [{ task: 'csv-import', params }, { task: 'finding-aid', params: findingAid }], 'the import, then the finding aid of the imported fonds', file.path);
        return;
      }
      await startJob(ctx, req, res, 'csv-import', params, file.path);
    } catch (err) {
      // enqueueWithUpload removes it when the job cannot be made; a form error comes first.
      await ctx.files.delete(file.path).catch(() => undefined);
      if (err instanceof HttpError && err.status < 500) return importPage(req, res, values, err.message, err.status);
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
    // The page in the reader's culture, field by field in the source culture where the
    // translation lacks one (AtoM shows those too, marked as in the source language).
    const cultures = await culturesOf(ctx.db, d);
    const culture = readerCulture(req, cultures);
    const [own] = (await translationsOf(ctx.db, [d.id], culture)).get(d.id) ?? [];
    const shown = localize(d, culture, own);
    const local = shown.description;
    const fields = displayOrder(d)
      .filter((c) => c !== 'title')
      .map((c) => ({
        label: labelOf(d, c),
        // A repeatable field (notes, access points, events...) is shown as the list it is.
        list: isRepeatable(c),
        // Other values as written; a stray `|` (physical storage, accession numbers) reads "; ".
        items: isRepeatable(c) ? fieldItems(local, c) : fieldItems(local, c).map((v) => v.split('|').join('; ')),
        lang: culture !== d.culture && shown.fallback.has(c) ? d.culture : null,
      }))
      .filter((f) => f.items.length > 0);
    const childTranslations = await translationsOf(
      ctx.db,
      page.items.map((c) => c.id),
      culture,
    );
    render(res, 'archive/show', {
      title: local.title ?? d.slug,
      d: local,
      culture,
      sourceCulture: d.culture,
      cultures: cultures.map((c) => ({
        code: c,
        name: cultureName(c),
        href: `/descriptions/${encodeURIComponent(d.slug)}?culture=${encodeURIComponent(c)}`,
      })),
      cultureName: cultureName(culture),
      translated: culture === d.culture || own !== undefined,
      chain,
      reference: referenceCode([...chain, d]),
      fields,
      children: page.items.map((c) => {
        const child = localize(c, culture, childTranslations.get(c.id)?.[0]).description;
        return { d: child, dates: fieldItems(child, 'eventDates'), children: counts.get(c.id) ?? 0 };
      }),
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
    await startJob(ctx, req, res, 'csv-export', {
      description: String(d.id),
      public: checkbox(req, 'public'),
      culture: cultureChoice(req),
    }).catch((err: unknown) => formError(req, res, err, back(d)));
  });

  router.post('/descriptions/:ref/export-finding-aid', async (req, res) => {
    const d = await descriptionParam(ctx, req.params.ref);
    try {
      if (d.parentId !== null) throw new BadRequestError('"Export, then finding aid" is for a whole fonds: a top-level description.');
      const pub = checkbox(req, 'public');
      const description = String(d.id);
      await startChain(
        ctx,
        req,
        res,
        `Export, then finding aid: ${(d.title ?? d.slug).slice(0, 150)}`,
        [
          { task: 'csv-export', params: { description, public: pub } },
          {
            task: 'finding-aid',
            params: { description, format: bodyValue(req, 'format') || 'pdf', model: bodyValue(req, 'model') || 'inventory-summary', public: pub },
          },
        ],
        'the CSV export, then the finding aid',
      );
    } catch (err) {
      await formError(req, res, err, back(d));
    }
  });

  router.post('/descriptions/:ref/finding-aid', async (req, res) => {
    const d = await descriptionParam(ctx, req.params.ref);
    await startJob(ctx, req, res, 'finding-aid', {
      description: String(d.id),
      format: bodyValue(req, 'format') || 'pdf',
      model: bodyValue(req, 'model') || 'inventory-summary',
      // The form's box starts ticked (public is the default); unticked asks for the full one.
      public: checkbox(req, 'public'),
      culture: cultureChoice(req),
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
