/**
 * Scenario 8: SIGKILL a node of a three-node RabbitMQ cluster every 10 s while jobs
 * flow through quorum queues, starting it again each time (it rejoins the cluster).
 * The nodes are killed in turn, the first one (where every worker and the publisher
 * connect first) first. Messages live on a majority, so none is lost: nothing should
 * need publishing again, and every job ends once.
 */
import { clusterEnv, firstCompletionAfter, MYSQL_CLUSTER, republishedIn, sharedCluster, STUCK_LIMIT_MS, waits, type Outage } from '../cluster.js';
import { count, persist, rowOf, settle, sleep, submit } from '../harness.js';
import { fleetLogFile, staged, type Scenario } from '../scenario.js';

const KILL_EVERY_MS = 10_000;

export const s8: Scenario = {
  n: 8,
  title: 'SIGKILL a RabbitMQ cluster node every 10 s while jobs flow, restarting it each time',
  cluster: true,
  backends: () => [MYSQL_CLUSTER],
  async run(backend, o) {
    const jobs = o.full ? 1000 : 300;
    const c = await sharedCluster(o.say);
    const row = await staged(backend, o, { workers: { count: 3, concurrency: 3 }, extraEnv: clusterEnv(c) }, async ({ ctx, started }) => {
      const sub = submit(ctx, jobs, o.full ? 10 : 5, () => ({
        task: 'fault-probe',
        params: { ms: 100 + Math.floor(Math.random() * 200), lines: 3 },
        origin: 'cli',
      }));
      let submitted = false;
      void sub.done.then(() => (submitted = true));
      const outages: Outage[] = [];
      let next = Date.now() + KILL_EVERY_MS;
      while (!submitted || outages.length < 2) {
        await sleep(Math.max(0, next - Date.now()));
        // A kill after the last job is in would find nothing left to recover.
        if (submitted && outages.length >= 2) break;
        const node = c.nodes[outages.length % c.nodes.length];
        const outage = { from: Date.now(), to: 0 };
        outages.push(outage);
        c.kill(node);
        await c.restart(node);
        outage.to = Date.now();
        o.say(`    killed ${node.name.split('@')[0]}; back after ${((outage.to - outage.from) / 1000).toFixed(1)} s`);
        next = outage.from + KILL_EVERY_MS;
      }
      await sub.done;
      const allFinal = await settle(ctx.db, Date.now() + (o.full ? 300_000 : 120_000));
      const cnt = await persist(() => count(ctx, sub.ids, null, 0));
      const firsts = await Promise.all(outages.map((x) => firstCompletionAfter(ctx.db, x.from)));
      const w = await waits(ctx.db, outages, STUCK_LIMIT_MS);
      const r = rowOf(backend.name, cnt, started, [
        { what: `node kills: ${outages.length}, each back within ${(Math.max(...outages.map((x) => x.to - x.from)) / 1000).toFixed(1)} s`, ok: outages.length >= 2 },
        {
          what: `death → first completion: ${firsts.map((ms) => (ms === null ? 'none' : `${(ms / 1000).toFixed(2)} s`)).join(', ')}`,
          ok: firsts.every((ms) => ms !== null),
        },
        { what: `longest wait outside the outages: ${(w.maxMs / 1000).toFixed(1)} s (limit ${STUCK_LIMIT_MS / 1000} s)`, ok: true },
        { what: 'every job final', ok: allFinal },
      ]);
      return { ...r, stuck: w.over, maxStuckMs: w.maxMs, deathToFirstMs: firsts.includes(null) ? null : Math.max(...(firsts as number[])) };
    });
    const republished = republishedIn(fleetLogFile(backend, o));
    return { ...row, republished, checks: [...row.checks, { what: `jobs published again by the lost-message check: ${republished}`, ok: true }] };
  },
};
