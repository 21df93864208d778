/**
 * A chain's steps: the next one released when the one before completes, the rest stopped
 * (cancelled, saying why) when it fails or is cancelled, and held again when the failed step is retried.
 *
 * A held step is a queued job with `run_after` at HELD, a time that never comes: the
 * claim (`run_after <= now`) and the dispatcher skip it without knowing about chains.
 * Every change here is a conditional UPDATE on `run_after = HELD` (or on the status), so
 * the completing worker and any number of sweeping processes may advance one chain at
 * once: one of them releases a step, the others change nothing. A released step is
 * published by whoever released it, and by the dispatcher if that publish is lost.
 */
import type { Knex } from 'knex';
import { writeTransaction, type Db } from '../db.js';
import type { Row } from './raw.js';

/** The `run_after` of a held step: the largest integer both engines and JavaScript keep exactly. */
export const HELD = Number.MAX_SAFE_INTEGER;

/**
 * A chain step's parameter given as this text takes the description of the step before's
 * result (its `objectRef`, `description:N`) when the step is released: a finding aid after
 * an import gets the imported fonds. No slug or id can be written so.
 */
export const FROM_PREVIOUS = '@previous';

/**
 * The step's parameters with every FROM_PREVIOUS replaced by the description the step
 * before names; null when none is there to replace; an Error when the step before named
 * no description.
 */
export function paramsFromPrevious(params: Record<string, unknown>, prevRef: string | null, prevId: number): Record<string, unknown> | Error | null {
  const names = Object.keys(params).filter((k) => params[k] === FROM_PREVIOUS);
  if (names.length === 0) return null;
  const m = /^description:([0-9]+)$/.exec(prevRef ?? '');
  if (!m) return new Error(`job ${prevId} named no description for "${names.join('", "')}" to take`);
  return { ...params, ...Object.fromEntries(names.map((k) => [k, m[1]])) };
}

export interface Released {
  id: number;
  task: string;
  priority: number;
  attempt: number;
}

/** Which of these jobs belong to a chain: the groups to advance after they ended. */
export async function chainsOf(db: Db, jobIds: number[]): Promise<number[]> {
  if (jobIds.length === 0) return [];
  const rows = (await db('jobs')
    .join('job_groups', 'job_groups.id', 'jobs.group_id')
    .whereIn('jobs.id', jobIds)
    .where('job_groups.chain', true)
    .distinct('jobs.group_id as gid')) as Row[];
  return rows.map((r) => Number(r.gid));
}

/**
 * Chains with a held step whose step before has ended: the sweep's work (a completion
 * whose process died before it advanced the chain). Reads held steps through the index
 * of jobs not handed to the broker (`undispatched`, which counts every held step in;
 * migration 20261208000000), not every queued job.
 */
export async function chainsToAdvance(db: Db, limit: number): Promise<number[]> {
  const rows = (await db('jobs as h')
    .join('jobs as p', (j) => j.on('p.group_id', 'h.group_id').andOn('p.group_seq', '=', db.raw('h.group_seq - 1')))
    .where('h.undispatched', 1)
    .where('h.status', 'queued')
    .where('h.run_after', HELD)
    .whereIn('p.status', ['completed', 'failed', 'cancelled'])
    .distinct('h.group_id as gid')
    .limit(limit)) as Row[];
  return rows.map((r) => Number(r.gid));
}

/**
 * Advances one chain as far as its steps allow: releases the first held step if the step
 * before completed, or cancels every held step if it failed or was cancelled. Returns the
 * released step (to publish), if any.
 */
