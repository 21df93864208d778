/**
 * A task for the groups tests (loaded with DOCKET_EXTRA_TASKS): `group-step` appends its
 * name to `<results>/group-order.log` when it runs, fails while the file named by
 * `failWhile` exists under the results folder, and reports three steps.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { UnrecoverableError } from '../../app/errors.js';
import type { TaskDefinition } from '../../workers/tasks/types.js';

export const ORDER_LOG = 'group-order.log';

export const groupStep: TaskDefinition = {
  name: 'group-step',
  title: 'Group step (tests)',
  description: 'Marks that it ran, in order; fails on request.',
  maxAttempts: 1,
  params: {
    name: { type: 'string', description: 'what to write in the order log', maxLength: 50, default: 'step' },
    failWhile: { type: 'string', description: 'fail while this file exists in the results folder', maxLength: 50, default: '' },
    ms: { type: 'integer', description: 'milliseconds to wait', default: 0, min: 0, max: 60_000 },
  },
  async run(ctx) {
    const name = String(ctx.params.name);
    ctx.steps?.(['Prepare', 'Work', 'Finish']);
    ctx.step?.('Prepare', { text: `preparing ${name}` });
    await mkdir(ctx.resultsDir, { recursive: true });
    ctx.step?.('Work', { current: 1, total: 1, text: 'Working on overlap 1 / 1' });
    if (Number(ctx.params.ms) > 0) await sleep(Number(ctx.params.ms), undefined, { signal: ctx.signal }).catch(() => undefined);
    const flag = String(ctx.params.failWhile);
    if (flag && existsSync(join(ctx.resultsDir, flag))) throw new UnrecoverableError(`${name} failed on purpose`);
    await appendFile(join(ctx.resultsDir, ORDER_LOG), `${name}\n`);
    ctx.step?.('Finish');
    return { summary: `${name} ran` };
  },
};

export const tasks: TaskDefinition[] = [groupStep];
export const GROUP_TASKS_MODULE = fileURLToPath(import.meta.url);
