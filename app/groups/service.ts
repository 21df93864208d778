/**
 * Groups (envelopes): jobs submitted together under one name, shown with one combined
 * status, run side by side or as a chain. Jobs stay jobs: every status change of a
 * group's job goes through JobService like any other; this module creates the group,
 * reads it, and turns a group's cancel or retry into its jobs' own.
 */
import type { JobService } from '../job-service.js';
import { BadRequestError, ConflictError, NotFoundError } from '../errors.js';
import { isAdmin, type Actor } from '../policy.js';
import { getGroup, groupCounts, groupJobs, jobsOfGroups, listGroups, type GroupJob, type GroupRow, type StatusCounts } from '../store/group-read.js';
import { FROM_PREVIOUS } from '../store/group-chain.js';
import { insertGroup } from '../store/group-insert.js';
import type { InsertJob } from '../store/job-insert.js';
import type { JobOrigin } from '../types.js';
import { groupStatus, type GroupStatus } from './status.js';

/** The most jobs one group may hold: a group is read whole on its page. */
export const MAX_GROUP_JOBS = 100;

export interface NewGroup {
  name?: unknown;
  chain?: unknown;
  jobs?: unknown;
}

export interface GroupView extends GroupRow {
  status: GroupStatus;
  complete: boolean;
  counts: StatusCounts;
}

export interface GroupDetail extends GroupView {
  jobs: GroupJob[];
}

/** Checks a request's shape, naming what is wrong. */
function parseRequest(body: NewGroup): { name: string; chain: boolean; jobs: Array<{ task: string; params: Record<string, unknown> | undefined }> } {
  const { name, chain, jobs } = body;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) throw new BadRequestError('name must be a text of 1 to 200 characters');
  if (chain !== undefined && typeof chain !== 'boolean') throw new BadRequestError('chain must be true or false');
  if (!Array.isArray(jobs) || jobs.length === 0 || jobs.length > MAX_GROUP_JOBS) {
    throw new BadRequestError(`jobs must be a list of 1 to ${MAX_GROUP_JOBS} jobs: [{"task": "...", "params": {...}}]`);
  }
  const parsed = jobs.map((j: unknown, i) => {
    if (!j || typeof j !== 'object' || Array.isArray(j)) throw new BadRequestError(`jobs[${i}] must be an object {"task": "...", "params": {...}}`);
    const { task, params } = j as { task?: unknown; params?: unknown };
    if (typeof task !== 'string') throw new BadRequestError(`jobs[${i}].task must name a task`);
    if (params !== undefined && (!params || typeof params !== 'object' || Array.isArray(params))) throw new BadRequestError(`jobs[${i}].params must be an object`);
    return { task, params: params as Record<string, unknown> | undefined };
  });
  // "@previous" names the step before's description: only a chain's later steps have one.
  for (const [i, j] of parsed.entries()) {
    const from = Object.entries(j.params ?? {}).find(([, v]) => v === FROM_PREVIOUS);
    if (from && (chain !== true || i === 0)) {
      throw new BadRequestError(`jobs[${i}].params.${from[0]}: "${FROM_PREVIOUS}" takes the previous step's description, in a chain's second step or later`);
    }
  }
  return { name: name.trim(), chain: chain === true, jobs: parsed };
}

export class GroupService {
  constructor(private readonly jobs: JobService) {}

  /**
   * Creates the group and its jobs in one transaction, then publishes what may start.
   * `upload`: a stored file this request uploaded (the import form's CSV), which the job
   * naming it owns; removed if the group cannot be made.
   */
  async create(body: NewGroup, user: Actor, origin: JobOrigin, upload: string | null = null): Promise<GroupDetail> {
    if (upload === null) return this.insert(body, user, origin, null);
    let g: GroupDetail;
    try {
      g = await this.insert(body, user, origin, upload);
    } catch (err) {
      await this.jobs.files.delete(upload).catch(() => undefined);
      throw err;
    }
    return g;
  }