export async function advanceChain(db: Db, groupId: number, now: number, actor: string): Promise<Released | null> {
  return writeTransaction(db, async (trx) => {
    const steps = (await trx('jobs')
      .select('id', 'task', 'priority', 'attempt', 'status', 'run_after', 'group_seq', 'object_ref')
      .where({ group_id: groupId })
      .orderBy('group_seq', 'asc')) as Row[];
    const k = steps.findIndex((s) => s.status === 'queued' && Number(s.run_after) === HELD);
    if (k <= 0) return null;
    const prev = steps[k - 1];
    const step = steps[k];
    if (prev.status === 'completed') {
      // The step's parameters are read apart: only the step being released needs them.
      const stepParams = (await trx('jobs').select('params').where({ id: step.id }).first()) as Row;
      const raw = stepParams.params;
      const params = (typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, unknown>;
      const taken = paramsFromPrevious(params, (prev.object_ref as string | null) ?? null, Number(prev.id));
      if (taken instanceof Error) {
        // Nothing to run it on: the step fails, saying why, and the steps after it stop.
        const n = await trx('jobs')
          .where({ id: step.id, status: 'queued', run_after: HELD })
          .update({ status: 'failed', finished_at: now, error: taken.message, run_after: null });
        if (n !== 1) return null;
        await trx('job_events').insert({ job_id: step.id, at: now, type: 'failed', attempt: Number(step.attempt), actor, message: taken.message });
        await stopHeld(trx, steps.slice(k + 1), { ...step, status: 'failed' }, now, actor);
        return null;
      }
      const patch: Record<string, unknown> = { run_after: null, dispatched_at: null };
      if (taken) {
        patch.params = JSON.stringify(taken);
        if (String(step.object_ref ?? '').includes(FROM_PREVIOUS)) patch.object_ref = String(prev.object_ref);
      }
      const n = await trx('jobs').where({ id: step.id, status: 'queued', run_after: HELD }).update(patch);
      if (n !== 1) return null;
      await trx('job_events').insert({
        job_id: step.id,
        at: now,
        type: 'queued',
        attempt: Number(step.attempt),
        actor,
        message: `job ${Number(prev.id)} completed: this step may start${taken ? ` (on ${String(prev.object_ref)})` : ''}`,
      });
      return { id: Number(step.id), task: String(step.task), priority: Number(step.priority), attempt: Number(step.attempt) };
    }
    if (prev.status !== 'failed' && prev.status !== 'cancelled') return null;
    await stopHeld(trx, steps.slice(k), prev, now, actor);
    return null;
  });
}

/** Cancels the held ones of `steps`, saying that `prev` (failed or cancelled) stopped them. */
async function stopHeld(trx: Knex.Transaction, steps: Row[], prev: Row, now: number, actor: string): Promise<void> {
  const reason = prev.status === 'failed' ? 'an earlier step failed' : 'an earlier step was cancelled';
  const held = steps.filter((s) => s.status === 'queued' && Number(s.run_after) === HELD);
  for (const s of held) {
    const n = await trx('jobs')
      .where({ id: s.id, status: 'queued', run_after: HELD })
      .update({ status: 'cancelled', finished_at: now, error: reason, cancel_requested_by: actor });
    if (n === 1) {
      await trx('job_events').insert({
        job_id: s.id,
        at: now,
        type: 'cancelled',
        attempt: Number(s.attempt),
        actor,
        message: `${reason} (job ${Number(prev.id)} is ${String(prev.status)})`,
      });
    }
  }
}

/**
 * Holds again the steps after `seq` that a failure stopped (failed or cancelled), so
 * that the retried step at `seq` resumes the chain. Each gets one more attempt if it
 * used up its own, as a manual retry does.
 */
export async function reholdAfter(db: Db, groupId: number, seq: number, now: number, actor: string): Promise<number[]> {
  return writeTransaction(db, async (trx) => {
    // A later step retried on its own while the one before has not completed: it waits
    // for it rather than running out of order.
    const prev = (await trx('jobs').select('status').where({ group_id: groupId, group_seq: seq - 1 }).first()) as Row | undefined;
    if (prev && prev.status !== 'completed') {
      await trx('jobs').where({ group_id: groupId, group_seq: seq, status: 'queued' }).update({ run_after: HELD });
    }
    const later = (await trx('jobs')
      .select('id', 'attempt', 'group_seq')
      .where({ group_id: groupId })
      .where('group_seq', '>', seq)
      .whereIn('status', ['failed', 'cancelled'])
      .orderBy('group_seq', 'asc')) as Row[];
    const ids = later.map((r) => Number(r.id));
    if (ids.length === 0) return [];
    await trx('jobs')
      .whereIn('id', ids)
      .whereIn('status', ['failed', 'cancelled'])
      .update({
        status: 'queued',
        run_after: HELD,
        worker_id: null,
        lease_expires_at: null,
        dispatched_at: null,
        finished_at: null,
        error: null,
        cancel_requested_by: null,
        max_attempts: db.raw('case when max_attempts > attempt then max_attempts else attempt + 1 end'),
      });
    await trx('job_events').insert(
      later.map((r) => ({
        job_id: Number(r.id),
        at: now,
        type: 'retried',
        attempt: Number(r.attempt),
        actor,
        message: `retried by ${actor}: waiting for step ${Number(r.group_seq)} of group ${groupId}`,
      })),
    );
    return ids;
  });
}
