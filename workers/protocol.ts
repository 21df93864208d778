/** Messages between a worker and its child processes (over Node's IPC channel). */
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
  | { type: 'progress'; jobId: number; current: number | null; total: number | null; text: string | null }
  | { type: 'done'; jobId: number; result: TaskResult; rss: number }
  | {
      type: 'error';
      jobId: number;
      message: string;
      unrecoverable: boolean;
      stack: string | null;
      rss: number;
    };

/** Written by the child to stdout and stderr after a job; never shown. */
export function sentinel(jobId: number, attempt: number): string {
  return `\u0000docket-end ${jobId}.${attempt}\u0000`;
}
