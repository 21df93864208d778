/**
 * What a job's end or retry means for its chain, called by JobService after the change
 * is committed, and by the sweep for a change whose process died before this ran.
 *
 * Advancing after the commit rather than inside the completing transaction keeps the
 * workers' batched completion (one plain-SQL UPDATE for many jobs) as it is; the price is
 * a window in which the step is completed and the next one still held. The sweep closes
 * it: every process looks for held steps whose step before has ended (`chainsToAdvance`),
 * so a step is never lost, and the conditional release never starts one twice.
 */
import type { JobService } from '../job-service.js';
import { advanceChain, chainsOf, chainsToAdvance, reholdAfter } from '../store/group-chain.js';
import type { Job } from '../types.js';

/** Advances these chains; publishes the released steps. Returns how many were released. */
export async function advanceChains(service: JobService, groupIds: number[]): Promise<number> {
  let released = 0;
  for (const gid of groupIds) {
    // A release may be followed at once by another change (a released step cancelled
    // meanwhile): advance until nothing moves, a few rounds at most.
    for (let round = 0; round < 3; round++) {
      const step = await advanceChain(service.db, gid, service.now(), service.actorName);
      if (!step) break;
      released++;
      await service.dispatch([step]);
    }
  }
  return released;
}

/**
 * After jobs ended: advance their chains. `groupId` known to be null (a worker's own job
 * row) skips the lookup, so jobs outside groups pay nothing. Never throws: the sweep
 * will advance what this could not.
 */
export async function afterEnded(service: JobService, jobs: Array<Pick<Job, 'id'> & Partial<Pick<Job, 'groupId'>>>): Promise<void> {
  const ids = jobs.filter((j) => j.groupId !== null).map((j) => j.id);
  if (ids.length === 0) return;
  try {
    await advanceChains(service, await chainsOf(service.db, ids));
  } catch (err) {
    service.log.warn(`could not advance the chains of jobs ${ids.join(', ')}: ${String(err)}; the sweep will`);
  }
}

/**
 * A chain step retried (by itself or with its group): the later steps its failure
 * stopped are held again behind it, and released as it completes.
 */
export async function afterRetried(service: JobService, job: Pick<Job, 'id' | 'groupId' | 'groupSeq'>): Promise<void> {
  if (job.groupId === null || job.groupSeq === null) return;
  const [gid] = await chainsOf(service.db, [job.id]);
  if (gid === undefined) return;
  await reholdAfter(service.db, gid, job.groupSeq, service.now(), service.actorName);
  // The retried step may have completed already, before its successors were held.
  await advanceChains(service, [gid]);
}

/** The sweep's round: chains left behind by a process that died after a step ended. */
export async function advancePendingChains(service: JobService): Promise<number> {
  return advanceChains(service, await chainsToAdvance(service.db, 100));
}
