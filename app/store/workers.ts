import type { Db } from '../db.js';
import type { WorkerInfo } from '../types.js';

type Row = Record<string, unknown>;

export async function registerWorker(
  db: Db,
  w: { id: string; host: string; pid: number; abilities: string[]; concurrency: number; now: number },
): Promise<void> {
  await db('workers').insert({
    id: w.id,
    host: w.host,
    pid: w.pid,
    abilities: w.abilities.join(','),
    concurrency: w.concurrency,
    started_at: w.now,
    last_heartbeat_at: w.now,
    stopped_at: null,
    running: 0,
  });
}

export async function heartbeatWorker(db: Db, id: string, running: number, now: number): Promise<void> {
  await db('workers').where({ id }).update({ last_heartbeat_at: now, running });
}

export async function stopWorker(db: Db, id: string, now: number): Promise<void> {
  await db('workers').where({ id }).update({ stopped_at: now, running: 0 });
}

/**
 * Workers seen in the last day (stopped ones too, so an operator sees what went away),
 * newest first. A worker is lost when it stopped heartbeating without saying goodbye.
 */
export async function listWorkers(db: Db, now: number, heartbeatMs: number): Promise<WorkerInfo[]> {
  const rows = (await db('workers')
    .where('last_heartbeat_at', '>', now - 24 * 3600 * 1000)
    .orderBy('started_at', 'desc')
    .limit(500)) as Row[];
  return rows.map((r) => {
    const stoppedAt = r.stopped_at === null ? null : Number(r.stopped_at);
    const last = Number(r.last_heartbeat_at);
    return {
      id: String(r.id),
      host: String(r.host),
      pid: Number(r.pid),
      abilities: String(r.abilities).split(',').filter(Boolean),
      concurrency: Number(r.concurrency),
      startedAt: Number(r.started_at),
      lastHeartbeatAt: last,
      stoppedAt,
      running: Number(r.running),
      state: stoppedAt !== null ? 'stopped' : now - last > heartbeatMs * 3 ? 'lost' : 'active',
    };
  });
}

/** Workers holding running jobs (for the broker presence check). */
export async function workersWithRunningJobs(db: Db): Promise<string[]> {
  const rows = (await db('jobs').distinct('worker_id').where({ status: 'running' }).whereNotNull('worker_id')) as Row[];
  return rows.map((r) => String(r.worker_id));
}

/** One worker's id, host and process id (the job details page says where a job ran). */
export async function getWorker(db: Db, id: string): Promise<{ id: string; host: string; pid: number } | null> {
  const r = (await db('workers').select('id', 'host', 'pid').where({ id }).first()) as Row | undefined;
  return r ? { id: String(r.id), host: String(r.host), pid: Number(r.pid) } : null;
}

/** The last heartbeat of each of these workers (a worker not found is left out). */
export async function lastHeartbeats(db: Db, ids: readonly string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = (await db('workers').select('id', 'last_heartbeat_at').whereIn('id', ids)) as Row[];
  return new Map(rows.map((r) => [String(r.id), Number(r.last_heartbeat_at)]));
}
