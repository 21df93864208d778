import { isUtf8 } from 'node:buffer';
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { OutputStream } from '../app/types.js';

export interface OutputSink {
  /**
   * Stores chunks, in order, all or none; false when the job is no longer this
   * attempt's (a zombie).
   */
  write(chunks: Chunk[], truncated: boolean): Promise<boolean>;
}

/** Consecutive output of one stream, as printed (UTF-8 bytes, whole characters). */
interface Piece {
  stream: OutputStream;
  parts: Buffer[];
  bytes: number;
}

/** A chunk of one stream: a row of job_output, as UTF-8 bytes (whole, valid characters). */
export interface Chunk {
  stream: OutputStream;
  text: Buffer;
  bytes: number;
}

/** How often buffered output is written while a job runs. */
export const FLUSH_MS = 200;

/** Buffered output past this is written at once, without waiting for the timer. */
export const FLUSH_BYTES = 256 * 1024;

/** The largest chunk (a row of job_output). */
export const CHUNK_BYTES = 1024 * 1024;

/** The most one write carries: one log file append, one database transaction. */
export const BATCH_BYTES = 4 * CHUNK_BYTES;

/**
 * One job's output on its way to the database and to `logs/jobs/<id>.log`.
 *
 * Output is kept as the bytes the job printed; bytes that are not UTF-8 are replaced
 * (U+FFFD, as a decoder does) once per write, the rest is stored as it is. It is written
 * in batches of chunks (a chunk per stream change, of at most CHUNK_BYTES), so a job
 * printing a million lines costs a few writes, not a million. One write is under way
 * at a time, which keeps the chunks in order; what arrives meanwhile goes with the
 * next. The log file and the database are written side by side.
 *
 * Past the cap, the first half is kept as written, the last half is kept in memory as a
 * ring, and at the end a visible notice says how much was left out between them. AtoM
 * instead cuts silently at 64 KB.
 */
export class OutputCapture {
  private pending: Piece[] = [];
  private pendingBytes = 0;
  /** Bytes ever queued for writing, and taken from the queue by the writer. */
  private queued = 0;
  private taken = 0;
  /** The writer goes on until `taken` reaches this (set by flush). */
  private flushTo = 0;
  private headBytes = 0;
  private totalBytes = 0;
  private tail: Array<{ stream: OutputStream; buf: Buffer }> = [];
  private tailBytes = 0;
  private truncated = false;
  /** Set once the head is written: what follows is the notice and the tail. */
  private final = false;
  /** A character split across two reads of a stream, held until the rest comes. */
  private partial: Partial<Record<OutputStream, Buffer>> = {};
  private writing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failure: Error | null = null;
  /** The failure was the database's (not the log file's): worth another attempt later. */
  private failureInStore = false;
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

