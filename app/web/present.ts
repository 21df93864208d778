/**
 * How a job reads on the pages and in the API: dates, durations, progress, the info
 * line, why a queued job waits. Pages and API use the same functions, so they say the
 * same things.
 */
import { JOB_STATUS_CODES } from '../groups/status.js';
import { stepsOf, stepsText } from '../steps.js';
import { isoUtc } from '../dates.js';
import { formatDate, jobInfo, jobUser } from '../export.js';
import { canCancel, canRetry, type Actor } from '../policy.js';
import { mayRetryTask } from './jobs-query.js';
import { STATUS_LABELS, priorityName, type Job, type JobEvent, type JobSummary, type OutputChunk } from '../types.js';
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

export function progressOf(j: Pick<JobSummary, 'progressCurrent' | 'progressTotal' | 'progressText'>): Progress | null {
  const { progressCurrent: current, progressTotal: total, progressText: text } = j;
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

/** One row of the jobs table. */
export function jobRow(j: JobSummary, actor: Actor, q: QueueState | null) {
  const queuedIso = isoDate(j.queuedAt);
  const startedIso = isoDate(j.startedAt);
  const endedIso = isoDate(j.finishedAt);
  return {
    id: j.id,
    task: j.task,
    title: taskTitle(j.task),
    status: j.status,
    statusLabel: STATUS_LABELS[j.status],
    queued: shownDate(queuedIso),
    queuedIso,
    started: shownDate(startedIso),
    startedIso,
    ended: shownDate(endedIso),
    endedIso,
    progress: progressOf(j),
    info: waitingReason(j, q) ?? jobInfo(j),
    attempt: j.attempt,
    download: j.status === 'completed' && j.resultFile ? downloadPath(j.id) : null,
    record: recordLink(j.objectRef),
    user: jobUser(j),
    canCancel: canCancel(actor, j),
    canRetry: canRetry(actor, j) && mayRetryTask(actor, j),
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
    resultSummary: j.resultSummary,
    objectRef: j.objectRef,
    download: j.status === 'completed' && j.resultFile ? `/api/jobs/${j.id}/download` : null,
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
