/**
 * CPU per job with every process of a side counted: its workers and their children,
 * the enqueuer (this process, or a peer's own), and the servers it uses (MariaDB,
 * RabbitMQ, Redis, PostgreSQL), read from /proc/<pid>/stat before and after a run.
 * A figure that holds better than jobs/s on a shared machine, though the servers are
 * shared too: another user's queries on the same MariaDB count against the side using
 * it during its run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpuMs } from './proc.js';

export type Server = 'MariaDB' | 'RabbitMQ' | 'Redis' | 'PostgreSQL';

/** The server processes by their command name (/proc/<pid>/comm, at most 15 chars). */
const SERVER_OF: Record<string, Server> = {
  mariadbd: 'MariaDB',
  mysqld: 'MariaDB',
  'beam.smp': 'RabbitMQ',
  'redis-server': 'Redis',
  postgres: 'PostgreSQL',
};

interface Stat {
  comm: string;
  ppid: number;
  own: number;
  reaped: number;
}

function readStat(pid: string): Stat | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const open = s.indexOf('(');
    const close = s.lastIndexOf(')');
    const f = s.slice(close + 2).split(' ');
    return { comm: s.slice(open + 1, close), ppid: Number(f[1]), own: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}

/**
 * CPU ms of each server so far: every process of its name (both Redis instances, every
 * PostgreSQL backend), plus what the topmost one reaped (backends that ended).
 */
export function serverCpuMs(): Record<Server, number> {
  const out: Record<Server, number> = { MariaDB: 0, RabbitMQ: 0, Redis: 0, PostgreSQL: 0 };
  const stats = new Map<number, Stat>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const st = readStat(pid);
    if (st && SERVER_OF[st.comm]) stats.set(Number(pid), st);
  }
  for (const st of stats.values()) {
    const server = SERVER_OF[st.comm];
    const parent = stats.get(st.ppid);
    const top = !parent || SERVER_OF[parent.comm] !== server;
    out[server] += st.own + (top ? st.reaped : 0);
  }
  // USER_HZ is 100 on Linux: a tick is 10 ms.
  for (const k of Object.keys(out) as Server[]) out[k] *= 10;
  return out;
}

/** The processes of a side, by the name of its component in the report. */
export type Clients = Record<string, number[]>;

export interface CpuSample {
  at: Record<string, number>;
}

/** This process's own CPU ms (the enqueuer and the poller of every side run here). */
function selfMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Takes one reading of the side's clients (with their children), this process and its servers. */
export function sample(clients: Clients, servers: Server[]): CpuSample {
  const at: Record<string, number> = { bench: selfMs() };
  for (const [name, pids] of Object.entries(clients)) at[name] = pids.reduce((t, p) => t + cpuMs(p), 0);
  const s = serverCpuMs();
  for (const name of servers) at[name] = s[name];
  return { at };
}

/** µs of CPU per job for each component and in total, between two readings. */
export function perJob(before: CpuSample, after: CpuSample, jobs: number): Record<string, number> {
  const out: Record<string, number> = {};
  let total = 0;
  for (const k of Object.keys(after.at)) {
    const us = ((after.at[k] - (before.at[k] ?? 0)) * 1000) / jobs;
    out[k] = Math.round(us);
    total += us;
  }
  out.total = Math.round(total);
  return out;
}

/** "total 1,234 µs (workers 800, MariaDB 300, ...)" for the progress log and notes. */
export function describe(cpu: Record<string, number>): string {
  const parts = Object.entries(cpu)
    .filter(([k]) => k !== 'total')
    .map(([k, v]) => `${k} ${v.toLocaleString('en')}`);
  return `${(cpu.total ?? 0).toLocaleString('en')} µs/job (${parts.join(', ')})`;
}
