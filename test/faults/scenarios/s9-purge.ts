/**
 * Scenario 9: every task queue of the run purged mid-flow (`rabbitmqctl purge_queue`,
 * as an operator might from the management page), on the cluster with quorum queues.
 * Every queue is purged at once (see purgeTaskQueues). Jobs are submitted faster than the workers take them, so a backlog waits in the
 * queues when they are purged. The broker then holds fewer messages than the database
 * has jobs waiting, and the lost-message check publishes the missing ones again: every
 * job still ends, once.
 */
import { DEFICIT_GRACE_MS } from '../../../app/lost-messages.js';
import { clusterEnv, MYSQL_CLUSTER, purgeTaskQueues, republishedIn, sharedCluster, STUCK_LIMIT_MS, waits } from '../cluster.js';
import { count, persist, rowOf, settle, sleep, submit } from '../harness.js';
import { fleetLogFile, staged, type Scenario } from '../scenario.js';

/**
 * While jobs still arrive the purged queue is not empty, so the missing messages are
 * published again by the deficit rule, which waits DEFICIT_GRACE_MS on purpose.
 */
const LIMIT_MS = STUCK_LIMIT_MS + DEFICIT_GRACE_MS;

export const s9: Scenario = {
  n: 9,
  title: 'purge every task queue of a RabbitMQ cluster mid-flow',
  cluster: true,
  backends: () => [MYSQL_CLUSTER],
  async run(backend, o) {
    const jobs = o.full ? 1000 : 300;
    const c = await sharedCluster(o.say);
    let purgedMessages = 0;
    const row = await staged(backend, o, { workers: { count: o.full ? 3 : 2, concurrency: 2 }, extraEnv: clusterEnv(c) }, async ({ env, ctx, started }) => {
      const sub = submit(ctx, jobs, 20, () => ({
        task: 'fault-probe',
        params: { ms: 200 + Math.floor(Math.random() * 200), lines: 3 },
        origin: 'cli',
      }));
      while (sub.ids.length < jobs * 0.6) await sleep(100);
      const waiting = Number(((await ctx.db('jobs').where({ status: 'queued' }).count({ n: '*' })) as Array<{ n: number | string }>)[0].n);
      const at = Date.now();
      const purged = await purgeTaskQueues(c, env.env.AMQP_PREFIX as string);
      purgedMessages = purged.messages;
      o.say(`    purged ${purged.messages} message(s) from ${purged.queues} queue(s); ${waiting} job(s) were waiting`);
      await sub.done;
      const allFinal = await settle(ctx.db, Date.now() + (o.full ? 300_000 : 180_000));
      const cnt = await persist(() => count(ctx, sub.ids, null, 0));
      // The jobs published again: confirmed (again) after the purge, well after they were
      // queued. Not only jobs queued before it: the deficit rule publishes the oldest jobs
      // still waiting among those confirmed 30 s before its check, which may be later ones.
      const again = (await ctx.db('jobs')
        .where('dispatched_at', '>', at)
        .whereRaw('dispatched_at > queued_at + 1000')
        .min({ first: 'finished_at' })
        .max({ last: 'finished_at' })) as Array<{ first: number | null; last: number | null }>;
      const first = again[0].first === null ? null : Number(again[0].first) - at;
      const recovered = again[0].last === null ? null : Number(again[0].last) - at;
      const w = await waits(ctx.db, [], LIMIT_MS);
      const r = rowOf(backend.name, cnt, started, [
        { what: `messages purged: ${purged.messages}, from ${purged.queues} queue(s)`, ok: purged.messages > 0 },
        {
          what: `purge → first job published again completed: ${first === null ? '-' : `${(first / 1000).toFixed(1)} s`}, the last: ${recovered === null ? '-' : `${(recovered / 1000).toFixed(1)} s`}`,
          ok: recovered !== null,
        },
        { what: `longest wait: ${(w.maxMs / 1000).toFixed(1)} s (limit ${LIMIT_MS / 1000} s)`, ok: true },
        { what: 'every job final', ok: allFinal },
      ]);
      return { ...r, stuck: w.over, maxStuckMs: w.maxMs, deathToFirstMs: first };
    });
    const republished = republishedIn(fleetLogFile(backend, o));
    return {
      ...row,
      republished,
      checks: [...row.checks, { what: `jobs published again by the lost-message check: ${republished} (at least the ${purgedMessages} purged)`, ok: republished >= purgedMessages }],
    };
  },
};
