import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { OutputStream } from '../app/types.js';

export interface OutputSink {
  /** Stores one chunk; false when the job is no longer this attempt's (a zombie). */
  write(stream: OutputStream, text: string, bytes: number, truncated: boolean): Promise<boolean>;
}

interface Piece {
  stream: OutputStream;
  text: string;
}

/** How often buffered output is written while a job runs. */
export const FLUSH_MS = 200;

/**
 * One job's output on its way to the database and to `logs/jobs/<id>.log`.
 *
 * Output is buffered and written in batches (a chunk per stream change per flush), so a
 * job printing a million lines costs a few hundred writes, not a million. Past the cap,
 * the first half is kept as written, the last half is kept in memory as a ring, and at
 * the end a visible notice says how much was left out between them. AtoM instead cuts
 * silently at 64 KB.
 */
export class OutputCapture {
  private pending: Piece[] = [];
  private pendingBytes = 0;
  private headBytes = 0;
  private totalBytes = 0;
  private tail: Piece[] = [];
  private tailBytes = 0;
  private truncated = false;
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private failure: Error | null = null;
  private fileReady = false;
  private stale = false;

  constructor(
    private readonly sink: OutputSink,
    private readonly capBytes: number,
    private readonly file: string | null,
  ) {}

  /** The first write failure (e.g. the log disk is full); the job fails with it. */
  get error(): Error | null {
    return this.failure;
  }

  /** True when the database refused a write because the attempt is no longer running. */
  get refused(): boolean {
    return this.stale;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  startTimer(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  push(stream: OutputStream, text: string): void {
    if (!text) return;
    const bytes = Buffer.byteLength(text);
    this.totalBytes += bytes;
    const headCap = Math.floor(this.capBytes / 2);
    if (!this.truncated && this.headBytes + bytes <= headCap) {
      this.headBytes += bytes;
      this.addPending(stream, text, bytes);
      return;
    }
    if (!this.truncated) {
      // Split this piece: what fits goes into the head, the rest starts the tail.
      const room = headCap - this.headBytes;
      const head = sliceBytes(text, room);
      if (head) {
        const hb = Buffer.byteLength(head);
        this.headBytes += hb;
        this.addPending(stream, head, hb);
      }
      this.truncated = true;
      text = text.slice(head.length);
    }
    this.addTail(stream, text);
  }

  private addPending(stream: OutputStream, text: string, bytes: number): void {
    const last = this.pending[this.pending.length - 1];
    if (last && last.stream === stream) last.text += text;
    else this.pending.push({ stream, text });
    this.pendingBytes += bytes;
    // Large bursts are written without waiting for the timer, keeping memory flat.
    if (this.pendingBytes >= 256 * 1024) void this.flush();
  }

  private addTail(stream: OutputStream, text: string): void {
    const tailCap = this.capBytes - Math.floor(this.capBytes / 2);
    this.tail.push({ stream, text });
    this.tailBytes += Buffer.byteLength(text);
    while (this.tailBytes > tailCap && this.tail.length > 0) {
      const first = this.tail[0];
      const firstBytes = Buffer.byteLength(first.text);
      const excess = this.tailBytes - tailCap;
      if (firstBytes <= excess) {
        this.tail.shift();
        this.tailBytes -= firstBytes;
      } else {
        // Cut at a character boundary; the tail may keep up to 3 bytes over its cap.
        first.text = first.text.slice(sliceBytes(first.text, excess).length);
        this.tailBytes -= firstBytes - Buffer.byteLength(first.text);
        break;
      }
    }
  }

  /** Writes what is buffered; calls are serialised so chunks keep their order. */
  flush(): Promise<void> {
    const pieces = this.pending;
    if (pieces.length === 0) return this.chain;
    this.pending = [];
    this.pendingBytes = 0;
    this.chain = this.chain.then(() => this.writePieces(pieces));
    return this.chain;
  }

  private async writePieces(pieces: Piece[], truncated = false): Promise<void> {
    if (this.failure || this.stale) return;
    try {
      if (this.file) {
        if (!this.fileReady) {
          await mkdir(dirname(this.file), { recursive: true });
          this.fileReady = true;
        }
        await appendFile(this.file, pieces.map((p) => p.text).join(''));
      }
      for (const p of pieces) {
        const ok = await this.sink.write(p.stream, p.text, Buffer.byteLength(p.text), truncated);
        if (!ok) {
          this.stale = true;
          return;
        }
      }
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      this.failure = new Error(
        e.code && this.file && e.path === this.file
          ? `cannot write the job's output to ${this.file}: ${e.code} (${e.message})`
          : `cannot store the job's output: ${e.message}`,
      );
    }
  }

  /** Final write: what is buffered, then the truncation notice and the kept tail. */
  async finish(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
    if (!this.truncated) return;
    const omitted = this.totalBytes - this.headBytes - this.tailBytes;
    const notice: Piece = {
      stream: 'system',
      text:
        `\n[output truncated: ${omitted} bytes left out; the first ${this.headBytes} and last ` +
        `${this.tailBytes} bytes of ${this.totalBytes} are kept]\n`,
    };
    const tail = this.tail;
    this.tail = [];
    this.chain = this.chain.then(() => this.writePieces([notice, ...tail], true));
    await this.chain;
  }
}

/** The longest prefix of `text` whose UTF-8 form fits in `maxBytes`. */
export function sliceBytes(text: string, maxBytes: number): string {
  if (maxBytes <= 0) return '';
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let lo = 0;
  let hi = Math.min(text.length, maxBytes);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (Buffer.byteLength(text.slice(0, mid)) <= maxBytes) lo = mid;
    else hi = mid - 1;
  }
  return text.slice(0, lo);
}