  private async insert(body: NewGroup, user: Actor, origin: JobOrigin, upload: string | null): Promise<GroupDetail> {
    const req = parseRequest(body);
    const s = this.jobs;
    const now = s.now();
    const rows: InsertJob[] = [];
    let actor = 'Command line';
    for (const [i, j] of req.jobs.entries()) {
      try {
        const p = s.prepare({ task: j.task, params: j.params, user, origin }, now, upload);
        // No coalescing by unique key: a group's jobs are its own, run in its order.
        rows.push(p.row);
        actor = p.actor;
      } catch (err) {
        if (err instanceof BadRequestError) throw new BadRequestError(`jobs[${i}]: ${err.message}`);
        throw err;
      }
    }
    const { id, jobIds } = await insertGroup(
      s.db,
      { name: req.name, chain: req.chain, userId: user?.id ?? null, username: user?.username ?? null, origin, now },
      rows,
      actor,
    );
    // The job that reads the upload owns it (it goes when that job is cleared).
    const owner = upload === null ? -1 : rows.findIndex((r) => Object.values(r.params).includes(upload));
    if (upload !== null) {
      if (owner < 0) await s.files.delete(upload).catch(() => undefined);
      else await s.files.assign(upload, jobIds[owner]);
    }
    const runnable = req.chain ? [0] : rows.map((_, k) => k);
    await s.dispatch(runnable.map((k) => ({ id: jobIds[k], task: rows[k].task, priority: rows[k].priority, attempt: 0 })));
    return this.detail(id, user);
  }

  /** The group if the actor may see it; another archivist's group does not exist for them. */
  async visible(id: number, actor: Actor): Promise<GroupRow> {
    const g = await getGroup(this.jobs.db, id);
    if (!g || !(isAdmin(actor) || (actor !== null && g.userId === actor.id))) throw new NotFoundError(`group ${id} does not exist`);
    return g;
  }

  async detail(id: number, actor: Actor): Promise<GroupDetail> {
    const g = await this.visible(id, actor);
    const [jobs, counts] = await Promise.all([groupJobs(this.jobs.db, id), groupCounts(this.jobs.db, [id])]);
    return { ...view(g, counts.get(id) as StatusCounts), jobs };
  }

  /** Groups newest first, the actor's own (everyone's for administrators). */
  async list(actor: Actor, opts: { limit: number; before?: number | null }): Promise<GroupView[]> {
    const groups = await listGroups(this.jobs.db, { userId: isAdmin(actor) ? null : (actor as { id: number }).id, ...opts });
    const counts = await groupCounts(this.jobs.db, groups.map((g) => g.id));
    return groups.map((g) => view(g, counts.get(g.id) as StatusCounts));
  }

  /** The list with each group's jobs in order (the Envelopes view, expandable to its jobs). */
  async listWithJobs(actor: Actor, opts: { limit: number; before?: number | null }): Promise<GroupDetail[]> {
    const groups = await this.list(actor, opts);
    const jobs = await jobsOfGroups(this.jobs.db, groups.map((g) => g.id));
    return groups.map((g) => ({ ...g, jobs: jobs.get(g.id) ?? [] }));
  }

  /**
   * Cancels every unfinished job, the last step first: a chain's held steps end as
   * cancelled by the actor rather than "an earlier step failed".
   */
  async cancel(id: number, actor: Actor): Promise<GroupDetail> {
    const g = await this.visible(id, actor);
    const by = actor?.username ?? 'Command line';
    const jobs = (await groupJobs(this.jobs.db, g.id)).filter((j) => j.status === 'queued' || j.status === 'running');
    if (jobs.length === 0) throw new ConflictError(`group ${id} has no queued or running job to cancel`);
    for (const j of jobs.reverse()) {
      await this.jobs.cancel(j.id, by).catch((err: unknown) => {
        // Ended meanwhile: nothing left to cancel there.
        if (!(err instanceof ConflictError)) throw err;
      });
    }
    return this.detail(id, actor);
  }

  /**
   * Retries the failed and cancelled jobs. In a chain only the first of them runs again;
   * the later ones are held behind it (JobService.retry → afterRetried).
   */
  async retry(id: number, actor: Actor): Promise<GroupDetail> {
    const g = await this.visible(id, actor);
    const by = actor?.username ?? 'Command line';
    const all = (await groupJobs(this.jobs.db, g.id)).filter((j) => j.status === 'failed' || j.status === 'cancelled');
    // Outside a chain, a job that failed on its own input stays as it is (it would only
    // fail again); in a chain the first ended job is the one to retry, and JobService
    // refuses it with its reason.
    const ended = g.chain ? all : all.filter((j) => j.failureKind !== 'input');
    if (ended.length === 0 && all.length > 0) {
      throw new ConflictError(`group ${id}'s failed jobs failed on their input, and the same input would fail again: correct it and start new jobs`);
    }
    if (ended.length === 0) throw new ConflictError(`group ${id} has no failed or cancelled job to retry`);
    // In a chain JobService.retry holds the later ones again behind the first (afterRetried).
    for (const j of g.chain ? ended.slice(0, 1) : ended) await this.jobs.retry(j.id, by);
    return this.detail(id, actor);
  }
}

function view(g: GroupRow, counts: StatusCounts): GroupView {
  return { ...g, ...groupStatus(counts), counts };
}
