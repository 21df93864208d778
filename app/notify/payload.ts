/**
 * What a notification says about its job: the API's job JSON (the fields of
 * `GET /api/jobs/:id`, built here from the same helpers, since the engine may not import
 * the web layer) and the template variables of webhook URLs, as Tapis names them.
 */
import { isoUtc } from '../dates.js';
import { jobInfo, jobUser } from '../export.js';
import { getTask } from '../tasks/index.js';
import { offersDownload, STATUS_LABELS, priorityName, type Job } from '../types.js';

const iso = (ms: number | null): string | null => (ms === null ? null : isoUtc(ms));

/** The job as the API shows it, with absolute links under `baseUrl`. */
export function jobPayload(j: Job, baseUrl: string) {
  return {
    id: j.id,
    task: j.task,
    title: getTask(j.task)?.title ?? j.task,
    status: j.status,
    statusLabel: STATUS_LABELS[j.status],
    user: jobUser(j),
    origin: j.origin,
    priority: priorityName(j.priority),
    attempt: j.attempt,
    queuedAt: iso(j.queuedAt),
    startedAt: iso(j.startedAt),
    finishedAt: iso(j.finishedAt),
    durationMs: j.startedAt === null || j.finishedAt === null ? null : j.finishedAt - j.startedAt,
    info: jobInfo(j) || null,
    error: j.error,
    resultSummary: j.resultSummary,
    objectRef: j.objectRef,
    params: j.params,
    maxAttempts: j.maxAttempts,
    download: offersDownload(j) ? `${baseUrl}/api/jobs/${j.id}/download` : null,
    links: {
      self: `${baseUrl}/api/jobs/${j.id}`,
      page: `${baseUrl}/jobs/${j.id}`,
      output: `${baseUrl}/api/jobs/${j.id}/output`,
      events: `${baseUrl}/api/jobs/${j.id}/events`,
    },
  };
}

/** The variables of a webhook URL (Tapis' names; `JOB_RESULT_URL` is its `JOB_ARCHIVE_URL`). */
export function templateVariables(j: Job, event: string, baseUrl: string): Record<string, string> {
  return {
    JOB_ID: String(j.id),
    JOB_NAME: j.task,
    JOB_STATUS: j.status,
    EVENT: event,
    JOB_OWNER: jobUser(j),
    JOB_SUBMIT_TIME: iso(j.queuedAt) ?? '',
    JOB_START_TIME: iso(j.startedAt) ?? '',
    JOB_END_TIME: iso(j.finishedAt) ?? '',
    JOB_ERROR: j.error ?? '',
    JOB_URL: `${baseUrl}/api/jobs/${j.id}`,
    JOB_RESULT_URL: `${baseUrl}/api/jobs/${j.id}/download`,
  };
}

export const TEMPLATE_VARIABLES = Object.keys(
  templateVariables({ id: 0, task: '', status: 'queued', queuedAt: 0, startedAt: null, finishedAt: null, error: null, username: null } as unknown as Job, '', ''),
);

/**
 * `${NAME}` replaced by its value, URL-encoded (the whole of a value lands inside the
 * URL, so `&`, `/` or `#` in an error cannot change where the request goes). An unknown
 * name is left as written; validation refuses it at enqueue.
 */
export function expandUrl(template: string, vars: Record<string, string>): string {
  return template.replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) =>
    Object.hasOwn(vars, name) ? encodeURIComponent(vars[name]) : whole,
  );
}
