/**
 * The jobs pages: the list with its tabs, filters and summary; the details page; the
 * CSV export; clear inactive; cancel, retry and download; the "New job" form. Every
 * read goes through the jobs page's own queries and every decision through the policy.
 */
import { getProfile } from '../store/user-profile.js';
import { bellState } from './profile-pages.js';
import express, { type Request, type Response } from 'express';
import { auditRequest } from '../audit.js';
import type { Context } from '../context.js';
import type { Db } from '../db.js';
import { CSV_COLUMNS, exportFileName, writeJobsCsv } from '../export.js';
import { ConflictError, HttpError, NotFoundError } from '../errors.js';
import { canCancel, canRetry, clearScope, isAdmin, listScope, type Actor } from '../policy.js';
import { clearableResults, clearableSummary, countJobs, EMPTY_PAGE, listJobs, summarize, type JobPage, type Summary } from '../store/job-list.js';
import { clearableCounts, descriptionTitles, paramsOf, searchDescriptions } from '../store/job-subjects.js';
import { assertDescriptionsExist, isDescriptionParam, paramHelp, paramLabel, valueLabel } from './job-form.js';
import { eventsPage } from '../store/job-events.js';
import { readOutput } from '../store/jobs.js';
import { getWorker } from '../store/workers.js';
import { JOB_STATUSES, offersDownload, PRIORITIES, priorityName, STATUS_LABELS, TAB_STATUSES, type Job, type JobSummary, type Tab, type User } from '../types.js';
import { listTasks, type TaskSpec } from '../tasks/index.js';
import { notImportedCount } from '../tasks/archive.js';
import { requireUser } from './auth.js';
import { bodyValue, chunkCursorParam, isFragment, jobIdParam, localPath, one, queryValue } from './http.js';
import { assertMayDiscard, assertMayRetryTask, filterQuery, listQueryFor, PAGE_SIZE, parseJobFilter, queueState, visibleJob, type JobFilter } from './jobs-query.js';
import { outputHandler } from './output.js';
import { correctionHref, downloadPath, jobRow, retentionText, type QueueState, type Subjects } from './present.js';
import { flash, render, saveAndRedirect } from './render.js';
import { sendStoredFile } from './send-file.js';

/** Output chunks the details page shows at once; the live stream sends the rest. */
export const INITIAL_CHUNKS = 500;

/** Descriptions offered by title in the job form's list (the browser filters them as one types). */
export const DESCRIPTION_CHOICES = 500;

/** Events the details page shows at once; links page through the rest. */
export const HISTORY_PAGE = 200;

const TAB_LABELS: Record<Tab, string> = { all: 'All', active: 'Active', failed: 'Failed' };

// One formatter for every count: toLocaleString builds a new one at each call.
const COUNT_FORMAT = new Intl.NumberFormat('en-US');

function countText(c: { count: number; capped: boolean }): string {
  return `${COUNT_FORMAT.format(c.count)}${c.capped ? '+' : ''}`;
}

/** "12 jobs: 2 active, 1 failed" (capped counts read "10,000+"). */
export function summaryText(s: Summary): string {
  const n = s.all.count === 1 && !s.all.capped ? 'job' : 'jobs';
  return `${countText(s.all)} ${n}: ${countText(s.active)} active, ${countText(s.failed)} failed`;
}

/** "8 of 148 jobs" when filters narrow the tab; null when they do not. */
export function matchText(matching: { count: number; capped: boolean } | null, tabTotal: { count: number; capped: boolean }): string | null {
  if (!matching) return null;
  return `${countText(matching)} of ${countText(tabTotal)} ${tabTotal.count === 1 && !tabTotal.capped ? 'job' : 'jobs'} match the filters.`;
}

/**
 * The extra values that name the jobs of a page: imports' file names (from their
 * parameters) and the titles of the descriptions they work on.
 */
export async function subjectsOf(db: Db, jobs: Array<Pick<JobSummary, 'id' | 'task' | 'objectRef'>>): Promise<Subjects> {
  const withFiles = jobs.filter((j) => j.task === 'csv-import').map((j) => j.id);
  const refs = jobs.flatMap((j) => (j.objectRef?.startsWith('description:') ? [j.objectRef.slice('description:'.length)] : []));
  const [params, titles] = await Promise.all([paramsOf(db, withFiles), descriptionTitles(db, refs)]);
  return { params, titles };
}

