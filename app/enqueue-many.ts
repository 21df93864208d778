/** Bulk enqueue for loads of distinct work (benchmarks, tests, scripted back-fills). */
import { BadRequestError } from './errors.js';
import type { JobService } from './job-service.js';
import { requestSubscriptions } from './notify/subscribe.js';
import * as store from './store/jobs.js';
import type { Profile } from './store/user-profile.js';
import type { NewJob } from './types.js';

/**
 * Bulk enqueue: the jobs and their `queued` events in one transaction, then one
 * publish batch. Unique keys are not coalesced here (a bulk load of distinct work);
 * a task with a unique key must go through `enqueue`. Returns the ids in order and
 * how many the broker confirmed (the dispatcher publishes the rest later).
 */
export async function enqueueMany(s: JobService, reqs: NewJob[]): Promise<{ ids: number[]; dispatched: number }> {
  const now = s.now();
  const rows: store.InsertJob[] = [];
  const actors = new Set<string>();
  const profiles = new Map<number, Profile | null>();
  for (const req of reqs) {
    const { def, row, actor } = s.prepare(req, now);
    if (def.uniqueKey) throw new BadRequestError(`the task "${def.name}" coalesces by unique key; enqueue it alone`);
    actors.add(actor);
    row.subscriptions = await requestSubscriptions(s.db, s.config, req, profiles);
    rows.push(row);
  }
  if (actors.size > 1) throw new BadRequestError('a bulk enqueue is on behalf of one user');
  const ids = await store.insertJobs(s.db, rows, [...actors][0] ?? 'Command line');
  let dispatched = 0;
  // Slices keep one publish batch (and its confirms) to a bounded size.
  for (let i = 0; i < ids.length; i += 5000) {
    const items = ids.slice(i, i + 5000).map((id, k) => ({ id, task: rows[i + k].task, priority: rows[i + k].priority, attempt: 0 }));
    dispatched += (await s.dispatch(items)).length;
  }
  return { ids, dispatched };
}
