/**
 * A process running on a test host: its output kept (for assertions and for the
 * failure message), waits on what it prints, and a stop that always ends it.
 */
import type { ChildProcess } from 'node:child_process';
import { killTree } from './system.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class HostProcess {
  private out = '';
  private listeners: Array<() => void> = [];
  /** Resolves when the process has exited and its pipes are closed. */
  readonly exited: Promise<Exit>;
  exit: Exit | null = null;

  constructor(
    /** The host it runs on. */
    readonly host: string,
    /** What it is, for messages: `w1: docket worker`. */
    readonly label: string,
    readonly child: ChildProcess,
  ) {
    const take = (b: Buffer): void => {
      this.out += b.toString();
      for (const l of this.listeners.splice(0)) l();
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        this.exit = { code, signal };
        for (const l of this.listeners.splice(0)) l();
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Everything it printed so far, stdout and stderr interleaved as they came. */
  get output(): string {
    return this.out;
  }

  /** Waits until its output matches; fails with the output so far if it exits or time runs out. */
  async waitFor(re: RegExp, ms: number): Promise<RegExpMatchArray> {
    const end = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.out);
      if (m) return m;
      if (this.exit) throw new Error(`${this.label} exited (${JSON.stringify(this.exit)}) before printing ${re}:\n${this.out}`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`${this.label} did not print ${re} within ${ms} ms:\n${this.out}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.listeners.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Asks it to stop (SIGTERM to its group), then SIGKILLs the group after `graceMs`. */
  async stop(graceMs = 5000): Promise<Exit> {
    if (this.exit) return this.exit;
    killTree(this.pid, 'SIGTERM');
    const t = setTimeout(() => killTree(this.pid), graceMs);
    const e = await this.exited;
    clearTimeout(t);
    // Children that outlived their parent (a worker's job processes) go with the group.
    killTree(this.pid);
    return e;
  }
}
