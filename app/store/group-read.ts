/** Groups as the pages, the API and the CLI read them: one group, its jobs, a list. */
import type { Db } from '../db.js';
import { rowToSummary, SUMMARY_COLUMNS } from './job-rows.js';
import type { Row } from './raw.js';
import { JOB_STATUSES, type JobOrigin, type JobStatus, type JobSummary } from '../types.js';

export interface GroupRow {
  id: number;
  name: string;
  chain: boolean;
  userId: number | null;
  username: string | null;
  origin: JobOrigin;
  jobCount: number;
  createdAt: number;
}

export type StatusCounts = Record<JobStatus, number>;

/** A group's job in its place, with what it waits for when it is a held chain step. */
export interface GroupJob extends JobSummary {
  groupSeq: number;
  runAfter: number | null;
}

function rowToGroup(r: Row): GroupRow {
  return {
    id: Number(r.id),
    name: String(r.name),
    chain: Boolean(Number(r.chain)),
    userId: r.user_id === null || r.user_id === undefined ? null : Number(r.user_id),
    username: (r.username as string | null) ?? null,
    origin: r.origin as JobOrigin,
    jobCount: Number(r.job_count),
    createdAt: Number(r.created_at),
  };
}

export async function getGroup(db: Db, id: number): Promise<GroupRow | null> {
  const r = (await db('job_groups').where({ id }).first()) as Row | undefined;
  return r ? rowToGroup(r) : null;
}

/** The jobs of a group in order; light columns only (the jobs_group index). */
export async function groupJobs(db: Db, id: number): Promise<GroupJob[]> {
  const rows = (await db('jobs')
    .select(...SUMMARY_COLUMNS, 'group_seq', 'run_after')
    .where({ group_id: id })
    .orderBy('group_seq', 'asc')) as Row[];
  return rows.map((r) => ({ ...rowToSummary(r), groupSeq: Number(r.group_seq), runAfter: r.run_after === null ? null : Number(r.run_after) }));
}

/** The jobs of each of these groups in order, in one read (the Envelopes list). */
export async function jobsOfGroups(db: Db, ids: number[]): Promise<Map<number, GroupJob[]>> {
  const out = new Map<number, GroupJob[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return out;
  const rows = (await db('jobs')
    .select(...SUMMARY_COLUMNS, 'group_id', 'group_seq', 'run_after')
    .whereIn('group_id', ids)
    .orderBy([{ column: 'group_id' }, { column: 'group_seq' }])) as Row[];
  for (const r of rows) {
    out.get(Number(r.group_id))?.push({ ...rowToSummary(r), groupSeq: Number(r.group_seq), runAfter: r.run_after === null ? null : Number(r.run_after) });
  }
  return out;
}

/** Counts by status of each of these groups, zeros included. */
export async function groupCounts(db: Db, ids: number[]): Promise<Map<number, StatusCounts>> {
  const out = new Map<number, StatusCounts>();
  for (const id of ids) out.set(id, Object.fromEntries(JOB_STATUSES.map((s) => [s, 0])) as StatusCounts);
  if (ids.length === 0) return out;
  const rows = (await db('jobs').select('group_id', 'status').count({ n: '*' }).whereIn('group_id', ids).groupBy('group_id', 'status')) as Row[];
  for (const r of rows) {
    const counts = out.get(Number(r.group_id));
    if (counts && (JOB_STATUSES as readonly string[]).includes(String(r.status))) counts[r.status as JobStatus] = Number(r.n);
  }
  return out;
}

/** Groups newest first, one owner's or everyone's, keyset on id. */
export async function listGroups(db: Db, q: { userId: number | null; limit: number; before?: number | null }): Promise<GroupRow[]> {
  const query = db('job_groups').orderBy('id', 'desc').limit(q.limit);
  if (q.userId !== null) query.where({ user_id: q.userId });
  if (q.before) query.where('id', '<', q.before);
  return ((await query) as Row[]).map(rowToGroup);
}
