/**
 * A worker's presence and leases, as the workers (and nothing else) keep them: its row
 * (what it runs, when it last beat), and the leases of the jobs it holds.
 */
import { hostname } from 'node:os';
import type { JobService } from './job-service.js';
import * as store from './store/jobs.js';
import * as workerRows from './store/workers.js';

export class WorkerPresence {
  constructor(private readonly s: JobService) {}

  /** A starting worker's row: what it runs and how many at once (`docket workers` lists it). */
  async register(w: { id: string; abilities: string[]; concurrency: number }): Promise<void> {
    await workerRows.registerWorker(this.s.db, { ...w, host: hostname(), pid: process.pid, now: this.s.now() });
  }

  /**
   * A worker's heartbeat: extends the leases of its jobs (those it runs and those it
   * claimed ahead), then marks it alive with how many jobs it runs. Leases go first:
   * they keep its jobs from being recovered elsewhere.
   */
  async heartbeat(workerId: string, jobIds: number[], running: number): Promise<void> {
    const now = this.s.now();
    await store.renewLeases(this.s.db, workerId, jobIds, now + this.s.config.leaseMs);
    await workerRows.heartbeatWorker(this.s.db, workerId, running, now);
  }

  /** The jobs the database says this worker runs, with their attempts and cancel requests. */
  async jobsHeldBy(workerId: string): Promise<Array<{ id: number; attempt: number; cancelRequestedBy: string | null }>> {
    return store.runningOfWorker(this.s.db, workerId);
  }

  /** A worker said goodbye: shown as stopped rather than lost. */
  async unregister(workerId: string): Promise<void> {
    await workerRows.stopWorker(this.s.db, workerId, this.s.now());
  }
}
