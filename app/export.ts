import { stringify as stringifySync } from 'csv-stringify/sync';
import type { Writable } from 'node:stream';
import { isoUtc } from './dates.js';
import type { Db } from './db.js';
import { listJobs, type JobPage, type ListQuery } from './store/job-list.js';
import { STATUS_LABELS, type JobSummary } from './types.js';

/** AtoM's six columns first, in its order; ours after. */
export const CSV_COLUMNS = ['startDate', 'endDate', 'jobName', 'jobStatus', 'jobInfo', 'jobUser', 'jobId', 'queuedDate'];

/** "2026-11-22 14:03:09" (UTC), AtoM's date form. */
export function formatDate(ms: number | null): string {
  if (ms === null) return 'N/A';
  const iso = isoUtc(ms);
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

export function jobUser(j: Pick<JobSummary, 'username' | 'userId'>): string {
  return j.username ?? 'Command line';
}

export function jobInfo(j: Pick<JobSummary, 'error' | 'resultSummary' | 'progressText' | 'status'>): string {
  if (j.status === 'failed' && j.error) return j.error;
  return j.resultSummary ?? j.error ?? j.progressText ?? '';
}

/**
 * A cell a spreadsheet would run as a formula (=, +, -, @, or a tab or carriage return
 * first) gets a leading apostrophe: job names and errors can hold what a user typed.
 */
export function safeCell(v: string): string {
  return /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
}

function toRecord(j: JobSummary): string[] {
  return [
    formatDate(j.startedAt),
    formatDate(j.finishedAt),
    safeCell(j.task),
    STATUS_LABELS[j.status],
    safeCell(jobInfo(j)),
    safeCell(jobUser(j)),
    String(j.id),
    formatDate(j.queuedAt),
  ];
}

/**
 * Streams the history as CSV from id-keyed pages of 2,000 jobs, so memory stays flat
 * whatever the number of jobs. Each page becomes one string written at once (a
 * per-row stream costs more than the query), and the next page is read while this one
 * is formatted and sent; back-pressure from the socket or file paces the reads. An
 * error half-way destroys `out`, so a download is cut short rather than ending as if
 * whole.
 */
export async function writeJobsCsv(db: Db, q: Omit<ListQuery, 'after' | 'limit'>, out: Writable): Promise<number> {
  let n = 0;
  try {
    const page = (after: number | null): Promise<JobPage> => listJobs(db, { ...q, after, limit: 2000 });
    await write(out, `${CSV_COLUMNS.join(',')}\n`);
    let next: Promise<JobPage> | null = page(null);
    while (next) {
      const current: JobPage = await next;
      next = current.next === null ? null : page(current.next);
      // A read started ahead must not go unobserved if the write below fails.
      next?.catch(() => undefined);
      let text = '';
      // One csv-stringify call per page: the library's quoting, without a per-row stream.
      if (current.jobs.length) text = stringifySync(current.jobs.map(toRecord));
      n += current.jobs.length;
      await write(out, text);
    }
    await new Promise<void>((resolve, reject) => {
      out.once('error', reject);
      out.end(() => resolve());
    });
  } catch (err) {
    out.destroy(err as Error);
    throw err;
  }
  return n;
}

/** Writes, waiting for the stream to drain when its buffer is full. */
function write(out: Writable, text: string): Promise<void> {
  if (out.destroyed) return Promise.reject(new Error('the client went away'));
  if (out.write(text)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onDrain = (): void => {
      out.off('close', onClose);
      resolve();
    };
    const onClose = (): void => {
      out.off('drain', onDrain);
      reject(new Error('the client went away'));
    };
    out.once('drain', onDrain);
    out.once('close', onClose);
  });
}

export function exportFileName(now = new Date()): string {
  return `docket-job-history-${now.toISOString().slice(0, 10)}.csv`;
}
