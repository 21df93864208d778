/**
 * A `jobs` row as the code sees it: the full job, or the light summary of the jobs page.
 */
import type { Row } from './raw.js';
import type { Job, JobOrigin, JobStatus, JobSummary, ProgressStep } from '../types.js';

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** A stored step list; anything unreadable counts as none (progress is a hint). */
function parseSteps(v: unknown): ProgressStep[] | null {
  if (typeof v !== 'string' || v === '') return null;
  try {
    const steps = JSON.parse(v) as unknown;
    return Array.isArray(steps) ? (steps as ProgressStep[]) : null;
  } catch {
    return null;
  }
}

export function rowToJob(r: Row): Job {
  return {
    id: Number(r.id),
    task: String(r.task),
    params: typeof r.params === 'string' ? (JSON.parse(r.params) as Record<string, unknown>) : {},
    status: r.status as JobStatus,
    priority: Number(r.priority),
    userId: num(r.user_id),
    username: (r.username as string | null) ?? null,
    origin: r.origin as JobOrigin,
    uniqueKey: (r.unique_key as string | null) ?? null,
    attempt: Number(r.attempt),
    maxAttempts: Number(r.max_attempts),
    workerId: (r.worker_id as string | null) ?? null,
    leaseExpiresAt: num(r.lease_expires_at),
    queuedAt: Number(r.queued_at),
    dispatchedAt: num(r.dispatched_at),
    runAfter: num(r.run_after),
    startedAt: num(r.started_at),
    finishedAt: num(r.finished_at),
    progressCurrent: num(r.progress_current),
    progressTotal: num(r.progress_total),
    progressText: (r.progress_text as string | null) ?? null,
    resultSummary: (r.result_summary as string | null) ?? null,
    resultFile: (r.result_file as string | null) ?? null,
    resultName: (r.result_name as string | null) ?? null,
    objectRef: (r.object_ref as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    failureKind: r.failure_kind === 'input' ? 'input' : null,
    cancelRequestedBy: (r.cancel_requested_by as string | null) ?? null,
    outputBytes: Number(r.output_bytes ?? 0),
    outputTruncated: Boolean(Number(r.output_truncated ?? 0)),
    groupId: num(r.group_id),
    groupSeq: num(r.group_seq),
    progressSteps: parseSteps(r.progress_steps),
  };
}

/** The light columns of the jobs page: never params or output. */
export const SUMMARY_COLUMNS = [
  'id',
  'task',
  'status',
  'priority',
  'user_id',
  'username',
  'origin',
  'attempt',
  'queued_at',
  'started_at',
  'finished_at',
  'progress_current',
  'progress_total',
  'progress_text',
  'result_summary',
  'result_file',
  'object_ref',
  'error',
  'failure_kind',
] as const;

export function rowToSummary(r: Row): JobSummary {
  return {
    id: Number(r.id),
    task: String(r.task),
    status: r.status as JobStatus,
    priority: Number(r.priority),
    userId: num(r.user_id),
    username: (r.username as string | null) ?? null,
    origin: r.origin as JobOrigin,
    attempt: Number(r.attempt),
    queuedAt: Number(r.queued_at),
    startedAt: num(r.started_at),
    finishedAt: num(r.finished_at),
    progressCurrent: num(r.progress_current),
    progressTotal: num(r.progress_total),
    progressText: (r.progress_text as string | null) ?? null,
    resultSummary: (r.result_summary as string | null) ?? null,
    resultFile: (r.result_file as string | null) ?? null,
    objectRef: (r.object_ref as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    failureKind: r.failure_kind === 'input' ? 'input' : null,
  };
}
