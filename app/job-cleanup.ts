/**
 * Removing finished jobs and what they leave behind, by the one path that clear inactive,
 * discarding one job and retention share: the rows in short transactions (job-delete.ts),
 * then the files through the file store and the output mirrored on this host.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ConflictError, NotFoundError } from './errors.js';
import type { JobService } from './job-service.js';
import { deleteFinalJobs, emptyCleared, expiredJobIds, jobExists } from './store/job-delete.js';
import { clearInactive, forgetSummaries, type ClearedJobs } from './store/job-list.js';
import { getTask } from './tasks/index.js';

/** Whether a task's parameters name files its jobs own (an import's upload). */
const ownsFiles = (task: string): boolean => getTask(task)?.files !== undefined;

export class JobCleanup {
  constructor(private readonly s: JobService) {}

  /**
   * Deletes inactive jobs in `scope` (see `clearScope` in policy.ts) and what they leave
   * behind: their result files, and the files their tasks say their parameters own (an
   * import's upload). Returns how many jobs went.
   */
  async clearInactive(scope: { userId: number | null; includeCommandLine: boolean }): Promise<number> {
    const cleared = await clearInactive(this.s.db, scope, ownsFiles);
    await this.removeClearedFiles(cleared);
    return cleared.cleared;
  }

  /**
   * Discards one finished job (`policy.canDiscard` decides who may) with its events, output
   * and files: the clear path for one job. An active job is a conflict.
   */
  async discard(id: number): Promise<void> {
    if (!(await jobExists(this.s.db, id))) throw new NotFoundError(`job ${id} does not exist`);
    const cleared = await deleteFinalJobs(this.s.db, [id], ownsFiles, emptyCleared());
    if (cleared.cleared === 0) {
      const job = await this.s.get(id);
      throw new ConflictError(`job ${id} is ${job.status}; only completed, failed or cancelled jobs can be discarded`);
    }
    forgetSummaries(this.s.db);
    await this.removeClearedFiles(cleared);
  }

  /**
   * One round of retention: up to `batch` jobs past their retention (DOCKET_RETENTION_DAYS
   * for completed and cancelled, DOCKET_RETENTION_FAILED_DAYS for failed) go the clear
   * path's way, in one short transaction. Their ids come from the (status, finished_at)
   * index alone. Returns how many went (retention.ts repeats it).
   */
  async removeExpired(batch = 1000): Promise<ClearedJobs> {
    const day = 24 * 3600 * 1000;
    const now = this.s.now();
    const { retentionDays, retentionFailedDays } = this.s.config;
    const ids = retentionDays > 0 ? await expiredJobIds(this.s.db, ['completed', 'cancelled'], now - retentionDays * day, batch) : [];
    if (retentionFailedDays > 0 && ids.length < batch) {
      ids.push(...(await expiredJobIds(this.s.db, ['failed'], now - retentionFailedDays * day, batch - ids.length)));
    }
    const cleared = await deleteFinalJobs(this.s.db, ids, ownsFiles, emptyCleared());
    // The jobs page's cached counts are left to expire (3 s): forgotten after every batch,
    // each page load during a backlog would count again (scenario 10 measured it).
    if (cleared.cleared > 0) await this.removeClearedFiles(cleared);
    return cleared;
  }

  /**
   * Removes the files of cleared jobs (clear inactive, discard, retention) through the
   * store: their result files, the files their tasks say their parameters own (an import's
   * upload), and any other file of the job (a late attempt's result). A file that cannot
   * be removed is logged.
   */
  private async removeClearedFiles(cleared: ClearedJobs): Promise<void> {
    const warn = (what: string) => (err: unknown) => this.s.log.warn(`cannot remove ${what}: ${String(err)}`);
    for (const file of cleared.files) await this.s.files.delete(file).catch(warn(`result ${file}`));
    for (const job of cleared.owners) {
      for (const file of getTask(job.task)?.files?.(job.params) ?? []) {
        await this.s.files.delete(file).catch(warn(`file ${file} of a ${job.task} job`));
      }
    }
    // The output mirrored on this host (logs/jobs/<id>.log): a cleared job's output goes
    // with it. Workers on other hosts keep their own copies. A host that runs no worker
    // has no such folder: a batch of retention then makes no call for each job.
    if (!existsSync(this.s.config.jobLogDir)) return;
    for (const id of cleared.ids) {
      await rm(join(this.s.config.jobLogDir, `${id}.log`), { force: true }).catch(warn(`the log of job ${id}`));
    }
  }
}
