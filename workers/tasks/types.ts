import type { Readable } from 'node:stream';
import type { Db } from '../../app/db.js';
import type { FileInfo, PutSource, StoredFile } from '../../app/files/index.js';
import type { TaskSpec } from '../../app/tasks/types.js';

/** What a running task may do. Handlers never touch their job's status. */
export interface TaskContext {
  readonly jobId: number;
  readonly attempt: number;
  readonly params: Record<string, unknown>;
  /** The jobs database, opened by the child process (archival tasks use it). */
  db(): Db;
  /** Report progress: `current` of `total` (Gearman's numerator/denominator) and a step text. */
  progress(current: number | null, total?: number | null, text?: string | null): void;
  /**
   * Declares the task's steps to come, each shown as waiting (Swift's `ProgressSteps`).
   * Optional, like `step`, so that a context made by hand (a benchmark, a test) needs neither.
   */
  steps?(labels: string[]): void;
  /**
   * Makes `label` the active step (the ones before it done), with its sub-steps:
   * `ctx.step('Import rows', { current: 3000, total: 12000, text: 'Working on row 3,000 / 12,000' })`.
   */
  step?(label: string, detail?: { current?: number | null; total?: number | null; text?: string | null }): void;
  /** This host's results folder: files of jobs from before the file store, and scratch space. */
  readonly resultsDir: string;
  /** A file of the store (an upload the job's params name), streamed; NotFoundError if gone. */
  openFile(id: string): Promise<StoredFile>;
  /**
   * Streams a result into the file store as a file of this job, readable from every host;
   * return its id as `TaskResult.file.stored`. Nothing is left behind if `source` fails.
   */
  putResult(source: PutSource | Readable, name: string, contentType: string): Promise<FileInfo>;
  /** Aborted when the job is cancelled or its soft time limit passes. */
  readonly signal: AbortSignal;
}

export interface TaskResult {
  /** One line for the jobs page's Info column. */
  summary?: string;
  /** The result file: its file store id (from `putResult`) and the name to offer. */
  file?: { stored: string; downloadName: string };
  /** The related record, e.g. `description:12`. */
  objectRef?: string;
}

/**
 * What a failing job still leaves: its error carries a result (a summary, a file) that the
 * job keeps although it failed, e.g. a failed import's CSV of the rows it did not import.
 * Kept only when the failure is final; a retried or cancelled attempt's file is removed.
 */
export function withResult<E extends Error>(err: E, result: TaskResult): E {
  (err as E & { result?: TaskResult }).result = result;
  return err;
}

/** The result a thrown error carries (see withResult), or undefined. */
export function resultOf(err: unknown): TaskResult | undefined {
  const r = (err as { result?: unknown } | null)?.result;
  return r && typeof r === 'object' ? (r as TaskResult) : undefined;
}

/** A task's spec (from the catalogue, `app/tasks/`) with its handler. */
export interface TaskDefinition extends TaskSpec {
  run(ctx: TaskContext): Promise<TaskResult | void>;
}
