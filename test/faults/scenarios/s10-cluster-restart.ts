/**
 * Scenario 10: the whole RabbitMQ cluster stopped while jobs flow (every node,
 * `rabbitmqctl stop`), jobs submitted while it is down, and every node started again.
 * Quorum queues keep their messages on disk: nothing is lost. Jobs submitted during the
 * outage wait undispatched in the database and are published once the cluster is back.
 */
import { clusterEnv, firstCompletionAfter, MYSQL_CLUSTER, republishedIn, sharedCluster, STUCK_LIMIT_MS, waits } from '../cluster.js';
import { count, persist, rowOf, settle, sleep, submit } from '../harness.js';
import { fleetLogFile, staged, type Scenario } from '../scenario.js';

export const s10: Scenario = {
  n: 10,
  title: 'restart the whole RabbitMQ cluster while jobs flow',
  cluster: true,
  backends: () => [MYSQL_CLUSTER],
  async run(backend, o) {
    const jobs = o.full ? 1000 : 300;
    const c = await sharedCluster(o.say);
    const row = await staged(backend, o, { workers: { count: 3, concurrency: 3 }, extraEnv: clusterEnv(c) }, async ({ ctx, fleet, started }) => {
      const down = { from: 0, to: 0 };
      const whileDown: number[] = [];
      const sub = submit(
        ctx,
        jobs,
        // Within what the workers take on this machine, so the outage's backlog drains.
        10,
        () => ({ task: 'fault-probe', params: { ms: 100 + Math.floor(Math.random() * 200), lines: 3 }, origin: 'cli' }),
        (_i, id) => {
          if (down.from && !down.to) whileDown.push(id);
        },
      );
      while (sub.ids.length < jobs / 3) await sleep(100);
      down.from = Date.now();
      try {
        await Promise.all(c.nodes.map((n) => c.ctl(n, ['stop'], 60_000)));
      } finally {
        // Every node at once: a clustered node waits at boot for the peers it last saw.
        await Promise.all(c.nodes.map((n) => c.restart(n)));
        down.to = Date.now();
      }
      o.say(`    cluster down ${((down.to - down.from) / 1000).toFixed(1)} s; ${whileDown.length} jobs submitted meanwhile`);
      await sub.done;
      const allFinal = await settle(ctx.db, Date.now() + (o.full ? 300_000 : 180_000));
      const cnt = await persist(() => count(ctx, sub.ids, null, 0));
      const first = await firstCompletionAfter(ctx.db, down.to);
      const lateDone = whileDown.filter((id) => cnt.jobs.get(id)?.status === 'completed').length;
      const w = await waits(ctx.db, [down], STUCK_LIMIT_MS);
      const r = rowOf(backend.name, cnt, started, [
        { what: `cluster down ${((down.to - down.from) / 1000).toFixed(1)} s; back → first completion ${first === null ? '-' : `${(first / 1000).toFixed(2)} s`}`, ok: first !== null },
        { what: `jobs submitted while it was down: ${whileDown.length}, completed once it was back: ${lateDone}`, ok: whileDown.length > 0 && lateDone === whileDown.length },
        { what: `longest wait outside the outage: ${(w.maxMs / 1000).toFixed(1)} s (limit ${STUCK_LIMIT_MS / 1000} s)`, ok: true },
        { what: 'every job final', ok: allFinal },
        { what: 'every worker process survived', ok: fleet!.ready.length === 3 },
      ]);
      return { ...r, stuck: w.over, maxStuckMs: w.maxMs, deathToFirstMs: first };
    });
    const republished = republishedIn(fleetLogFile(backend, o));
    return { ...row, republished, checks: [...row.checks, { what: `jobs published again by the lost-message check: ${republished}`, ok: true }] };
  },
};