function emptyText(f: JobFilter, own: boolean): string {
  if (f.task || f.status || f.user) return 'No jobs match these filters.';
  if (f.tab === 'active') return own ? 'None of your jobs is queued or running.' : 'No job is queued or running.';
  if (f.tab === 'failed') return own ? 'None of your jobs has failed.' : 'No job has failed.';
  return own ? 'You have no jobs yet.' : 'There are no jobs yet.';
}

/** Tasks this user may start from the "New job" form (diagnostic ones for administrators). */
export function runnableTasks(actor: User): TaskSpec[] {
  return listTasks().filter((t) => !t.adminOnly || isAdmin(actor));
}

/**
 * What the page of a failed job offers next: a failed import, a corrected file with the
 * same options; a job that failed on its input, a new job with the same parameters
 * (the input is what needs correcting, so Retry is not offered). Null otherwise.
 */
export function nextStep(
  actor: User,
  job: Job,
): { import: boolean; onInput: boolean; href: string | null; notImported: { href: string; rows: number | null } | null } | null {
  if (job.status !== 'failed') return null;
  const onInput = job.failureKind === 'input';
  const mayRun = runnableTasks(actor).some((t) => t.name === job.task);
  if (job.task !== 'csv-import' && !onInput) return null;
  const isImport = job.task === 'csv-import';
  // A failed import's result is the CSV of the rows it did not import, to correct and import again.
  const notImported = isImport && offersDownload(job) ? { href: downloadPath(job.id), rows: notImportedCount(job.resultSummary) } : null;
  return { import: isImport, onInput, href: mayRun ? correctionHref(job) : null, notImported };
}

function back(req: Request, fallback: string): string {
  return localPath(bodyValue(req, 'back'), fallback);
}

