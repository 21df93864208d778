import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '../app/context.js';
import { readOutput } from '../app/store/jobs.js';
import { listWorkers } from '../app/store/workers.js';
import { FINAL_STATUSES } from '../app/types.js';
import type { CliIO } from './io.js';

/** After this long queued, `--wait` says why the job is waiting. */
const WAITING_NOTICE_MS = 5000;
/**
 * For its first FAST_FOR_MS the job is looked at every FAST_POLL_MS, then the polls slow
 * down to POLL_MS: a short job (a `noop` ends some 50 ms after it is queued) is seen
 * ended within 15 ms instead of up to 80 ms late, as polls doubling from 20 ms left it,
 * at the price of two light queries per poll for that first second; a long job costs
 * two queries per 150 ms.
 */
const FAST_POLL_MS = 15;
const FAST_FOR_MS = 1000;
const POLL_MS = 150;

/** Streams a job's output until it ends; 0 if it completed, 1 if not. */
export async function waitFor(ctx: Context, id: number, io: CliIO): Promise<number> {
  let after = 0;
  let interrupted = false;
  const onInt = (): void => {
    interrupted = true;
  };
  process.once('SIGINT', onInt);
  let warned = false;
  const started = Date.now();
  let pause = FAST_POLL_MS;
  try {
    for (;;) {
      const job = await ctx.service.get(id);
      for (;;) {
        const chunks = await readOutput(ctx.db, id, after, 500);
        for (const c of chunks) (c.stream === 'stderr' ? io.err : io.out)(c.text);
        if (chunks.length) after = chunks[chunks.length - 1].id;
        if (chunks.length < 500) break;
      }
      if (FINAL_STATUSES.includes(job.status)) {
        if (job.status === 'completed') {
          io.err(`job ${id} completed${job.resultSummary ? `: ${job.resultSummary}` : ''}\n`);
          return 0;
        }
        io.err(`job ${id} ${job.status === 'failed' ? 'failed' : 'was cancelled'}${job.error ? `: ${job.error}` : ''}\n`);
        return 1;
      }
      if (interrupted) {
        io.err(`stopped waiting; job ${id} goes on (docket jobs:show ${id})\n`);
        return 1;
      }
      if (!warned && job.status === 'queued' && Date.now() - started > WAITING_NOTICE_MS) {
        warned = true;
        const active = (await listWorkers(ctx.db, Date.now(), ctx.config.heartbeatMs)).filter(
          (w) => w.state === 'active' && w.abilities.includes(job.task),
        );
        io.err(
          active.length === 0
            ? `job ${id} is waiting: no worker that runs "${job.task}" is active (start one with: docket worker)\n`
            : `job ${id} is waiting in the queue\n`,
        );
      }
      await sleep(pause);
      if (Date.now() - started > FAST_FOR_MS) pause = Math.min(POLL_MS, pause * 2);
    }
  } finally {
    process.off('SIGINT', onInt);
  }
}
