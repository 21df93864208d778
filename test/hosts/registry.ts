/**
 * What a test network made, written down before it is made, so that whatever ends the
 * run (a failed test, an exit, a SIGKILL) the next run can take it all down again.
 *
 * One file per run under /run/docket-test-hosts (a tmpfs: it goes at reboot, as the
 * namespaces do). A run is owned by a process, known by its id and start time, so a
 * later process that happens to get the same pid is not taken for its owner. A run's id
 * is its pid and a letter (a process may build more than one network), and every name
 * it gives carries that id (`docket-<id>-<host>`, `dkb<id>`, `dkv<id>-<n>`), so even
 * what was made after its file was last written is found.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { alive, cmdline, killTree, pidsIn, sh, shQuiet, startTicks } from './system.js';

export const STATE_DIR = '/run/docket-test-hosts';

/** A process the run started, with its start time so that a reused pid is never killed. */
export interface Owned {
  pid: number;
  ticks: number | null;
}

export interface RunState {
  /** The pid and a letter: `12345a`. */
  id: string;
  pid: number;
  ticks: number | null;
  /** The third byte of 10.231.x.0/24. */
  subnet: number | null;
  namespaces: string[];
  links: string[];
  processes: Owned[];
  dirs: string[];
}

const stateFile = (id: string): string => join(STATE_DIR, `run-${id}.json`);
const subnetFile = (x: number): string => join(STATE_DIR, `subnet-${x}`);

let made = 0;

export function newRunState(): RunState {
  mkdirSync(STATE_DIR, { recursive: true });
  const id = `${process.pid}${String.fromCharCode(97 + (made++ % 26))}`;
  return { id, pid: process.pid, ticks: startTicks(process.pid), subnet: null, namespaces: [], links: [], processes: [], dirs: [] };
}

export function saveRunState(s: RunState): void {
  writeFileSync(stateFile(s.id), JSON.stringify(s));
}

function ownerAlive(pid: number, ticks: number | null): boolean {
  return alive(pid) && startTicks(pid) === ticks;
}

/**
 * Claims a free 10.231.x.0/24 for this run. The claim is a file created exclusively, so
 * two runs starting together never get the same one; a subnet already on an interface
 * (someone else's network) is passed over.
 */
export function claimSubnet(s: RunState): number {
  const inUse = sh('ip', ['-4', '-o', 'addr', 'show']);
  const start = 1 + Math.floor(Math.random() * 254);
  for (let i = 0; i < 254; i++) {
    const x = 1 + ((start + i) % 254);
    if (inUse.includes(` 10.231.${x}.`)) continue;
    try {
      writeFileSync(subnetFile(x), JSON.stringify({ pid: s.pid, ticks: s.ticks }), { flag: 'wx' });
    } catch {
      continue;
    }
    s.subnet = x;
    saveRunState(s);
    return x;
  }
  throw new Error('no free 10.231.x.0/24 subnet for the test network');
}

/** Waits synchronously (teardown runs from an 'exit' handler, where timers never fire). */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Tries a removal a few times (a namespace whose processes are still dying may resist). */
function remove(args: string[], before: () => void): string | null {
  let why = '';
  for (let i = 0; i < 5; i++) {
    before();
    const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 15_000 });
    if (r.status === 0) return null;
    why = (r.stderr || r.error?.message || `exit ${r.status}`).trim();
    pause(200);
  }
  return why;
}

/**
 * Takes down everything a run recorded. Synchronous: it also runs from an 'exit' handler.
 * Returns what could not be removed (with why); the run's record is then kept, so that
 * the next run's sweep tries again.
 */
export function teardown(s: RunState): string[] {
  for (const p of s.processes) {
    // A pid whose start time changed belongs to some other process now.
    if (startTicks(p.pid) === p.ticks) killTree(p.pid);
  }
  const left: string[] = [];
  const namespaces = new Set(sh('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]));
  for (const ns of s.namespaces.filter((n) => namespaces.has(n))) {
    const why = remove(['netns', 'del', ns], () => pidsIn(ns).forEach((pid) => killTree(pid)));
    if (why) left.push(`namespace ${ns}: ${why}`);
  }
  for (const link of s.links) {
    if (!shQuiet('ip', ['link', 'show', link])) continue;
    const why = remove(['link', 'del', link], () => undefined);
    if (why) left.push(`link ${link}: ${why}`);
  }
  for (const dir of s.dirs) rmSync(dir, { recursive: true, force: true });
  if (left.length) return left;
  if (s.subnet !== null) rmSync(subnetFile(s.subnet), { force: true });
  rmSync(stateFile(s.id), { force: true });
  return left;
}

/**
 * Removes what earlier runs left behind: runs whose process is gone (killed before it
 * could clean up), and namespaces or links named after a pid that no live run owns.
 * Live runs (parallel test processes) are left alone.
 */
export function sweepStale(): string[] {
  mkdirSync(STATE_DIR, { recursive: true });
  const removed: string[] = [];
  const live = new Set<number>([process.pid]);
  for (const f of readdirSync(STATE_DIR)) {
    const path = join(STATE_DIR, f);
    let rec: { pid: number; ticks: number | null };
    try {
      rec = JSON.parse(readFileSync(path, 'utf8')) as RunState;
    } catch {
      continue;
    }
    if (ownerAlive(rec.pid, rec.ticks)) {
      if (f.startsWith('run-')) live.add(rec.pid);
      continue;
    }
    if (f.startsWith('run-')) {
      const s = rec as RunState;
      // Only socat and processes in its namespaces: never a stranger that reused a pid.
      s.processes = s.processes.filter((p) => /socat|docket|node/.test(cmdline(p.pid)));
      teardown(s);
      removed.push(...s.namespaces, ...s.links);
    } else {
      rmSync(path, { force: true });
    }
  }
  for (const ns of sh('ip', ['netns', 'list']).split('\n')) {
    const m = /^docket-(\d+)[a-z]-\S+/.exec(ns);
    if (!m || live.has(Number(m[1]))) continue;
    for (const pid of pidsIn(m[0])) killTree(pid);
    shQuiet('ip', ['netns', 'del', m[0]]);
    removed.push(m[0]);
  }
  for (const line of sh('ip', ['-o', 'link', 'show']).split('\n')) {
    const m = /^\d+: (dk[bv](\d+)[a-z](?:-\d+)?)[@:]/.exec(line);
    if (!m || live.has(Number(m[2]))) continue;
    shQuiet('ip', ['link', 'del', m[1]]);
    removed.push(m[1]);
  }
  return removed;
}
