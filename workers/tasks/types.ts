import type { Db } from '../../app/db.js';

/** One parameter a task accepts. Strings from the CLI (`--lines 5000`) are coerced. */
export interface ParamSpec {
  type: 'string' | 'integer' | 'number' | 'boolean' | 'enum';
  description: string;
  required?: boolean;
  default?: string | number | boolean;
  /** For `enum`. */
  values?: readonly string[];
  min?: number;
  max?: number;
  /** For strings; default 10,000 characters. */
  maxLength?: number;
}

/** What a running task may do. Handlers never touch their job's status. */
export interface TaskContext {
  readonly jobId: number;
  readonly attempt: number;
  readonly params: Record<string, unknown>;
  /** The jobs database, opened by the child process (archival tasks use it). */
  db(): Db;
  /** Report progress: `current` of `total` (Gearman's numerator/denominator) and a step text. */
  progress(current: number | null, total?: number | null, text?: string | null): void;
  /** A folder where the task writes its result file; see `TaskResult.file`. */
  readonly resultsDir: string;
  /** Aborted when the job is cancelled or its soft time limit passes. */
  readonly signal: AbortSignal;
}

export interface TaskResult {
  /** One line for the jobs page's Info column. */
  summary?: string;
  /** A result file the task wrote under `resultsDir` (its base name) and the name to offer. */
  file?: { stored: string; downloadName: string };
  /** The related record, e.g. `description:12`. */
  objectRef?: string;
}

export interface TaskDefinition {
  name: string;
  /** What the jobs page calls it, e.g. "Generate finding aid". */
  title: string;
  description: string;
  /** Diagnostic tasks (noop, sleep, print) are for administrators only. */
  adminOnly?: boolean;
  params: Record<string, ParamSpec>;
  /** Attempts in all, counting recoveries after a lost worker. Default 3. */
  maxAttempts?: number;
  /** Retry when the handler throws (not for `UnrecoverableError`). Default: no retry. */
  retryOnError?: { backoffMs: number };
  /** Jobs with the same key coalesce while one is unfinished. */
  uniqueKey?(params: Record<string, unknown>): string | null;
  /** The related record shown on the jobs page. */
  objectRef?(params: Record<string, unknown>): string | null;
  /** Soft limit: the task's signal is aborted; hard limit: the child is killed. */
  timeLimitMs?: { soft?: number; hard?: number };
  run(ctx: TaskContext): Promise<TaskResult | void>;
}
