/**
 * A task's steps as it reports them (`ctx.steps([...])`, `ctx.step(label, detail)`),
 * kept in the child process and sent whole with each progress message, so that a lost or
 * throttled message never leaves the stored list out of order.
 *
 * Reporting a step makes it active and every step before it done; a step not declared
 * is added at the end. Sub-steps are the detail: `current` of `total` and an extra line.
 */
import type { ProgressStep } from '../app/types.js';

/** Bounds that keep a step list small in its column and on the page. */
const MAX_STEPS = 50;
const MAX_LABEL = 120;
const MAX_EXTRA = 200;

export interface StepDetail {
  current?: number | null;
  total?: number | null;
  text?: string | null;
}

export class StepTracker {
  readonly steps: ProgressStep[] = [];

  constructor(private readonly clock: () => number = Date.now) {}

  /** Declares the steps to come, each waiting; already known ones are kept. */
  declare(labels: string[]): void {
    for (const label of labels) this.find(label);
  }

  /** Makes `label` the active step with this detail; the steps before it are done. */
  step(label: string, detail: StepDetail = {}): ProgressStep {
    const now = this.clock();
    const s = this.find(label);
    const k = this.steps.indexOf(s);
    for (const before of this.steps.slice(0, k)) {
      if (before.status !== 2) {
        before.status = 2;
        before.startedAt ??= now;
        before.finishedAt = now;
      }
    }
    if (s.status !== 1) {
      s.status = 1;
      s.startedAt = now;
      s.finishedAt = null;
    }
    if (detail.current !== undefined) s.current = detail.current;
    if (detail.total !== undefined) s.total = detail.total;
    if (detail.text !== undefined) s.extra = detail.text === null ? null : detail.text.slice(0, MAX_EXTRA);
    return s;
  }

  /** The active step, for the one-line progress of lists. */
  active(): ProgressStep | null {
    return this.steps.find((s) => s.status === 1) ?? null;
  }

  private find(label: string): ProgressStep {
    const name = String(label).slice(0, MAX_LABEL);
    let s = this.steps.find((x) => x.label === name);
    if (!s) {
      s = { label: name, status: 0, extra: null, current: null, total: null, startedAt: null, finishedAt: null };
      // Past the bound the last step is reused: progress is a hint, never an error.
      if (this.steps.length < MAX_STEPS) this.steps.push(s);
      else s = this.steps[this.steps.length - 1];
    }
    return s;
  }
}
