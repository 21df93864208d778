/**
 * The worker's children: one process per slot, started ahead of need and reused from job
 * to job (the per-job cost stays small), recycled after N jobs or past M MB, killed when
 * a job must be stopped. Each child's stdout and stderr are its job's output, up to the
 * end-of-job sentinel the child prints after every job.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Logger } from '../app/logger.js';
import { ROOT, RUNNING_FROM_SOURCE } from '../app/paths.js';
import type { ChildMessage, ParentMessage } from './protocol.js';
import { sentinelStart } from './protocol.js';

export type ChildStream = 'stdout' | 'stderr';

/** The attempt that holds a slot, as the pool sees it. */
export interface Tenant {
  readonly jobId: number;
  /** The end-of-job sentinel of this attempt, as bytes. */
  readonly mark: Buffer;
  /** Output of the job (the sentinel and what follows it are not passed on). */
  output(stream: ChildStream, bytes: Buffer): void;
  /** Both streams reached the sentinel: all of this job's output is in. */
  outputEnded(): void;
  message(m: Exclude<ChildMessage, { type: 'ready' }>): void;
  /** The child process ended (after both pipes closed). */
  exited(code: number | null, signal: string | null): void;
}

/** One child process of the pool and the attempt it runs, if any. */
export class Slot {
  ready: Promise<void>;
  /** Jobs this child was given. */
  jobs = 0;
  tenant: Tenant | null = null;
  retired = false;
  exited = false;
  /** A possible start of the sentinel at the end of the last read, held back. */
  carry: Record<ChildStream, Buffer | null> = { stdout: null, stderr: null };
  ended: Record<ChildStream, boolean> = { stdout: false, stderr: false };
  markReady!: () => void;

  constructor(readonly proc: ChildProcess) {
    this.ready = new Promise((r) => (this.markReady = r));
  }

  send(msg: ParentMessage): void {
    if (this.exited || !this.proc.connected) return;
    try {
      this.proc.send(msg);
    } catch {
      // The child is gone; its 'close' handler settles the job.
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.exited) this.proc.kill(signal);
  }
}

export interface PoolOptions {
  /** Children kept warm. */
  size: number;
  /** Settings the child needs that may differ from this process's environment. */
  env: NodeJS.ProcessEnv;
  maxJobs: number;
  maxMemoryMb: number;
}

/**
 * The child's script, found from the project folder rather than beside this module: the
 * `docket` command is an esbuild bundle (dist/cli/), and the child stays tsc's
 * dist/workers/child.js, a process of its own that loads only the task handlers.
 */
const childPath = (): string => (RUNNING_FROM_SOURCE ? join(ROOT, 'workers', 'child.ts') : join(ROOT, 'dist', 'workers', 'child.js'));

export class ChildPool {
  private slots: Slot[] = [];
  private stopped = false;

  constructor(
    private readonly opts: PoolOptions,
    private readonly log: Logger,
  ) {}

  /** Warms the children first: the first job should not pay for a process start. */
  async start(): Promise<void> {
    this.fill();
    await Promise.all(this.slots.map((s) => s.ready));
  }

  /** Starts children until `size` are alive and not retiring (none once stopped). */
  fill(): void {
    while (!this.stopped && this.slots.filter((s) => !s.retired && !s.exited).length < this.opts.size) {
      this.slots.push(this.spawn());
    }
  }

  /** A free child for an attempt (a new one when none is free). */
  take(tenant: Tenant): Slot {
    let slot = this.slots.find((s) => !s.tenant && !s.retired && !s.exited);
    if (!slot) {
      slot = this.spawn();
      this.slots.push(slot);
    }
    slot.tenant = tenant;
    slot.jobs++;
    slot.carry = { stdout: null, stderr: null };
    slot.ended = { stdout: false, stderr: false };
    return slot;
  }

  /** The attempt is done with its child: kept for the next job, recycled, or killed. */
  release(slot: Slot, fate: 'keep' | 'recycle' | 'kill', rss: number): void {
    slot.tenant = null;
    if (slot.exited) return;
    if (fate === 'kill') this.retire(slot, 'SIGKILL');
    else if (fate === 'recycle') {
      this.log.info(`recycling child ${slot.proc.pid} after ${slot.jobs} jobs (${Math.round(rss / 1048576)} MB)`);
      this.retire(slot);
    }
  }

  /** Stops every child; no new one starts. */
  stop(): void {
    this.stopped = true;
    for (const s of [...this.slots]) this.retire(s);
  }

  private retire(slot: Slot, signal: NodeJS.Signals = 'SIGTERM'): void {
    slot.retired = true;
    this.slots = this.slots.filter((s) => s !== slot);
    slot.kill(signal);
  }

  private spawn(): Slot {
    const proc = fork(childPath(), [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      execArgv: RUNNING_FROM_SOURCE ? ['--import', 'tsx'] : [],
      env: { ...process.env, ...this.opts.env },
    });
    const slot = new Slot(proc);
    // Output stays in bytes until it is written; the capture decodes it once per write.
    proc.stdout!.on('data', (b: Buffer) => this.onData(slot, 'stdout', b));
    proc.stderr!.on('data', (b: Buffer) => this.onData(slot, 'stderr', b));
    proc.on('message', (m: ChildMessage) => {
      if (m.type === 'ready') slot.markReady();
      else if (slot.tenant && m.jobId === slot.tenant.jobId) slot.tenant.message(m);
    });
    proc.on('error', (err) => this.log.error(`child process error: ${err.message}`));
    // 'close' comes after both pipes have ended: all output is in by then.
    proc.on('close', (code, signal) => {
      slot.exited = true;
      slot.markReady();
      this.slots = this.slots.filter((s) => s !== slot);
      slot.tenant?.exited(code, signal);
    });
    return slot;
  }

  /** Passes output on up to the attempt's sentinel, which may arrive split across reads. */
  private onData(slot: Slot, stream: ChildStream, chunk: Buffer): void {
    const t = slot.tenant;
    if (!t || slot.ended[stream] || chunk.length === 0) return;
    const held = slot.carry[stream];
    const buf = held ? Buffer.concat([held, chunk]) : chunk;
    slot.carry[stream] = null;
    const at = buf.indexOf(t.mark);
    if (at >= 0) {
      t.output(stream, buf.subarray(0, at));
      slot.ended[stream] = true;
      if (slot.ended.stdout && slot.ended.stderr) t.outputEnded();
      return;
    }
    // Hold back a possible start of the sentinel split across reads.
    const from = sentinelStart(buf, t.mark);
    if (from < buf.length) {
      t.output(stream, buf.subarray(0, from));
      slot.carry[stream] = buf.subarray(from);
    } else {
      t.output(stream, buf);
    }
  }
}
