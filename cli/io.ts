/**
 * What every command shares: where it writes (so tests and the entry point can differ),
 * argument checks that answer a usage error, and plain-text table formatting.
 */
import type { Readable, Writable } from 'node:stream';
import { UsageError } from './usage.js';

export interface CliIO {
  out(s: string): void;
  err(s: string): void;
  exitCode: number;
  stdin: Readable;
  openWrite(path: string): Writable;
}

export function positiveInt(raw: unknown, name: string, min = 1): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`${name} must be a whole number of at least ${min}, not "${String(raw)}"`);
  return n;
}

export function jobId(raw: unknown): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`a job id is a positive whole number, not "${String(raw)}"`);
  return n;
}

/** The first line of stdin (a password piped in), without its line ending. */
export async function readStdinLine(stdin: Readable): Promise<string> {
  let data = '';
  for await (const chunk of stdin) {
    data += String(chunk);
    if (data.includes('\n')) break;
  }
  return data.split(/\r?\n/)[0] ?? '';
}

export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** Columns padded to their widest cell; the last column is left ragged. */
export function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  return `${[fmt(head), ...rows.map(fmt)].join('\n')}\n`;
}
