/**
 * Tasks beyond the production catalogue, from modules named in `DOCKET_EXTRA_TASKS`
 * (`Config.extraTasks`). The fault suite and the tests that need its tasks (retries, time
 * limits, unique keys) set it, so those tasks never reach a production process. Every
 * process that takes part registers them: the web app and the CLI (their specs, through
 * `createContext`), the worker, and each of its children (their handlers, see
 * `workers/tasks/index.ts`), since a child is a process of its own.
 *
 * A module exports `tasks`: an array of task definitions, each a spec with its `run`.
 */
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import { registerTask } from './index.js';
import type { TaskSpec } from './types.js';

/** The `tasks` a module exports, checked for a name and parameters. */
export async function importTaskModule(path: string): Promise<TaskSpec[]> {
  let mod: { tasks?: unknown };
  try {
    mod = (await import(pathToFileURL(path).href)) as { tasks?: unknown };
  } catch (err) {
    throw new ConfigError(`DOCKET_EXTRA_TASKS: cannot load ${path}: ${(err as Error).message}`);
  }
  const tasks = mod.tasks;
  const valid = (t: unknown): t is TaskSpec =>
    typeof t === 'object' && t !== null && typeof (t as TaskSpec).name === 'string' && typeof (t as TaskSpec).params === 'object';
  if (!Array.isArray(tasks) || !tasks.every(valid)) {
    throw new ConfigError(`DOCKET_EXTRA_TASKS: ${path} must export "tasks", an array of task definitions`);
  }
  return tasks;
}

/** Adds the specs of the extra task modules to the catalogue (without their handlers). */
export async function registerExtraTasks(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    for (const def of await importTaskModule(path)) {
      const { run: _run, ...spec } = def as TaskSpec & { run?: unknown };
      registerTask(spec);
    }
  }
}
