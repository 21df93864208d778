/**
 * Scenario 2: RabbitMQ stops while jobs flow, jobs are submitted while it is down, and
 * it starts again. Jobs submitted during the outage wait undispatched in the database
 * and are published by the sweep once the broker is back; jobs whose messages the
 * restart dropped (transient messages on classic queues, AMQP_PERSISTENT=false) are
 * published again by the lost-message check (ADR 6, ADR 11).
 *
 * By default it restarts the machine's broker (DOCKET_TEST_AMQP_URL), which other
 * people's tests may be using. With DOCKET_FAULTS_RABBIT=private it starts a RabbitMQ
 * node of its own on port 5821 (root needed, as for scenarios 8–10), kills that one
 * (SIGKILL) right after a burst of 40 longer jobs, starts it again, and stops it at the
 * end: the shared broker is left alone. AMQP_PERSISTENT, when set
 * in the suite's environment, is passed to every process of the run.
 */
import type { Db } from '../../../app/db.js';
import { RabbitCluster } from '../../cluster/rabbit-cluster.js';
import { republishedIn } from '../cluster.js';
import { count, persist, rowOf, settle, sleep, submit } from '../harness.js';
import { fleetLogFile, MYSQL_AMQP, SQLITE_AMQP, staged, SWEEP_ALLOWANCE_MS, type Scenario } from '../scenario.js';
import { startRabbit, stopRabbit } from '../services.js';

/** The private node's AMQP port: not the cluster test's 5801–5803 nor the suite's 5811–5813. */
const PRIVATE_PORT = 5821;
const PRIVATE = process.env.DOCKET_FAULTS_RABBIT === 'private';

/**
 * Jobs waiting at the restart are running again within this long of the broker's return
 * (README, "Transient messages"): a reconnect (at most 5 s), the sweep's grace after an
 * outage (8 s), the next lost-message turn (at most 5 s), a second or two of slack.
 */
export const RESTART_RECOVERY_MS = 20_000;

/** Jobs waiting (queued, their publish confirmed) right now. */
async function waitingIds(db: Db): Promise<number[]> {
  const rows = (await db('jobs').where({ status: 'queued' }).whereNotNull('dispatched_at').select('id')) as Array<{ id: number }>;
  return rows.map((r) => Number(r.id));
}

export const s2: Scenario = {
  n: 2,
  title: `restart RabbitMQ while jobs flow, submitting while it is down${PRIVATE ? ' (a private node)' : ''}`,
  stopsSharedService: !PRIVATE,
  cluster: PRIVATE,
  backends: (full) => (full ? [MYSQL_AMQP, SQLITE_AMQP] : [MYSQL_AMQP]),
  async run(backend, o) {
    const jobs = o.full ? 1000 : 150;
    const downMs = o.full ? 15_000 : 10_000;
    const node = PRIVATE ? await RabbitCluster.start(PRIVATE_PORT, 1) : null;
    // The private node is killed (SIGKILL, a crash: instant, where `stop_app` takes seconds
    // under load and lets the workers drain the queue meanwhile) and started again.
    const stop = node ? async () => node.kill(node.nodes[0]) : stopRabbit;
    const start = node ? () => node.restart(node.nodes[0]) : startRabbit;
    const extraEnv: Record<string, string> = {};
    if (node) extraEnv.AMQP_URL = node.nodes[0].url;
    if (process.env.AMQP_PERSISTENT) extraEnv.AMQP_PERSISTENT = process.env.AMQP_PERSISTENT;
    const persistent = (process.env.AMQP_PERSISTENT ?? 'false') === 'true';
    const name = `${backend.name}${node ? ', private node' : ''}, ${persistent ? 'persistent' : 'transient'}`;
    try {
      return await staged({ ...backend, name }, o, { workers: { count: 3, concurrency: 3 }, extraEnv }, async ({ env, ctx, fleet, started }) => {
        let down: { from: number; to: number } | null = null;
        const whileDown: number[] = [];
        const sub = submit(
          ctx,
          jobs,
          o.full ? 25 : 10,
          () => ({ task: 'fault-probe', params: { ms: 100 + Math.floor(Math.random() * 200), lines: 3 }, origin: 'cli' }),
          (_i, id) => {
            if (down && !down.to) whileDown.push(id);
          },
        );
        // A quarter of the way in, stop the broker; start it again after `downMs`.
        while (sub.ids.length < jobs / 4) await sleep(100);
        let waiting: number[];
        // On a private node, a burst of longer jobs just before the stop, so that the broker
        // holds messages when it goes (at the default rate the workers keep the queue empty).
        const burst: number[] = [];
        if (node) for (let i = 0; i < 40; i++) burst.push((await ctx.service.enqueue({ task: 'fault-probe', params: { ms: 1500, lines: 1 }, origin: 'cli' })).job.id);
        try {
          down = { from: Date.now(), to: 0 };
          await stop();
          // Waiting now, with the broker down: their messages were queued or delivered
          // but not yet claimed, and a restart drops them when they are transient.
          waiting = await waitingIds(ctx.db);
          await sleep(downMs);
        } finally {
          await start();
          if (down) down.to = Date.now();
        }
        o.say(`    RabbitMQ was down ${((down.to - down.from) / 1000).toFixed(1)} s; ${whileDown.length} jobs submitted meanwhile, ${waiting.length} waiting when it stopped`);
        await sub.done;
        const allFinal = await settle(ctx.db, Date.now() + (o.full ? 300_000 : 180_000));
        const c = await persist(() => count(ctx, [...sub.ids, ...burst], fleet!.kills, env.config.leaseMs + SWEEP_ALLOWANCE_MS));
        const lateDone = whileDown.filter((id) => c.jobs.get(id)?.status === 'completed').length;
        const judgedLost = [...c.events.values()].flat().filter((e) => e.message?.includes('worker lost')).length;
        // Time to recovery: from the broker's return (its start-up finished) to the start of
        // the last job that was waiting while it was down.
        const back = down.to;
        const startedAfter = waiting.map((id) => c.jobs.get(id)?.startedAt ?? Number.POSITIVE_INFINITY).map((t) => t - back);
        const recoveryMs = startedAfter.length ? Math.max(0, ...startedAfter) : 0;
        const republished = republishedIn(fleetLogFile({ ...backend, name }, o));
        o.say(`    waiting jobs all started within ${(recoveryMs / 1000).toFixed(1)} s of the broker's return; ${republished} published again by the lost-message check`);
        return rowOf(name, c, started, [
          { what: `jobs submitted while RabbitMQ was down: ${whileDown.length}, completed once it was back: ${lateDone}`, ok: whileDown.length > 0 && lateDone === whileDown.length },
          {
            what: `jobs waiting when it stopped: ${waiting.length}, all started within ${(recoveryMs / 1000).toFixed(1)} s of its return (bound ${RESTART_RECOVERY_MS / 1000} s); published again: ${republished}`,
            ok: recoveryMs <= RESTART_RECOVERY_MS,
          },
          { what: `live workers judged lost: ${judgedLost}`, ok: true },
          { what: 'every job final', ok: allFinal },
          { what: 'every worker process survived', ok: fleet!.ready.length === 3 },
        ]);
      });
    } finally {
      await node?.stop();
    }
  },
};