  /**
   * True when the failure was the database's: it stayed away for longer than the write's
   * retries (a restart, a lock held too long). The job is retried, as after a lost worker;
   * a log disk that is full or read-only fails it for good.
   */
  get errorIsTransient(): boolean {
    return this.failure !== null && this.failureInStore;
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

  /** Takes output as read from the job's pipe (bytes, possibly ending mid-character) or as text. */
  push(stream: OutputStream, data: Buffer | string): void {
    let buf = typeof data === 'string' ? Buffer.from(data) : data;
    const held = this.partial[stream];
    if (held) {
      buf = Buffer.concat([held, buf]);
      delete this.partial[stream];
    }
    const cut = incompleteTail(buf);
    if (cut < buf.length) {
      this.partial[stream] = buf.subarray(cut);
      buf = buf.subarray(0, cut);
    }
    this.accept(stream, buf);
  }

  private accept(stream: OutputStream, buf: Buffer): void {
    const bytes = buf.length;
    if (bytes === 0) return;
    this.totalBytes += bytes;
    const headCap = Math.floor(this.capBytes / 2);
    if (!this.truncated && this.headBytes + bytes <= headCap) {
      this.headBytes += bytes;
      this.addPending(stream, buf);
      return;
    }
    if (!this.truncated) {
      // Split this piece: what fits goes into the head, the rest starts the tail.
      const room = charStart(buf, headCap - this.headBytes);
      if (room > 0) {
        this.headBytes += room;
        this.addPending(stream, buf.subarray(0, room));
      }
      this.truncated = true;
      buf = buf.subarray(room);
    }
    this.addTail(stream, buf);
  }

  private addPending(stream: OutputStream, buf: Buffer): void {
    const last = this.pending[this.pending.length - 1];
    if (last && last.stream === stream) {
      last.parts.push(buf);
      last.bytes += buf.length;
    } else {
      this.pending.push({ stream, parts: [buf], bytes: buf.length });
    }
    this.pendingBytes += buf.length;
    this.queued += buf.length;
    // Large bursts are written without waiting for the timer, keeping memory flat.
    if (this.pendingBytes >= FLUSH_BYTES) this.kick();
  }

  private addTail(stream: OutputStream, buf: Buffer): void {
    if (buf.length === 0) return;
    const tailCap = this.capBytes - Math.floor(this.capBytes / 2);
    this.tail.push({ stream, buf });
    this.tailBytes += buf.length;
    while (this.tailBytes > tailCap && this.tail.length > 0) {
      const first = this.tail[0];
      const excess = this.tailBytes - tailCap;
      if (first.buf.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.buf.length;
      } else {
        // Cut at a character boundary, at or after the excess.
        const cut = nextCharStart(first.buf, excess);
        first.buf = first.buf.subarray(cut);
        this.tailBytes -= cut;
        if (first.buf.length === 0) this.tail.shift();
        break;
      }
    }
  }

  private wantsWrite(): boolean {
    return (
      this.pending.length > 0 &&
      !this.failure &&
      !this.stale &&
      (this.pendingBytes >= FLUSH_BYTES || this.taken < this.flushTo)
    );
  }

  /** Starts the writer unless it is running: it writes batch after batch while there is cause. */
  private kick(): void {
    if (this.writing || !this.wantsWrite()) return;
    const run = (async () => {
      while (this.wantsWrite()) await this.writeChunks(this.take(), this.final);
    })();
    this.writing = run;
    void run.then(() => {
      this.writing = null;
      this.kick();
    });
  }

  /** Up to BATCH_BYTES of the queue in chunks of up to CHUNK_BYTES, cut between characters. */
  private take(): Chunk[] {
    const out: Chunk[] = [];
    let room = BATCH_BYTES;
    while (this.pending.length > 0 && room > 0) {
      const p = this.pending[0];
      let buf = p.parts.length === 1 ? p.parts[0] : Buffer.concat(p.parts, p.bytes);
      const most = Math.min(room, CHUNK_BYTES);
      if (buf.length > most) {
        // No room for a whole character is left only in a nearly full batch: it ends here.
        const cut = charStart(buf, most);
        if (cut === 0) break;
        p.parts = [buf.subarray(cut)];
        p.bytes = buf.length - cut;
        buf = buf.subarray(0, cut);
      } else {
        this.pending.shift();
      }
      // The bytes as printed, unless they are not UTF-8 (a binary dump, say).
      const text = isUtf8(buf) ? buf : Buffer.from(buf.toString('utf8'));
      out.push({ stream: p.stream, text, bytes: buf.length });
      room -= buf.length;
      this.pendingBytes -= buf.length;
      this.taken += buf.length;
    }
    return out;
  }

  /** Writes what is buffered; resolves once it is written (chunks keep their order). */
  flush(): Promise<void> {
    this.flushTo = this.queued;
    this.kick();
    return this.idle();
  }

  private async idle(): Promise<void> {
    while (this.writing) await this.writing;
  }

  private async writeChunks(chunks: Chunk[], truncated: boolean): Promise<void> {
    if (this.failure || this.stale || chunks.length === 0) return;
    // The log file and the database side by side; both end before the next batch.
    const [file, db] = await Promise.allSettled([this.appendToFile(chunks), this.store(chunks, truncated)]);
    const failed = file.status === 'rejected' ? file : db.status === 'rejected' ? db : null;
    if (!failed) return;
    const e = failed.reason as NodeJS.ErrnoException;
    this.failureInStore = failed === db;
    this.failure = new Error(
      e.code && this.file && e.path === this.file
        ? `cannot write the job's output to ${this.file}: ${e.code} (${e.message})`
        : `cannot store the job's output: ${e.message}`,
    );
  }

  private async appendToFile(chunks: Chunk[]): Promise<void> {
    if (!this.file) return;
    if (!this.fileReady) {
      await mkdir(dirname(this.file), { recursive: true });
      this.fileReady = true;
    }
    await appendFile(this.file, chunks.length === 1 ? chunks[0].text : Buffer.concat(chunks.map((c) => c.text)));
  }

  private async store(chunks: Chunk[], truncated: boolean): Promise<void> {
    if (!(await this.sink.write(chunks, truncated))) this.stale = true;
  }

  /** Final write: what is buffered, then the truncation notice and the kept tail. */
  async finish(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // A character cut off at the very end stays as printed (it shows as U+FFFD).
    for (const stream of Object.keys(this.partial) as OutputStream[]) {
      const held = this.partial[stream]!;
      delete this.partial[stream];
      this.accept(stream, held);
    }
    await this.flush();
    if (!this.truncated) return;
    const omitted = this.totalBytes - this.headBytes - this.tailBytes;
    const notice =
      `\n[output truncated: ${omitted} bytes left out; the first ${this.headBytes} and last ` +
      `${this.tailBytes} bytes of ${this.totalBytes} are kept]\n`;
    const tail = this.tail;
    this.tail = [];
    this.final = true;
    this.addPending('system', Buffer.from(notice));
    for (const t of tail) this.addPending(t.stream, t.buf);
    await this.flush();
  }
}

const isContinuation = (byte: number): boolean => (byte & 0xc0) === 0x80;

/**
 * The largest cut at or before `at` that does not split a UTF-8 character (at most three
 * bytes back; bytes that are not UTF-8 are cut anywhere).
 */
export function charStart(buf: Buffer, at: number): number {
  if (at >= buf.length) return buf.length;
  if (at <= 0) return 0;
  for (let i = at; i >= Math.max(0, at - 3); i--) if (!isContinuation(buf[i])) return i;
  return at;
}

/** The smallest cut at or after `at` that does not split a UTF-8 character. */
export function nextCharStart(buf: Buffer, at: number): number {
  const end = Math.min(buf.length, at + 4);
  for (let i = at; i < end; i++) if (!isContinuation(buf[i])) return i;
  return end === buf.length ? end : at;
}

/**
 * Where an incomplete UTF-8 character at the end of `buf` starts (the rest of it is in
 * the next read), or `buf.length` when the buffer ends on a whole character.
 */
export function incompleteTail(buf: Buffer): number {
  const n = buf.length;
  for (let i = n - 1; i >= Math.max(0, n - 4); i--) {
    const b = buf[i];
    if (isContinuation(b)) continue;
    const size = b >= 0xf0 && b <= 0xf7 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return n - i < size && b >= 0xc0 && b <= 0xf7 ? i : n;
  }
  return n;
}