export function jobsRoutes(ctx: Context): express.Router {
  const router = express.Router();
  router.use('/jobs', requireUser);

  router.get('/', (req, res) => res.redirect(303, req.user ? '/jobs' : '/login'));

  // ---- the list -------------------------------------------------------------------

  router.get('/jobs', async (req: Request, res: Response) => {
    const actor = req.user as User;
    const f = parseJobFilter(req, actor);
    const q = await listQueryFor(ctx, f, actor);
    // Independent reads, side by side (on MySQL each takes its own pooled connection).
    const filtered = Boolean(f.task || f.status || f.user);
    const [page, summary, queue, matching]: [JobPage, Summary, QueueState, { count: number; capped: boolean } | null] = await Promise.all([
      q ? listJobs(ctx.db, { ...q, after: f.after, before: f.before, limit: PAGE_SIZE }) : EMPTY_PAGE,
      summarize(ctx.db, listScope(actor).userId),
      queueState(ctx),
      filtered ? (q ? countJobs(ctx.db, q) : Promise.resolve({ count: 0, capped: false })) : Promise.resolve(null),
    ]);
    const subjects = await subjectsOf(ctx.db, page.jobs);
    // Archivists are offered the tasks they may run; a task named in the link stays choosable.
    const tasks = runnableTasks(actor).map((t) => t.name);
    if (f.task && !tasks.includes(f.task)) tasks.push(f.task);
    const now = Date.now();
    const locals = {
      title: `Jobs: ${TAB_LABELS[f.tab]}`,
      filter: f,
      rows: page.jobs.map((j) => jobRow(j, actor, queue, subjects, now)),
      next: page.next,
      summary,
      summaryText: summaryText(summary),
      matchText: matchText(matching, summary[f.tab]),
      retentionText: retentionText(ctx.config),
      emptyText: emptyText(f, !isAdmin(actor)),
      queue,
      tabs: (Object.keys(TAB_LABELS) as Tab[]).map((t) => ({
        tab: t,
        label: TAB_LABELS[t],
        count: countText(summary[t]),
        href: `/jobs?${filterQuery(f, { tab: t, status: null, after: null })}`,
        current: t === f.tab,
      })),
      taskOptions: tasks.sort(),
      statusOptions: (TAB_STATUSES[f.tab] ?? JOB_STATUSES).map((s) => ({ value: s, label: STATUS_LABELS[s] })),
      selfHref: `/jobs?${filterQuery(f)}`,
      firstHref: page.prev ? `/jobs?${filterQuery(f, { after: null })}` : null,
      prevHref: page.prev ? `/jobs?${filterQuery(f, { before: page.prev })}` : null,
      nextHref: page.next ? `/jobs?${filterQuery(f, { after: page.next })}` : null,
      sortHref: `/jobs?${filterQuery(f, { order: f.order === 'desc' ? 'asc' : 'desc', after: null })}`,
      exportHref: `/jobs/export.csv?${filterQuery(f, { after: null })}`,
      fragmentHref: `/jobs?${filterQuery(f)}&partial=1`,
      updatedAt: new Date(),
      clearable: isFragment(req) ? null : await clearableSummary(ctx.db, clearScope(actor)),
      fragment: isFragment(req),
    };
    render(res, isFragment(req) ? 'jobs/_results' : 'jobs/index', locals);
  });

  // ---- find a job by its id ---------------------------------------------------------

  router.get('/jobs/find', async (req: Request, res: Response) => {
    const actor = req.user as User;
    const raw = (queryValue(req, 'id') ?? '').trim().replace(/^#/, '');
    if (!/^\d{1,15}$/.test(raw)) {
      flash(req, 'error', 'Type a job number, such as 12, to find that job.');
      return saveAndRedirect(req, res, '/jobs');
    }
    try {
      const job = await visibleJob(ctx, actor, Number(raw));
      return res.redirect(303, `/jobs/${job.id}`);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      flash(req, 'error', `There is no job ${raw}${isAdmin(actor) ? '' : ' among your jobs'}.`);
      return saveAndRedirect(req, res, '/jobs');
    }
  });

  // ---- export ---------------------------------------------------------------------

  router.get('/jobs/export.csv', async (req: Request, res: Response) => {
    const actor = req.user as User;
    const f = parseJobFilter(req, actor);
    const q = await listQueryFor(ctx, f, actor);
    res.set('Content-Type', 'text/csv; charset=utf-8');
    res.set('Cache-Control', 'no-store');
    res.attachment(exportFileName());
    if (!q) {
      res.end(`${CSV_COLUMNS.join(',')}\n`);
      return;
    }
    // Streams from id-keyed batches; an error half-way cuts the download short (the
    // browser reports a failed download rather than saving half a file as if whole).
    await writeJobsCsv(ctx.db, q, res);
  });

  // ---- clear inactive -------------------------------------------------------------

  const clearPage = async (req: Request, res: Response): Promise<void> => {
    const actor = req.user as User;
    render(res, 'jobs/clear-confirm', {
      title: 'Clear inactive jobs',
      includesCommandLine: clearScope(actor).includeCommandLine,
      clearable: await clearableCounts(ctx.db, clearScope(actor)),
      // Named, so that nobody loses a finding aid shown on a description page unawares.
      results: await clearableResults(ctx.db, clearScope(actor)),
      back: back(req, localPath(queryValue(req, 'back'), '/jobs')),
    });
  };
  router.get('/jobs/clear-inactive', clearPage);
  router.post('/jobs/clear-inactive', async (req: Request, res: Response) => {
    const actor = req.user as User;
    // The confirmation step: without "confirm=yes" the form only asks.
    if (bodyValue(req, 'confirm') !== 'yes') return clearPage(req, res);
    const cleared = await ctx.service.cleanup.clearInactive(clearScope(actor));
    ctx.log.info(`${actor.username} cleared ${cleared} inactive job(s)`);
    await auditRequest(ctx, req, 'jobs.clear', `${cleared} job(s)`);
    flash(req, 'info', cleared === 0 ? 'There were no inactive jobs to clear.' : `Cleared ${cleared} inactive ${cleared === 1 ? 'job' : 'jobs'}.`);
    await saveAndRedirect(req, res, back(req, '/jobs'));
  });

  // ---- new job --------------------------------------------------------------------

  const newJobPage = async (
    req: Request,
    res: Response,
    taskName: string | null,
    values: Record<string, string>,
    error: string | null,
    status = 200,
  ): Promise<void> => {
    const tasks = runnableTasks(req.user as User);
    const task = tasks.find((t) => t.name === taskName) ?? null;
    const picksDescription = task ? Object.keys(task.params).some((n) => isDescriptionParam(task, n)) : false;
    render(
      res,
      'jobs/new',
      {
        title: task ? `New job: ${task.title}` : 'New job',
        // Archival tasks first; the diagnostic ones are grouped apart (administrators only).
        archival: tasks.filter((t) => !t.adminOnly),
        diagnostic: tasks.filter((t) => t.adminOnly),
        tasks,
        task,
        values,
        error,
        priorities: Object.keys(PRIORITIES),
        descriptions: picksDescription ? await searchDescriptions(ctx.db, '', DESCRIPTION_CHOICES) : [],
        form: { label: paramLabel, help: paramHelp, value: valueLabel, picksDescription: (n: string) => task !== null && isDescriptionParam(task, n) },
      },
      status,
    );
  };

  router.get('/jobs/new', (req, res) => {
    // An import needs a file uploaded with it: that form lives with the descriptions.
    if (queryValue(req, 'task') === 'csv-import') return res.redirect(303, '/descriptions/import');
    return (async () => {
      // The bell starts as the user's default (off unless turned on in the profile).
      const profile = await getProfile(ctx.db, (req.user as User).id);
      const values: Record<string, string> = { notify: profile?.notifyDefault ? 'true' : '' };
      // "Start a corrected job": the form filled in with a job's parameters and priority.
      const from = queryValue(req, 'from');
      if (from) {
        const job = await visibleJob(ctx, req.user as User, jobIdParam(from));
        if (job.task === queryValue(req, 'task')) {
          for (const [k, v] of Object.entries(job.params)) if (v !== null && typeof v !== 'object') values[k] = String(v);
          values.priority = priorityName(job.priority);
        }
      }
      return newJobPage(req, res, queryValue(req, 'task'), values, null);
    })();
  });

  router.post('/jobs', async (req: Request, res: Response) => {
    const actor = req.user as User;
    const taskName = bodyValue(req, 'task') ?? '';
    const def = runnableTasks(actor).find((t) => t.name === taskName);
    const values: Record<string, string> = {};
    const params: Record<string, unknown> = {};
    const body = (req.body ?? {}) as Record<string, unknown>;
    for (const name of Object.keys(def?.params ?? {})) {
      // A checkbox sends a hidden "false" and, when ticked, "true" after it: the last one wins.
      const v = one(body[`param.${name}`]);
      if (v === null) continue;
      values[name] = v;
      if (v !== '') params[name] = v;
    }
    const priority = bodyValue(req, 'priority') || 'normal';
    values.priority = priority;
    values.notify = one(body.notify) ?? '';
    try {
      if (!def) throw new HttpError(400, 'Choose a task from the list.');
      if (!Object.hasOwn(PRIORITIES, priority)) throw new HttpError(400, 'Choose a priority: high, normal or low.');
      await assertDescriptionsExist(ctx.db, def, params);
      const { job, joined, dispatched } = await ctx.service.enqueue({
        task: def.name,
        params,
        priority: priority as keyof typeof PRIORITIES,
        user: actor,
        origin: 'web',
        notify: values.notify === 'true',
      });
      flash(
        req,
        'info',
        joined
          ? `An unfinished job for the same work already existed: this is job ${job.id}.`
          : `Job ${job.id} is queued.` +
              (dispatched || ctx.transport.kind !== 'amqp' ? '' : ' The message broker is unreachable; the job is sent when it is back.'),
      );
      await saveAndRedirect(req, res, `/jobs/${job.id}`);
    } catch (err) {
      if (err instanceof HttpError && err.status < 500) return newJobPage(req, res, taskName, values, err.message, err.status);
      throw err;
    }
  });

  // ---- one job --------------------------------------------------------------------

  router.get('/jobs/:id', async (req: Request, res: Response) => {
    const actor = req.user as User;
    const job = await visibleJob(ctx, actor, jobIdParam(req.params.id));
    const eventsAfter = chunkCursorParam(queryValue(req, 'events_after'), 'an event id');
    const { events, next: eventsNext } = await eventsPage(ctx.db, job.id, eventsAfter, HISTORY_PAGE);
    const queue = await queueState(ctx);
    const worker = job.workerId ? await getWorker(ctx.db, job.workerId) : null;
    const subjects = await subjectsOf(ctx.db, [job]);
    subjects.params.set(job.id, job.params);
    const locals: Record<string, unknown> = {
      title: `Job ${job.id}: ${job.task}`,
      job,
      row: jobRow(job, actor, queue, subjects),
      events,
      eventsFirstHref: eventsAfter > 0 ? `/jobs/${job.id}#history-title` : null,
      eventsNextHref: eventsNext ? `/jobs/${job.id}?events_after=${eventsNext}#history-title` : null,
      worker,
      paramsText: JSON.stringify(job.params, null, 2),
      fragment: isFragment(req),
      bell: await bellState(ctx, actor, job),
      nextStep: nextStep(actor, job),
    };
    if (isFragment(req)) return render(res, 'jobs/_details', locals);
    const chunks = await readOutput(ctx.db, job.id, 0, INITIAL_CHUNKS);
    render(res, 'jobs/show', {
      ...locals,
      chunks,
      outputAfter: chunks.length ? chunks[chunks.length - 1].id : 0,
      outputMore: chunks.length === INITIAL_CHUNKS,
    });
  });

  router.get('/jobs/:id/output', outputHandler(ctx, 'page'));

  router.get('/jobs/:id/download', downloadHandler(ctx));

  router.post('/jobs/:id/cancel', async (req: Request, res: Response) => {
    const actor = req.user as User;
    const job = await visibleJob(ctx, actor, jobIdParam(req.params.id));
    if (!canCancel(actor, job)) {
      throw new ConflictError(`Job ${job.id} is ${STATUS_LABELS[job.status]}; only queued or running jobs can be cancelled.`);
    }
    const outcome = await ctx.service.cancel(job.id, actor.username);
    await auditRequest(ctx, req, 'job.cancel', `job ${job.id}`, { detail: outcome });
    flash(req, 'info', outcome === 'cancelled' ? `Job ${job.id} is cancelled.` : `Job ${job.id} is being stopped by its worker.`);
    await saveAndRedirect(req, res, back(req, `/jobs/${job.id}`));
  });

  router.post('/jobs/:id/retry', async (req: Request, res: Response) => {
    const actor = req.user as User;
    const job = await visibleJob(ctx, actor, jobIdParam(req.params.id));
    if (!canRetry(actor, job)) {
      throw new ConflictError(`Job ${job.id} is ${STATUS_LABELS[job.status]}; only failed or cancelled jobs can be retried.`);
    }
    assertMayRetryTask(actor, job);
    await ctx.service.retry(job.id, actor.username);
    await auditRequest(ctx, req, 'job.retry', `job ${job.id}`);
    flash(req, 'info', `Job ${job.id} is queued again.`);
    await saveAndRedirect(req, res, back(req, `/jobs/${job.id}`));
  });

  // ---- discard (Firefly's "discard"): a confirmation page, then the post ----------

  router.get('/jobs/:id/discard', async (req: Request, res: Response) => {
    const actor = req.user as User;
    const job = await visibleJob(ctx, actor, jobIdParam(req.params.id));
    assertMayDiscard(actor, job);
    render(res, 'jobs/discard-confirm', { title: `Discard job ${job.id}`, job, statusLabel: STATUS_LABELS[job.status] });
  });

  router.post('/jobs/:id/discard', async (req: Request, res: Response) => {
    const actor = req.user as User;
    const job = await visibleJob(ctx, actor, jobIdParam(req.params.id));
    assertMayDiscard(actor, job);
    if (bodyValue(req, 'confirm') !== 'yes') return res.redirect(303, `/jobs/${job.id}/discard`);
    await ctx.service.cleanup.discard(job.id);
    await auditRequest(ctx, req, 'job.discard', `job ${job.id}`, { detail: `${job.task}, ${job.status}` });
    flash(req, 'info', `Job ${job.id} is discarded.`);
    await saveAndRedirect(req, res, '/jobs');
  });

  return router;
}

/** A job's result file, under its own name; 404 unless the user may see the job. */
export function downloadHandler(ctx: Context) {
  return async (req: Request, res: Response): Promise<void> => {
    const actor = req.user as Actor;
    const job = await visibleJob(ctx, actor, jobIdParam(req.params.id));
    if (!job.resultFile) throw new NotFoundError(`Job ${job.id} has no result file.`);
    await sendStoredFile(ctx, res, job.resultFile, job.resultName ?? '', `The result file of job ${job.id} is gone.`);
  };
}
