/** A running attempt's progress, as its task reports it. */
import type { Db } from '../db.js';
import type { ProgressStep } from '../types.js';

export async function setProgress(
  db: Db,
  id: number,
  attempt: number,
  p: { current: number | null; total: number | null; text: string | null; steps?: ProgressStep[] },
): Promise<boolean> {
  const steps = p.steps === undefined ? {} : { progress_steps: JSON.stringify(p.steps) };
  const n = await db('jobs')
    .where({ id, attempt, status: 'running' })
    .update({
      progress_current: p.current,
      progress_total: p.total,
      progress_text: p.text === null ? null : p.text.slice(0, 255),
      ...steps,
    });
  return n === 1;
}
