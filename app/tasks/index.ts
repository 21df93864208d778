/**
 * The task catalogue: every task's spec, by name. Web, CLI and workers look tasks up
 * here; workers find each task's handler in `workers/tasks/`. The production tasks are
 * registered on import; tests and the fault suite add their own with `registerTask` or
 * through `DOCKET_EXTRA_TASKS` (see `./extra.ts`).
 */
import { BadRequestError } from '../errors.js';
import { archivalSpecs } from './archive.js';
import { diagnosticSpecs } from './diagnostic.js';
import type { TaskSpec } from './types.js';

export type { ParamSpec, TaskSpec } from './types.js';
export { validateParams } from './params.js';

const catalogue = new Map<string, TaskSpec>();

export function registerTask(spec: TaskSpec): void {
  catalogue.set(spec.name, spec);
}

for (const spec of [...diagnosticSpecs, ...archivalSpecs]) registerTask(spec);

export function getTask(name: string): TaskSpec | undefined {
  return catalogue.get(name);
}

export function listTasks(): TaskSpec[] {
  return [...catalogue.values()];
}

/** The task, or a 400 naming the tasks there are. */
export function requireTask(name: unknown): TaskSpec {
  if (typeof name !== 'string' || name === '') throw new BadRequestError('a task name is required');
  const spec = catalogue.get(name);
  if (!spec) {
    throw new BadRequestError(`unknown task "${name.slice(0, 64)}"; tasks: ${[...catalogue.keys()].join(', ')}`);
  }
  return spec;
}
