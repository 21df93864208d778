/**
 * Scenario 6: the disk of the output folder fills up mid-job, then becomes read-only
 * mid-job. The folder is a 64 KB tmpfs mounted for the test. The job writing at that
 * moment fails with the reason (ENOSPC, then EROFS); quiet jobs flowing beside it
 * complete, and once the disk is writable again printing jobs complete too.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../../../app/context.js';
import type { Job } from '../../../app/types.js';
import { count, persist, rowOf, settle, sleep, submit } from '../harness.js';
import { MYSQL_AMQP, SQLITE_DB, staged, SWEEP_ALLOWANCE_MS, type Scenario } from '../scenario.js';
import { mountTmpfs, remount, unmount } from '../services.js';

async function until(ctx: Context, id: number, ok: (j: Job) => boolean, ms: number): Promise<Job> {
  const end = Date.now() + ms;
  for (;;) {
    const j = await ctx.service.get(id);
    if (ok(j) || Date.now() > end) return j;
    await sleep(100);
  }
}

const isFinal = (j: Job): boolean => ['completed', 'failed', 'cancelled'].includes(j.status);

export const s6: Scenario = {
  n: 6,
  title: 'the output folder fills up, then turns read-only, mid-job',
  backends: (full) => (full ? [SQLITE_DB, MYSQL_AMQP] : [SQLITE_DB, MYSQL_AMQP]),
  async run(backend, o) {
    let mounted: string | null = null;
    return staged(
      backend,
      o,
      {
        workers: { count: 2, concurrency: 2 },
        before: async (env) => {
          mkdirSync(env.config.jobLogDir, { recursive: true });
          await mountTmpfs(env.config.jobLogDir, '64k');
          mounted = env.config.jobLogDir;
        },
        after: async () => {
          if (mounted) await unmount(mounted);
        },
      },
      async ({ env, ctx, fleet, started }) => {
        const dir = env.config.jobLogDir;
        // Quiet jobs print nothing, so they never touch the output folder.
        const flow = submit(ctx, o.full ? 200 : 60, o.full ? 8 : 4, () => ({ task: 'fault-probe', params: { ms: 100, lines: 0 }, origin: 'cli' }));

        // Disk full: about 110 KB of output into 64 KB.
        const full = (await ctx.service.enqueue({ task: 'fault-probe', params: { ms: 500, lines: 5000 }, origin: 'cli' })).job;
        const a = await until(ctx, full.id, isFinal, 60_000);
        rmSync(join(dir, `${full.id}.log`), { force: true });

        // Read-only: a slow printer is writing when the folder turns read-only.
        const slow = (await ctx.service.enqueue({ task: 'fault-probe', params: { ms: 0, lines: 100, delay: 100 }, origin: 'cli' })).job;
        await until(ctx, slow.id, (j) => j.outputBytes > 0 || isFinal(j), 30_000);
        await remount(dir, 'ro');
        let b: Job;
        try {
          b = await until(ctx, slow.id, isFinal, 60_000);
        } finally {
          await remount(dir, 'rw');
        }

        // Writable again: printing jobs complete.
        const after: number[] = [];
        for (let i = 0; i < 5; i++) after.push((await ctx.service.enqueue({ task: 'fault-probe', params: { ms: 50, lines: 20 }, origin: 'cli' })).job.id);
        await flow.done;
        const allFinal = await settle(ctx.db, Date.now() + 120_000);
        const c = await persist(() => count(ctx, [...flow.ids, full.id, slow.id, ...after], fleet!.kills, env.config.leaseMs + SWEEP_ALLOWANCE_MS));
        const flowDone = flow.ids.filter((id) => c.jobs.get(id)?.status === 'completed').length;
        const afterDone = after.filter((id) => c.jobs.get(id)?.status === 'completed').length;
        return rowOf(backend.name, c, started, [
          { what: 'the job writing when the disk filled failed with ENOSPC', ok: a.status === 'failed' && /ENOSPC/.test(a.error ?? ''), detail: `${a.status}: ${a.error ?? ''}` },
          { what: 'the job writing when the folder turned read-only failed with EROFS', ok: b.status === 'failed' && /EROFS/.test(b.error ?? ''), detail: `${b.status}: ${b.error ?? ''}` },
          { what: `quiet jobs beside them completed: ${flowDone} of ${flow.ids.length}`, ok: flowDone === flow.ids.length },
          { what: `printing jobs completed once the disk was writable: ${afterDone} of ${after.length}`, ok: afterDone === after.length },
          { what: 'every job final', ok: allFinal },
        ]);
      },
    );
  },
};
