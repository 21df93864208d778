/** Child processes of the benchmark: Docket workers and web servers, their memory. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');

export interface Proc {
  child: ChildProcess;
  pid: number;
  /** Everything it printed so far (for error messages). */
  log(): string;
  stop(signal?: NodeJS.Signals, ms?: number): Promise<void>;
}

/**
 * Starts `node --import tsx <script> args` and resolves once a line of its output
 * matches `ready`. Fails with the process's own output if it exits first.
 */
export async function startNode(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  opts: { timeoutMs?: number; nodeArgs?: string[]; onLine?: (line: string) => void } = {},
): Promise<Proc> {
  const loader = script.endsWith('.ts') ? ['--import', 'tsx'] : [];
  return startProcess(process.execPath, [...(opts.nodeArgs ?? []), ...loader, join(ROOT, script), ...args], env, ready, { ...opts, what: script });
}

/** Any program (a peer's worker), started and awaited as `startNode` does. */
export async function startProcess(
  command: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  opts: { timeoutMs?: number; onLine?: (line: string) => void; cwd?: string; what?: string; stdin?: boolean } = {},
): Promise<Proc> {
  const script = opts.what ?? command;
  const child = spawn(command, argv, {
    env,
    cwd: opts.cwd ?? ROOT,
    stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let exited = false;
  const keep = (b: Buffer): void => {
    out += b.toString();
    if (out.length > 20_000) out = out.slice(-10_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  if (opts.onLine) {
    const onLine = opts.onLine;
    // Winston sends some levels to stdout and others to stderr: follow both.
    for (const stream of [child.stdout!, child.stderr!]) {
      let partial = '';
      stream.on('data', (b: Buffer) => {
        const lines = (partial + b.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) onLine(l);
      });
    }
  }
  child.on('exit', () => (exited = true));
  const proc: Proc = {
    child,
    pid: child.pid as number,
    log: () => out,
    async stop(signal = 'SIGTERM', ms = 15_000) {
      if (exited) return;
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill(signal);
      const t = setTimeout(() => child.kill('SIGKILL'), ms);
      await gone;
      clearTimeout(t);
    },
  };
  // Generous: on a machine loaded far beyond its cores a worker has taken over 30 s to start.
  const limit = opts.timeoutMs ?? 90_000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start within ${limit} ms:\n${out.slice(-2000)}`));
    }, limit);
    const check = (): void => {
      if (ready.test(out)) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        child.stderr!.off('data', check);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${script} could not start: ${err.message}`));
    });
    child.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${sig ?? code}) before it was ready:\n${out.slice(-2000)}`));
    });
  });
  return proc;
}

/**
 * The `docket` command as operators run it: the build in dist/ (what `npm start` runs,
 * and what `npm run bench` builds first), or the TypeScript source under tsx when
 * BENCH_FROM_SOURCE=1 or there is no build. The loader costs memory and start-up time,
 * so the choice shows in the figures of scenarios 5 and 7.
 */
export const DOCKET_ENTRY =
  process.env.BENCH_FROM_SOURCE === '1' || !existsSync(join(ROOT, 'dist', 'cli', 'docket.js')) ? 'cli/docket.ts' : 'dist/cli/docket.js';

export function startDocket(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  opts: { onLine?: (line: string) => void } = {},
): Promise<Proc> {
  // BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") goes to every Docket
  // process the benchmark starts, for profiling; Node refuses --cpu-prof in NODE_OPTIONS.
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  return startNode(DOCKET_ENTRY, args, env, ready, { ...opts, nodeArgs });
}

/** A `docket worker` process; resolves once it takes jobs. */
export function startWorker(env: NodeJS.ProcessEnv, concurrency: number, extra: string[] = []): Promise<Proc> {
  return startDocket(['worker', '--concurrency', String(concurrency), ...extra], env, /is taking .* jobs/);
}

/** Runs a short `docket` command to its end; resolves with its stdout. */
export async function runDocket(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const loader = DOCKET_ENTRY.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...loader, join(ROOT, DOCKET_ENTRY), ...args], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`docket ${args[0]} failed (${code}): ${err.trim().slice(-500)}`);
  return out;
}

/** Resident memory of a process in bytes (VmRSS), or its peak (VmHWM). */
export function rssOf(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!m) throw new Error(`no ${field} for process ${pid}`);
  return Number(m[1]) * 1024;
}

/** The process ids of a process's children (a worker's job processes). */
export function childrenOf(pid: number): number[] {
  try {
    const raw = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return raw ? raw.split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** An error with the last lines each process printed, to see why a run broke. */
export function withLogs(err: unknown, procs: Proc[]): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  const tails = procs
    .map((p) => ({ pid: p.pid, tail: p.log().trim().split('\n').slice(-15).join('\n') }))
    .filter((t) => t.tail)
    .map((t) => `--- process ${t.pid} printed:\n${t.tail}`);
  if (tails.length) e.message += `\n${tails.join('\n')}`;
  return e;
}

/** CPU time in ms used so far by a process and its children, live or reaped (Linux). */
export function cpuMs(pid: number): number {
  const ticks = (p: number, withReaped: boolean): number => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      // Fields after the command (which may hold spaces) start after the last ')'.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const own = Number(f[11]) + Number(f[12]);
      return withReaped ? own + Number(f[13]) + Number(f[14]) : own;
    } catch {
      return 0;
    }
  };
  let t = ticks(pid, true);
  for (const c of childrenOf(pid)) t += ticks(c, false);
  // The kernel counts in USER_HZ ticks, 100 a second on Linux.
  return t * 10;
}
