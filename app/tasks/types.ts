/**
 * What a task is, apart from how it runs: its name, its parameters and the rules the
 * engine applies to its jobs. Web, CLI and workers all read these specs from the
 * catalogue (`./index.ts`); a task's handler (`run`) lives in `workers/tasks/`, so that
 * the web process never loads a handler or what it needs (csv-parse, pdfkit).
 */
import type { Db } from '../db.js';

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
  /**
   * The parameter names a file the job reads, held in the file store (its id). The CLI
   * uploads a path given for it from the machine where it runs; the web and the API take
   * it as the upload of their form.
   */
  upload?: boolean;
}

export interface TaskSpec {
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
  /**
   * Jobs with the same key coalesce while one is unfinished, and only within one owner
   * (`mayJoin` in policy.ts). The key names everything that changes the job's output, so
   * that requests for different results are different jobs; it may read the database to
   * put a reference in one form (a slug and an id of the same description key alike).
   */
  uniqueKey?(params: Record<string, unknown>, db: Db): string | null | Promise<string | null>;
  /** The related record shown on the jobs page. */
  objectRef?(params: Record<string, unknown>): string | null;
  /** Soft limit: the task's signal is aborted; hard limit: the child is killed. */
  timeLimitMs?: { soft?: number; hard?: number };
  /**
   * The files a job's parameters own (an upload it reads): file store ids, or for a job
   * queued before the store, the upload's path under `<resultsDir>/uploads`. They are
   * removed through the store when the job is cleared, as are every file the store holds
   * for the job (its results); the store never removes a path outside the uploads folder,
   * so a file the parameters merely name (an administrator's own CSV) is never one of them.
   * A task that declares `files` (even none) has its job's stored files removed on a clear.
   */
  files?(params: Record<string, unknown>): string[];
}
