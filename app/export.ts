import type { Writable } from 'node:stream';
import { secondsUtc } from './dates.js';
import type { Db } from './db.js';
import { exportPage, type ExportJob, type ListQuery } from './store/job-list.js';
import { STATUS_LABELS, type JobSummary } from './types.js';

/** AtoM's six columns first, in its order; ours after (the group's id and name last). */
export const CSV_COLUMNS = ['startDate', 'endDate', 'jobName', 'jobStatus', 'jobInfo', 'jobUser', 'jobId', 'queuedDate', 'group', 'groupName'];

/** "2026-11-22 14:03:09" (UTC), AtoM's date form. */
export function formatDate(ms: number | null): string {
  return ms === null ? 'N/A' : secondsUtc(ms);
}

export function jobUser(j: Pick<JobSummary, 'username'>): string {
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

const NEEDS_QUOTES = /[",\r\n]/;
const QUOTE = /"/g;

/**
 * One CSV field, quoted as csv-stringify quotes with its defaults: in double quotes
 * (doubled inside) when it holds a quote, a comma, a CR or an LF; as it is otherwise.
 */
export function csvField(v: string): string {
  return NEEDS_QUOTES.test(v) ? `"${v.replace(QUOTE, '""')}"` : v;
}

/** One job as a CSV line (with its newline), in `CSV_COLUMNS` order. */
export function csvLine(j: ExportJob): string {
  return (
    `${formatDate(j.startedAt)},${formatDate(j.finishedAt)},${csvField(safeCell(j.task))},${STATUS_LABELS[j.status]},` +
    `${csvField(safeCell(jobInfo(j)))},${csvField(safeCell(jobUser(j)))},${j.id},${formatDate(j.queuedAt)},` +
    `${j.group ? `${j.group.id},${csvField(safeCell(j.group.name))}` : ','}\n`
  );
}

/** Jobs per keyset page of the export. */
export const EXPORT_PAGE = 2000;

/**
 * Streams the history as CSV from id-keyed pages of 2,000 jobs, so memory stays flat
 * whatever the number of jobs: only the exported columns are read, each page is encoded
 * into a buffer or two written at once (a per-row stream costs more than the query), and the next
 * page is read while this one is formatted and sent; back-pressure from the socket or
 * file paces the reads. An error half-way destroys `out`, so a download is cut short
 * rather than ending as if whole.
 */
export async function writeJobsCsv(db: Db, q: Omit<ListQuery, 'after' | 'limit'>, out: Writable): Promise<number> {
  let n = 0;
  try {
    type Page = { jobs: ExportJob[]; next: number | null };
    const page = (after: number | null): Promise<Page> => exportPage(db, { ...q, after }, EXPORT_PAGE);
    await write(out, `${CSV_COLUMNS.join(',')}\n`);
    let next: Promise<Page> | null = page(null);
    while (next) {
      const current: Page = await next;
      next = current.next === null ? null : page(current.next);
      // A read started ahead must not go unobserved if the write below fails.
      next?.catch(() => undefined);
      for (const chunk of encodeLines(current.jobs)) await write(out, chunk);
      n += current.jobs.length;
    }
    await endStream(out);
  } catch (err) {
    out.destroy(err as Error);
    throw err;
  }
  return n;
}

/** Bytes per buffer a page is encoded into. */
const CHUNK = 256 * 1024;

/**
 * A page's lines encoded straight into buffers of 256 KB (a page of 2,000 jobs fills one
 * or two): no page-long string is built, then flattened and encoded again by the socket.
 */
function encodeLines(jobs: ExportJob[]): Buffer[] {
  const chunks: Buffer[] = [];
  let buf = Buffer.allocUnsafe(CHUNK);
  let at = 0;
  for (const j of jobs) {
    const line = csvLine(j);
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    if (at + line.length * 3 > buf.length) {
      if (at > 0) chunks.push(buf.subarray(0, at));
      buf = Buffer.allocUnsafe(Math.max(CHUNK, line.length * 3));
      at = 0;
    }
    at += buf.write(line, at);
  }
  if (at > 0) chunks.push(buf.subarray(0, at));
  return chunks;
}

/** Writes, waiting for the stream to drain when its buffer is full. */
/**
 * Ends a streamed download and waits for 'finish'. Never end() with a callback:
 * express-session wraps a response's end(chunk, encoding) and, when the session's touch
 * is due and asynchronous, writes its first argument as data, so a callback given to
 * end() was written as a chunk ("Received function") and the download was cut.
 */
export function endStream(out: Writable): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.once('finish', () => resolve());
    out.end();
  });
}

export function write(out: Writable, text: string | Buffer): Promise<void> {
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
