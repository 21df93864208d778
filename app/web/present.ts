/**
 * How a job reads on the pages and in the API: dates, durations, progress, the info
 * line, why a queued job waits. Pages and API use the same functions, so they say the
 * same things.
 */
import { JOB_STATUS_CODES } from '../groups/status.js';
import { stepsOf, stepsText } from '../steps.js';
import { isoUtc } from '../dates.js';
import { formatDate, jobInfo, jobUser } from '../export.js';
import { canCancel, canDiscard, canRetry, type Actor } from '../policy.js';
import { mayRetryTask } from './jobs-query.js';
import { FINAL_STATUSES, offersDownload, STATUS_LABELS, priorityName, type JobStatus, type Job, type JobEvent, type JobSummary, type OutputChunk } from '../types.js';
import { getTask } from '../tasks/index.js';
import { recordLink } from './links.js';

/** What the page knows about the system when it explains why a queued job waits. */
export interface QueueState {
  paused: boolean;
  pausedReason: string | null;
  /** The transport's state: `up`, or the broker is unreachable. */
  brokerUp: boolean;
  /** Tasks some active worker runs; null when unknown. */
  abilities: Set<string> | null;
}

export function isoDate(ms: number | null): string | null {
  return ms === null ? null : isoUtc(ms);
}

/** `formatDate` of the same instant, from its ISO form (one Date per date, not two). */
function shownDate(iso: string | null): string {
  return iso === null ? 'N/A' : `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** "just now", "42 s ago", "3 min ago", "5 h ago", "3 days ago", then the date. */
export function relativeTime(ms: number | null, now = Date.now()): string {
  if (ms === null) return 'N/A';
  const s = Math.round((now - ms) / 1000);
  if (s < 0) return 'just now'; // another host's clock a little ahead
  if (s < 10) return 'just now';
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ago`;
  const d = Math.floor(h / 24);
  if (d < 7) return d === 1 ? 'yesterday' : `${d} days ago`;
  return isoUtc(ms).slice(0, 10);
}

