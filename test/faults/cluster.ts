/**
 * The three-node RabbitMQ cluster of scenarios 8–10: started once for all of them (it
 * takes about 40 s) on its own ports, never the machine's main broker, and stopped by
 * the suite at the end whatever happened. Also what those scenarios measure: outages,
 * jobs that waited too long outside them, and the jobs the lost-message check published
 * again (read from the workers' log, where the check writes one line per task).
 */
import { existsSync, readFileSync } from 'node:fs';
import amqp from 'amqplib';
import type { Db } from '../../app/db.js';
import { RabbitCluster } from '../cluster/rabbit-cluster.js';
import type { Backend } from '../helpers.js';

/** Not the cluster test's 5801–5803: both may run at once on a shared machine. */
const BASE_PORT = 5811;

export const MYSQL_CLUSTER: Backend = { db: 'mysql', transport: 'amqp', name: 'MariaDB + RabbitMQ cluster (quorum)' };

let starting: Promise<RabbitCluster> | null = null;

/** The shared cluster, started at the first call. */
export function sharedCluster(say: (s: string) => void): Promise<RabbitCluster> {
  if (!starting) {
    const t = Date.now();
    say('  starting a three-node RabbitMQ cluster');
    starting = RabbitCluster.start(BASE_PORT).then((c) => {
      say(`  cluster up in ${Math.round((Date.now() - t) / 1000)} s (ports ${BASE_PORT}–${BASE_PORT + 2})`);
      return c;
    });
    // A failed start is not kept: the next scenario says why again.
    starting.catch(() => (starting = null));
  }
  return starting;
}

/** Stops the cluster if one was started; safe to call more than once. */
export async function stopSharedCluster(): Promise<void> {
  const p = starting;
  starting = null;
  const c = await p?.catch(() => null);
  await c?.stop();
}

/** The environment of a run against the cluster: every node, quorum queues. */
export function clusterEnv(c: RabbitCluster): Record<string, string> {
  return { AMQP_URL: c.urls(0), AMQP_QUEUE_TYPE: 'quorum' };
}

export interface Outage {
  from: number;
  to: number;
}

/** The first job completed after `t` (ms since `t`), or null if none was. */
export async function firstCompletionAfter(db: Db, t: number): Promise<number | null> {
  const r = (await db('jobs').where({ status: 'completed' }).where('finished_at', '>', t).min({ at: 'finished_at' })) as Array<{ at: number | string | null }>;
  return r[0].at === null ? null : Number(r[0].at) - t;
}

/** The longest wait of any job outside the outages, and how many waited more than `limitMs`. */
export async function waits(db: Db, outages: Outage[], limitMs: number): Promise<{ maxMs: number; over: number }> {
  const rows = (await db('jobs').select('queued_at', 'finished_at')) as Array<{ queued_at: number | string; finished_at: number | string | null }>;
  const now = Date.now();
  let maxMs = 0;
  let over = 0;
  for (const r of rows) {
    const end = r.finished_at === null ? now : Number(r.finished_at);
    let start = Number(r.queued_at);
    // An outage the job waited through restarts its clock when it ends.
    for (const o of [...outages].sort((a, b) => a.from - b.from)) if (o.from <= end && o.to > start) start = Math.max(start, Math.min(o.to, end));
    const ms = end - start;
    maxMs = Math.max(maxMs, ms);
    if (ms > limitMs) over++;
  }
  return { maxMs, over };
}

/** Jobs the lost-message check published again, from its log lines in the workers' log. */
export function republishedIn(logFile: string): number {
  if (!existsSync(logFile)) return 0;
  let n = 0;
  for (const m of readFileSync(logFile, 'utf8').matchAll(/published (\d+) job\(s\) of \S+ again/g)) n += Number(m[1]);
  return n;
}

/**
 * Every task queue of this prefix purged at once, as an operator might from the
 * management page: named by `rabbitmqctl list_queues`, purged over AMQP, which answers
 * with the count of messages each purge removed (rabbitmqctl would take a second or
 * two per queue, while the backlog drains).
 */
export async function purgeTaskQueues(c: RabbitCluster, prefix: string): Promise<{ queues: number; messages: number }> {
  const out = await c.ctl(c.nodes[0], ['list_queues', '-q', '--no-table-headers', 'name']);
  const names = out
    .split('\n')
    .map((l) => l.trim())
    .filter((name) => name.startsWith(`${prefix}.task.`));
  const conn = await amqp.connect(c.nodes[0].url);
  try {
    const ch = await conn.createChannel();
    const counts = await Promise.all(names.map((q) => ch.purgeQueue(q)));
    return { queues: names.length, messages: counts.reduce((n, r) => n + r.messageCount, 0) };
  } finally {
    await conn.close();
  }
}

/** A job that waited longer than this, outside the outages, was stuck. */
export const STUCK_LIMIT_MS = 60_000;
