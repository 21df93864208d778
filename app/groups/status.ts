/**
 * A group's combined status, in the envelope queue's words, and the integer codes that
 * scripts may test instead of words (Swift's `statusCode`). Both lists are part of the
 * API: append, never renumber.
 *
 * - Queued: nothing has started yet.
 * - SuccessActive: something queued or running, nothing failed.
 * - ErrorsActive: something queued or running, and something failed.
 * - Success: every job completed.
 * - Errors: every job ended, and one failed (a chain's later steps are then cancelled).
 * - Cancelled: every job ended, none failed, and one was cancelled.
 */
import type { StatusCounts } from '../store/group-read.js';
import type { JobStatus } from '../types.js';

export const GROUP_STATUSES = ['Queued', 'SuccessActive', 'ErrorsActive', 'Success', 'Errors', 'Cancelled'] as const;
export type GroupStatus = (typeof GROUP_STATUSES)[number];

export const GROUP_STATUS_CODES: Record<GroupStatus, number> = {
  Queued: 0,
  SuccessActive: 1,
  ErrorsActive: 2,
  Success: 3,
  Errors: 4,
  Cancelled: 5,
};

export const JOB_STATUS_CODES: Record<JobStatus, number> = {
  queued: 0,
  running: 1,
  completed: 2,
  failed: 3,
  cancelled: 4,
};

export function groupStatus(c: StatusCounts): { status: GroupStatus; complete: boolean } {
  const active = c.queued + c.running;
  const ended = c.completed + c.failed + c.cancelled;
  if (active > 0) {
    if (c.running === 0 && ended === 0) return { status: 'Queued', complete: false };
    return { status: c.failed > 0 ? 'ErrorsActive' : 'SuccessActive', complete: false };
  }
  if (c.failed > 0) return { status: 'Errors', complete: true };
  if (c.cancelled > 0) return { status: 'Cancelled', complete: true };
  return { status: 'Success', complete: true };
}
