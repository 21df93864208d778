/**
 * Scenario 5: cancel running jobs and queued jobs while other jobs flow. A queued job
 * never starts; a running one gets SIGTERM (and SIGKILL after the grace period when it
 * ignores it, as one in five does here) and ends `cancelled`, naming who cancelled it.
 */
import { count, persist, rowOf, settle, sleep, submit } from '../harness.js';
import { MYSQL_AMQP, MYSQL_DB, SQLITE_DB, staged, SWEEP_ALLOWANCE_MS, type Scenario } from '../scenario.js';

const WHO = 'fault-suite';
/** The worker's default grace between SIGTERM and SIGKILL. */
const CANCEL_GRACE_MS = 5000;

export const s5: Scenario = {
  n: 5,
  title: 'cancel running and queued jobs while jobs flow',
  backends: (full) => (full ? [SQLITE_DB, MYSQL_DB, MYSQL_AMQP] : [SQLITE_DB, MYSQL_AMQP]),
  async run(backend, o) {
    const each = o.full ? 100 : 20;
    return staged(backend, o, { workers: { count: 2, concurrency: 4 } }, async ({ env, ctx, fleet, started }) => {
      const flow = submit(ctx, o.full ? 300 : 60, 4, () => ({ task: 'fault-probe', params: { ms: 200 }, origin: 'cli' }));
      const requested = new Map<number, number>(); // long running job id -> when its cancel was asked
      const overtaken: number[] = []; // short jobs a worker took before their cancel came
      const queuedCancelled: number[] = [];
      const stubborn = new Set<number>();
      // A cancel refused for a job that is queued or running is a miss, not a crash of the run.
      const refused: string[] = [];
      const cancel = async (id: number): Promise<string> => {
        try {
          return await ctx.service.cancel(id, WHO);
        } catch (err) {
          refused.push(`job ${id}: ${(err as Error).message}`);
          return 'refused';
        }
      };

      // Running ones: up to four long jobs at a time, each cancelled once it runs.
      const running = (async () => {
        let next = 0;
        const one = async (): Promise<void> => {
          while (next < each) {
            const k = next++;
            const hard = k % 5 === 4;
            const { job } = await ctx.service.enqueue({ task: 'fault-probe', params: { ms: 120_000, stubborn: hard }, origin: 'cli' });
            if (hard) stubborn.add(job.id);
            const end = Date.now() + 120_000;
            while ((await ctx.service.get(job.id)).status !== 'running' && Date.now() < end) await sleep(100);
            requested.set(job.id, Date.now());
            await cancel(job.id);
          }
        };
        await Promise.all([one(), one(), one(), one()]);
      })();

      // Queued ones: cancelled right after they are queued; one a worker already took counts as running.
      const queued = (async () => {
        while (queuedCancelled.length < each) {
          const { job } = await ctx.service.enqueue({ task: 'fault-probe', params: { ms: 200 }, origin: 'cli' });
          const outcome = await cancel(job.id);
          if (outcome === 'cancelled') queuedCancelled.push(job.id);
          else if (outcome === 'cancel-requested') overtaken.push(job.id);
          await sleep(o.full ? 150 : 300);
        }
      })();

      await Promise.all([running, queued, flow.done]);
      const allFinal = await settle(ctx.db, Date.now() + 120_000);
      const c = await persist(() => count(ctx, flow.ids, fleet!.kills, env.config.leaseMs + SWEEP_ALLOWANCE_MS));

      const startedQueued = queuedCancelled.filter(
        (id) => c.jobs.get(id)?.status !== 'cancelled' || c.jobs.get(id)?.startedAt !== null || c.events.get(id)?.some((e) => e.type === 'started'),
      );
      let notCancelled = 0;
      let withoutWho = 0;
      let slowest = 0;
      let slowestStubborn = 0;
      for (const [id, at] of requested) {
        const ev = c.events.get(id)?.find((e) => e.type === 'cancelled');
        if (c.jobs.get(id)?.status !== 'cancelled' || !ev) {
          notCancelled++;
          continue;
        }
        if (ev.actor !== WHO || !ev.message?.includes(`cancelled by ${WHO}`)) withoutWho++;
        if (stubborn.has(id)) slowestStubborn = Math.max(slowestStubborn, ev.at - at);
        else slowest = Math.max(slowest, ev.at - at);
      }
      const hb = env.config.heartbeatMs;
      // Jobs nobody cancelled whose attempt still ended by a cancel's signal.
      const cancelled = new Set([...requested.keys(), ...queuedCancelled, ...overtaken]);
      let hitByOthers = 0;
      for (const [id, list] of c.events) {
        if (cancelled.has(id)) continue;
        hitByOthers += list.filter((e) => /stopped: cancelled|killed by SIG/.test(e.message ?? '')).length;
      }
      const flowDone = flow.ids.filter((id) => c.jobs.get(id)?.status === 'completed').length;
      return rowOf(backend.name, c, started, [
        { what: `queued jobs cancelled: ${queuedCancelled.length}; any of them started`, ok: startedQueued.length === 0, detail: `${startedQueued.length}` },
        {
          what: `running jobs cancelled: ${requested.size} (${stubborn.size} ignoring SIGTERM); ended cancelled by ${WHO}`,
          ok: notCancelled === 0 && withoutWho === 0 && requested.size >= each,
          detail: `${requested.size - notCancelled} cancelled, ${withoutWho} without who`,
        },
        {
          what: `stopped within a heartbeat after the request (SIGTERM), or after the ${CANCEL_GRACE_MS / 1000} s grace (SIGKILL)`,
          ok: slowest <= hb * 2 + 1500 && slowestStubborn <= hb * 2 + CANCEL_GRACE_MS + 1500,
          detail: `slowest ${(slowest / 1000).toFixed(2)} s; ignoring SIGTERM ${(slowestStubborn / 1000).toFixed(2)} s`,
        },
        {
          what: `short jobs a worker took before their cancel came: ${overtaken.length}; each ended completed or cancelled`,
          ok: overtaken.every((id) => ['completed', 'cancelled'].includes(c.jobs.get(id)?.status ?? '')),
        },
        { what: 'cancel requests refused for queued or running jobs', ok: refused.length === 0, detail: refused.length ? `${refused.length}, e.g. ${refused[0]}` : '0' },
        { what: 'attempts of other jobs stopped by a cancel not meant for them', ok: hitByOthers === 0, detail: String(hitByOthers) },
        { what: `flowing jobs completed: ${flowDone} of ${flow.ids.length}`, ok: flowDone === flow.ids.length },
        { what: 'every job final', ok: allFinal },
      ]);
    });
  },
};
