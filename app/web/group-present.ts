/** How a group reads in the API and on its page. */
import type { GroupDetail, GroupView } from '../groups/service.js';
import { GROUP_STATUS_CODES, JOB_STATUS_CODES } from '../groups/status.js';
import { HELD } from '../store/group-chain.js';
import type { GroupJob } from '../store/group-read.js';
import { isoDate, jobJson } from './present.js';

/** "waiting for job N" for a held chain step, null otherwise. */
export function waitingFor(jobs: GroupJob[], j: GroupJob): string | null {
  if (j.status !== 'queued' || j.runAfter !== HELD) return null;
  const prev = jobs.find((x) => x.groupSeq === j.groupSeq - 1);
  return prev ? `waiting for job ${prev.id}` : 'waiting for the step before';
}

export function groupJson(g: GroupView) {
  return {
    id: g.id,
    name: g.name,
    chain: g.chain,
    status: g.status,
    statusCode: GROUP_STATUS_CODES[g.status],
    complete: g.complete,
    counts: g.counts,
    jobCount: g.jobCount,
    user: g.username ?? 'Command line',
    origin: g.origin,
    createdAt: isoDate(g.createdAt),
    links: { self: `/api/groups/${g.id}`, page: `/groups/${g.id}` },
  };
}

export function groupDetailJson(g: GroupDetail) {
  return {
    ...groupJson(g),
    jobs: g.jobs.map((j) => ({
      ...jobJson(j),
      statusCode: JOB_STATUS_CODES[j.status],
      step: j.groupSeq + 1,
      waiting: waitingFor(g.jobs, j),
    })),
  };
}
