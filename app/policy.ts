/**
 * The one permission policy: pages, API and CLI ask here whether a user may see,
 * cancel, retry or clear a job, and run a task. `null` is the command line, which acts as an
 * administrator (it runs on the server with the database's credentials).
 *
 * An archivist may not even learn that another user's job exists: callers turn a
 * refused `canSee` into 404, never 403.
 */
import { ForbiddenError } from './errors.js';
import type { TaskSpec } from './tasks/types.js';
import type { Job, JobSummary, User } from './types.js';

export type Actor = User | null;

export const isAdmin = (a: Actor): boolean => a === null || a.role === 'admin';

type Owned = Pick<Job | JobSummary, 'userId' | 'status'>;

export function canSee(a: Actor, job: Owned): boolean {
  return isAdmin(a) || (a !== null && job.userId === a.id);
}

export function canCancel(a: Actor, job: Owned): boolean {
  return canSee(a, job) && (job.status === 'queued' || job.status === 'running');
}

export function canRetry(a: Actor, job: Owned): boolean {
  return canSee(a, job) && (job.status === 'failed' || job.status === 'cancelled');
}

/**
 * Whether a request may join an unfinished job with the same unique key instead of
 * getting its own: only a request of the job's owner (the same user, or the command line
 * for a command-line job). A join answers with the job, and adds the requester's name to
 * its history, so a join across owners would show one user another's job; an
 * administrator's request gets its own job too, so that the owner's cancel does not
 * cancel it (docs/adr/0005-joins-within-one-owner.md).
 */
export function mayJoin(requester: { userId: number | null }, job: Pick<Job, 'userId'>): boolean {
  return job.userId === requester.userId;
}

/** Whose inactive jobs a user clears: their own; administrators also command-line jobs. */
export function clearScope(a: Actor): { userId: number | null; includeCommandLine: boolean } {
  if (a === null) return { userId: null, includeCommandLine: true };
  return { userId: a.id, includeCommandLine: a.role === 'admin' };
}

/**
 * Discarding one job asks what clearing inactive jobs asks: a finished job in the
 * user's clear scope (their own; administrators also the command line's).
 */
export function canDiscard(a: Actor, job: Owned): boolean {
  if (!canSee(a, job) || !(job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled')) return false;
  const scope = clearScope(a);
  return (scope.userId === null || job.userId === scope.userId) || (scope.includeCommandLine && job.userId === null);
}

/** Whose jobs a listing shows: everyone's for administrators, one's own otherwise. */
export function listScope(a: Actor): { userId: number | null } {
  return isAdmin(a) ? { userId: null } : { userId: (a as User).id };
}

export function canAdminister(a: Actor): boolean {
  return isAdmin(a);
}

/** Diagnostic tasks are for administrators (and the command line) only. */
export function assertMayRun(task: Pick<TaskSpec, 'name' | 'adminOnly'>, a: Actor): void {
  if (task.adminOnly && !isAdmin(a)) {
    throw new ForbiddenError(`the task "${task.name}" is for administrators only`);
  }
}
