/**
 * What an attempt's end means, decided from what the worker saw of it, with no process,
 * timer or database in sight (so that every case is tested in test/unit/outcome.test.ts).
 * The worker then reports the verdict to the JobService, which alone changes the job's
 * status (a failure may still become a retry there, if attempts remain).
 */
import type { ChildMessage } from './protocol.js';
import type { TaskResult } from './tasks/types.js';

/** The child's last word on the job: it finished, or its handler threw. */
export type Reply = Extract<ChildMessage, { type: 'done' | 'error' }>;

/** Everything that decides an attempt's end. */
export interface AttemptReport {
  /** The job was taken from this worker (recovered elsewhere, or handed back on stop). */
  taken: boolean;
  /** The output could not be stored (the message says why). */
  outputError: string | null;
  /** The output failed in the database (a passing outage), not in the log file. */
  outputTransient?: boolean;
  /** Who asked to cancel the job while it ran. */
  cancelBy: string | null;
  /** The time limit that was reached, as a sentence. */
  timeLimit: string | null;
  reply: Reply | null;
  /** How the child process ended, when it did (a crash, a kill). */
  exit: { code: number | null; signal: string | null } | null;
  /** The task's backoff for a retry after an error; null when errors are not retried. */
  retryBackoffMs: number | null;
}

export type Verdict =
  /** Nothing to write: the job is no longer this attempt's. */
  | { kind: 'taken' }
  | { kind: 'completed'; result: TaskResult }
  | { kind: 'cancelled'; by: string }
  | {
      kind: 'failed';
      /** What failed: storing the output, the time limit, the task, or its process. */
      cause: 'output' | 'time-limit' | 'task' | 'signal' | 'exit';
      message: string;
      /** Fail now, whatever attempts remain. */
      unrecoverable: boolean;
      /** Not the job's fault (the database stayed away): retry at once if attempts remain. */
      transient?: boolean;
      /** The job's own input was refused (InputError): marked so that nobody retries it. */
      permanent?: boolean;
      /** Retry after this long (doubled per attempt) if attempts remain; null: no retry. */
      retryBackoffMs: number | null;
      /** What the task left although it failed (its error's result): kept if the failure is final. */
      result?: TaskResult;
    };

/**
 * The verdict, by precedence: a take-over, then a failed output store, then a cancel
 * request, then a time limit (unless the job finished just in time), then the child's
 * reply, and last the way its process ended.
 */
export function decideOutcome(r: AttemptReport): Verdict {
  if (r.taken) return { kind: 'taken' };
  if (r.outputError !== null) {
    return r.outputTransient
      ? { kind: 'failed', cause: 'output', message: r.outputError, unrecoverable: false, transient: true, retryBackoffMs: null }
      : { kind: 'failed', cause: 'output', message: r.outputError, unrecoverable: true, retryBackoffMs: null };
  }
  if (r.cancelBy) return { kind: 'cancelled', by: r.cancelBy };
  if (r.timeLimit && (!r.reply || r.reply.type === 'error')) {
    return { kind: 'failed', cause: 'time-limit', message: r.timeLimit, unrecoverable: true, retryBackoffMs: null };
  }
  if (r.reply?.type === 'done') return { kind: 'completed', result: r.reply.result };
  if (r.reply?.type === 'error') {
    const { message, unrecoverable, permanent, result } = r.reply;
    return {
      kind: 'failed',
      cause: 'task',
      message,
      unrecoverable,
      permanent: permanent === true,
      retryBackoffMs: r.retryBackoffMs,
      ...(result ? { result } : {}),
    };
  }
  const signal = r.exit?.signal;
  return {
    kind: 'failed',
    cause: signal ? 'signal' : 'exit',
    message: signal
      ? `the job's process was killed by ${signal}`
      : `the job's process exited with code ${r.exit?.code ?? 'unknown'} before finishing`,
    unrecoverable: false,
    retryBackoffMs: r.retryBackoffMs,
  };
}

/**
 * A clean end: the child finished its job and nothing was done to it. Its child is then
 * free at once; after a cancel, a time limit or a take-over it is not (see slotFate).
 */
export function endedCleanly(r: Pick<AttemptReport, 'reply' | 'cancelBy' | 'timeLimit' | 'taken'>): boolean {
  return r.reply?.type === 'done' && !r.cancelBy && !r.timeLimit && !r.taken;
}

/**
 * What becomes of a child after its job: kept for the next job, recycled (SIGTERM) after
 * `maxJobs` jobs or past `maxMemoryMb`, or killed (SIGKILL) when the job was cancelled,
 * timed out or taken, since it may still be running that job.
 */
export function slotFate(
  r: Pick<AttemptReport, 'reply' | 'cancelBy' | 'timeLimit' | 'taken'>,
  jobsRun: number,
  limits: { maxJobs: number; maxMemoryMb: number },
): 'keep' | 'recycle' | 'kill' {
  if (r.cancelBy || r.timeLimit || r.taken) return 'kill';
  const rss = r.reply?.rss ?? 0;
  if (jobsRun >= limits.maxJobs || rss > limits.maxMemoryMb * 1024 * 1024) return 'recycle';
  return 'keep';
}
