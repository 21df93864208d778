import { stringify } from 'csv-stringify';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { Db } from './db.js';
import { iterateJobs, type ListQuery } from './store/job-list.js';
import { STATUS_LABELS, type JobSummary } from './types.js';

/** AtoM's six columns first, in its order; ours after. */
export const CSV_COLUMNS = ['startDate', 'endDate', 'jobName', 'jobStatus', 'jobInfo', 'jobUser', 'jobId', 'queuedDate'];

/** "2026-11-22 14:03:09" (UTC), AtoM's date form. */
export function formatDate(ms: number | null): string {
  if (ms === null) return 'N/A';
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

export function jobUser(j: Pick<JobSummary, 'username' | 'userId'>): string {
  return j.username ?? 'Command line';
}

export function jobInfo(j: Pick<JobSummary, 'error' | 'resultSummary' | 'progressText' | 'status'>): string {
  if (j.status === 'failed' && j.error) return j.error;
  return j.resultSummary ?? j.error ?? j.progressText ?? '';
}

function toRecord(j: JobSummary): string[] {
  return [
    formatDate(j.startedAt),
    formatDate(j.finishedAt),
    j.task,
    STATUS_LABELS[j.status],
    jobInfo(j),
    jobUser(j),
    String(j.id),
    formatDate(j.queuedAt),
  ];
}

/**
 * Streams the history as CSV straight from id-keyed batches, so memory stays flat
 * whatever the number of jobs; back-pressure from the socket or file paces the reads.
 */
export async function writeJobsCsv(db: Db, q: Omit<ListQuery, 'after' | 'limit'>, out: Writable): Promise<number> {
  let n = 0;
  async function* records(): AsyncGenerator<string[]> {
    for await (const j of iterateJobs(db, q)) {
      n++;
      yield toRecord(j);
    }
  }
  await pipeline(Readable.from(records()), stringify({ header: true, columns: CSV_COLUMNS }), out);
  return n;
}

export function exportFileName(now = new Date()): string {
  return `docket-job-history-${now.toISOString().slice(0, 10)}.csv`;
}
