/**
 * Completions are written in batches: while one transaction is in flight, the next
 * completions gather and go together in the following one (one commit for many jobs).
 */
import type { JobService } from '../app/job-service.js';
import type { Job } from '../app/types.js';
import { retryWrite } from './retry-write.js';
import type { TaskResult } from './tasks/types.js';

/** The most completions one transaction carries. */
const BATCH = 200;

export class CompletionBatch {
  private queue: Array<{
    job: Job;
    result: TaskResult;
    resolve: (ok: boolean) => void;
    reject: (err: unknown) => void;
  }> = [];
  private writing = false;

  constructor(
    private readonly service: JobService,
    private readonly workerId: string,
  ) {}

  /** Resolves true once written, false when the attempt was stale (refused). */
  add(job: Job, result: TaskResult): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ job, result, resolve, reject });
      if (!this.writing) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, BATCH);
      try {
        // Retried for up to half a lease (through a MariaDB restart, say).
        const done = await retryWrite(() => this.service.completeMany(batch, this.workerId), this.service.config.leaseMs / 2);
        for (const b of batch) b.resolve(done.has(b.job.id));
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.writing = false;
  }
}