/** "850 ms", "4.2 s", "3 min 5 s", "2 h 14 min". */
export function formatDuration(ms: number | null): string {
  if (ms === null || ms < 0) return 'N/A';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.floor(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function durationOf(j: Pick<JobSummary, 'startedAt' | 'finishedAt'>, now = Date.now()): number | null {
  if (j.startedAt === null) return null;
  return (j.finishedAt ?? now) - j.startedAt;
}

export interface Progress {
  current: number | null;
  total: number | null;
  /** 0–100 when a total is known. */
  percent: number | null;
  text: string | null;
  /** "line 3 of 10 · 30 %": the step text (or "3 of 10") and the percentage when a total is known. */
  label: string;
}

export function progressOf(j: Pick<JobSummary, 'progressCurrent' | 'progressTotal' | 'progressText'> & { status?: JobStatus }): Progress | null {
  const { progressCurrent: current, progressTotal: total } = j;
  // The step a finished job was on ("checking the file") is no longer what it does: only
  // the count it reached stays.
  const over = j.status !== undefined && FINAL_STATUSES.includes(j.status);
  const text = over ? null : j.progressText;
  if (over && !total) return null;
  if (current === null && total === null && !text) return null;
  const percent = total ? Math.max(0, Math.min(100, Math.round(((current ?? 0) / total) * 100))) : null;
  // The step text usually says the count already ("line 4 of 20"); the count stands in when there is none.
  const count = total ? `${current ?? 0} of ${total}` : current !== null ? String(current) : '';
  return { current, total, percent, text, label: [text || count, percent !== null ? `${percent} %` : ''].filter(Boolean).join(' · ') };
}

export function taskTitle(task: string): string {
  return getTask(task)?.title ?? task;
}

/** Why a queued job has not started, in words; null when it just waits its turn. */
export function waitingReason(j: Pick<JobSummary, 'status' | 'task'>, q: QueueState | null): string | null {
  if (j.status !== 'queued' || !q) return null;
  if (q.paused) return `Waiting: processing is paused${q.pausedReason ? ` (${q.pausedReason})` : ''}.`;
  if (!q.brokerUp) return 'Waiting: the message broker is unreachable; the job is sent when it is back.';
  if (q.abilities && !q.abilities.has(j.task)) return `Waiting: no running worker takes "${j.task}" jobs.`;
  return null;
}

export const downloadPath = (id: number): string => `/jobs/${id}/download`;

/** What a page knows about the jobs it shows beyond their light columns (see store/job-subjects.ts). */
export interface Subjects {
  params: Map<number, Record<string, unknown>>;
  /** Description titles by the reference in `objectRef` (an id or a slug). */
  titles: Map<string, string>;
}

const text = (v: unknown): string | null => (typeof v === 'string' && v.trim() !== '' ? v.trim() : null);
const baseName = (path: string): string => path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);

/**
 * The name of the file a job reads, from its parameters: the name the user uploaded
 * (`fileName`, `originalName`, `sourceName`, or a stored file's `{ name }`) before the
 * stored path's last part, which for an upload is a random name.
 */
export function uploadName(params: Record<string, unknown> | undefined): string | null {
  if (!params) return null;
  const file = params.file;
  const stored = file && typeof file === 'object' ? text((file as Record<string, unknown>).name) : null;
  const named = text(params.fileName) ?? text(params.originalName) ?? stored ?? text(params.sourceName);
  if (named) return baseName(named);
  return typeof file === 'string' && file !== '' ? baseName(file) : null;
}

/** The related record, with its title when the page looked it up; the reference stays visible. */
function subjectRecord(ref: string | null, s: Subjects | null) {
  const link = recordLink(ref);
  if (!link || !ref) return null;
  const id = ref.slice(ref.indexOf(':') + 1);
  const title = ref.startsWith('description:') ? s?.titles.get(id) : undefined;
  return { ...link, title: title ?? null, ref: id };
}

/** The form that starts a corrected job: the upload form for an import, else the job form filled in. */
export function correctionHref(j: Pick<JobSummary, 'id' | 'task'>): string {
  return j.task === 'csv-import' ? `/descriptions/import?corrects=${j.id}` : `/jobs/new?task=${encodeURIComponent(j.task)}&from=${j.id}`;
}

/** One row of the jobs table. */
export function jobRow(j: JobSummary, actor: Actor, q: QueueState | null, s: Subjects | null = null, now = Date.now()) {
  const queuedIso = isoDate(j.queuedAt);
  const startedIso = isoDate(j.startedAt);
  const endedIso = isoDate(j.finishedAt);
  const progress = progressOf(j);
  let info = waitingReason(j, q) ?? jobInfo(j);
  // A running job's step is in its progress already.
  if (progress && info === j.progressText) info = '';
  const file = s ? uploadName(s.params.get(j.id)) : null;
  return {
    id: j.id,
    task: j.task,
    title: taskTitle(j.task),
    /** What the job is about beyond its task: the file an import reads. */
    file,
    status: j.status,
    statusLabel: STATUS_LABELS[j.status],
    queued: shownDate(queuedIso),
    queuedAgo: relativeTime(j.queuedAt, now),
    queuedIso,
    started: shownDate(startedIso),
    startedAgo: relativeTime(j.startedAt, now),
    startedIso,
    ended: shownDate(endedIso),
    endedAgo: relativeTime(j.finishedAt, now),
    endedIso,
    progress,
    info,
    attempt: j.attempt,
    download: offersDownload(j) ? downloadPath(j.id) : null,
    record: subjectRecord(j.objectRef, s),
    user: jobUser(j),
    canCancel: canCancel(actor, j),
    // A failure on the job's own input would only happen again: no Retry (README, "Retry").
    canRetry: canRetry(actor, j) && mayRetryTask(actor, j) && j.failureKind !== 'input',
    failedOnInput: j.status === 'failed' && j.failureKind === 'input',
    /** Where Retry would be, for a job that failed on its input: the form to correct it. */
    correctHref: j.status === 'failed' && j.failureKind === 'input' && mayRetryTask(actor, j) ? correctionHref(j) : null,
    canDiscard: canDiscard(actor, j),
  };
}
export type JobRow = ReturnType<typeof jobRow>;

/** A job in the API: the light fields (lists) or everything (one job). */
export function jobJson(j: JobSummary | Job, q: QueueState | null = null) {
  const full = 'params' in j;
  const base = {
    id: j.id,
    task: j.task,
    title: taskTitle(j.task),
    status: j.status,
    statusLabel: STATUS_LABELS[j.status],
    user: jobUser(j),
    origin: j.origin,
    priority: priorityName(j.priority),
    attempt: j.attempt,
    queuedAt: isoDate(j.queuedAt),
    startedAt: isoDate(j.startedAt),
    finishedAt: isoDate(j.finishedAt),
    durationMs: durationOf(j),
    progress: progressOf(j),
    info: waitingReason(j, q) ?? (jobInfo(j) || null),
    error: j.error,
    /** `input`: the job's own input was refused, and a retry is refused too (409). */
    failureKind: j.failureKind,
    resultSummary: j.resultSummary,
    objectRef: j.objectRef,
    download: offersDownload(j) ? `/api/jobs/${j.id}/download` : null,
    links: {
      self: `/api/jobs/${j.id}`,
      page: `/jobs/${j.id}`,
      output: `/api/jobs/${j.id}/output`,
      events: `/api/jobs/${j.id}/events`,
    },
  };
  if (!full) return base;
  const job = j as Job;
  const steps = stepsOf(job);
  return {
    ...base,
    params: job.params,
    maxAttempts: job.maxAttempts,
    workerId: job.workerId,
    cancelRequestedBy: job.cancelRequestedBy,
    resultName: job.resultName,
    outputBytes: job.outputBytes,
    outputTruncated: job.outputTruncated,
    statusCode: JOB_STATUS_CODES[job.status],
    group: job.groupId === null ? null : { id: job.groupId, step: (job.groupSeq ?? 0) + 1, link: `/api/groups/${job.groupId}` },
    steps: steps?.map((s) => ({ label: s.label, status: s.status, statusWord: s.statusWord, extra: s.extra, current: s.current, total: s.total, runningMs: s.runningMs })) ?? null,
    stepsText: stepsText(steps),
    /** The failed import this job corrects (the upload form's "Import a corrected file"). */
    corrects: typeof job.params.corrects === 'number' ? { id: job.params.corrects, link: `/api/jobs/${job.params.corrects}` } : null,
  };
}

export function eventJson(e: JobEvent) {
  return { id: e.id, at: isoDate(e.at), type: e.type, attempt: e.attempt, actor: e.actor, message: e.message };
}

export function chunkJson(c: OutputChunk) {
  return { id: c.id, attempt: c.attempt, stream: c.stream, at: isoDate(c.at), text: c.text };
}

/** Helpers every view can call. */
export const viewHelpers = {
  formatDate,
  isoDate,
  formatDuration,
  durationOf,
  progressOf,
  stepsOf,
  taskTitle,
  jobUser,
  recordLink,
  statusLabel: (s: keyof typeof STATUS_LABELS) => STATUS_LABELS[s],
};

const days = (n: number): string => `${n} ${n === 1 ? 'day' : 'days'}`;

/** The retention rule as the jobs page states it: "Finished jobs are kept 30 days; failed ones 90 days." */
export function retentionText(c: { retentionDays: number; retentionFailedDays: number }): string {
  const { retentionDays: done, retentionFailedDays: failed } = c;
  if (done === 0 && failed === 0) return 'Finished jobs are kept until they are cleared.';
  if (done === failed) return `Finished jobs are kept ${days(done)}.`;
  if (done === 0) return `Failed jobs are kept ${days(failed)}; completed and cancelled ones until they are cleared.`;
  if (failed === 0) return `Finished jobs are kept ${days(done)}; failed ones until they are cleared.`;
  return `Finished jobs are kept ${days(done)}; failed ones ${days(failed)}.`;
}
