/** Messages between a worker and its child processes (over Node's IPC channel). */
import type { ProgressStep } from '../app/types.js';
import type { TaskResult } from './tasks/types.js';

export type ParentMessage =
  | {
      type: 'run';
      job: { id: number; attempt: number; task: string; params: Record<string, unknown> };
      resultsDir: string;
    }
  | { type: 'abort'; jobId: number; reason: string };

export type ChildMessage =
  | { type: 'ready'; pid: number }
  | {
      type: 'progress';
      jobId: number;
      current: number | null;
      total: number | null;
      text: string | null;
      /** The whole step list, when the task reports steps (workers/steps.ts). */
      steps?: ProgressStep[];
    }
  | { type: 'done'; jobId: number; result: TaskResult; rss: number }
  | {
      type: 'error';
      jobId: number;
      message: string;
      unrecoverable: boolean;
      /** The job's own input was refused (InputError): never retried. */
      permanent?: boolean;
      /** What the failed job still leaves (a summary, a file): see withResult. */
      result?: TaskResult;
      stack: string | null;
      rss: number;
    };

/** Written by the child to stdout and stderr after a job; never shown. */
export function sentinel(jobId: number, attempt: number): string {
  return `\u0000docket-end ${jobId}.${attempt}\u0000`;
}

/**
 * Where a start of `mark` at the very end of `buf` begins (the rest may come in the next
 * read), or `buf.length` when the buffer cannot end with one. Only the last bytes are read.
 */
export function sentinelStart(buf: Buffer, mark: Buffer): number {
  const first = mark[0];
  for (let i = Math.max(0, buf.length - mark.length + 1); i < buf.length; i++) {
    i = buf.indexOf(first, i);
    if (i < 0) break;
    if (buf.compare(mark, 0, buf.length - i, i) === 0) return i;
  }
  return buf.length;
}
