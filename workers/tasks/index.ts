/**
 * The task handlers a worker's child runs, by task name. Each handler carries its task's
 * spec from the catalogue (`app/tasks/`), which is what the rest of the system reads.
 */
import { importTaskModule } from '../../app/tasks/extra.js';
import { archivalTasks } from './archive/index.js';
import { noop, print, sleepTask } from './diagnostic.js';
import type { TaskDefinition } from './types.js';

export type { TaskDefinition, TaskContext, TaskResult } from './types.js';

const handlers = new Map<string, TaskDefinition>();

export function registerHandler(def: TaskDefinition): void {
  handlers.set(def.name, def);
}

for (const def of [noop, sleepTask, print, ...archivalTasks]) registerHandler(def);

export function getHandler(name: string): TaskDefinition | undefined {
  return handlers.get(name);
}

/** The handlers of the extra task modules (`DOCKET_EXTRA_TASKS`), for a child process. */
export async function registerExtraHandlers(paths: readonly string[]): Promise<void> {
  for (const path of paths) {
    for (const def of await importTaskModule(path)) {
      if (typeof (def as Partial<TaskDefinition>).run !== 'function') {
        throw new Error(`DOCKET_EXTRA_TASKS: the task "${def.name}" of ${path} has no run()`);
      }
      registerHandler(def as TaskDefinition);
    }
  }
}
