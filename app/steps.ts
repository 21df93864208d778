/**
 * How a job's steps read (Swift's `ProgressSteps`): each with its label, its status as a
 * code (0 waiting, 1 active, 2 done) and a word, its extra line and how long it ran, plus
 * one ready-to-read text ("Determine position. - ACTIVE -- Working on overlap 1 / 1").
 */
import type { Job, ProgressStep } from './types.js';

export const STEP_WORDS = ['WAITING', 'ACTIVE', 'DONE'] as const;

export interface StepView {
  label: string;
  status: 0 | 1 | 2;
  statusWord: (typeof STEP_WORDS)[number];
  extra: string | null;
  current: number | null;
  total: number | null;
  /** How long the step ran (so far, for the active one); null for a waiting step. */
  runningMs: number | null;
}

/**
 * The steps as shown. A completed job's steps are all done, whatever its task last
 * reported (its last report may have been throttled away); a job that ended otherwise
 * shows where it stopped, its active step timed up to its end.
 */
export function stepsOf(job: Pick<Job, 'status' | 'progressSteps' | 'finishedAt'>, now = Date.now()): StepView[] | null {
  const steps = job.progressSteps;
  if (!steps || steps.length === 0) return null;
  const end = job.finishedAt ?? now;
  return steps.map((s: ProgressStep) => {
    const status = job.status === 'completed' ? 2 : s.status;
    const until = s.finishedAt ?? (status === 2 || job.finishedAt !== null ? end : now);
    return {
      label: s.label,
      status,
      statusWord: STEP_WORDS[status],
      extra: s.extra,
      current: s.current,
      total: s.total,
      runningMs: s.startedAt === null ? null : Math.max(0, until - s.startedAt),
    };
  });
}

/** One line per step: "Label. - ACTIVE -- extra". */
export function stepsText(steps: StepView[] | null): string | null {
  if (!steps) return null;
  return steps.map((s) => `${s.label.replace(/\.?$/, '.')} - ${s.statusWord}${s.extra ? ` -- ${s.extra}` : ''}`).join('\n');
}
