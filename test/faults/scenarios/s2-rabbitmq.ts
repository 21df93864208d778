/**
 * Scenario 2: RabbitMQ stops while jobs flow, jobs are submitted while it is down, and
 * it starts again. Jobs submitted during the outage wait undispatched in the database
 * and are published by the sweep once the broker is back.
 */
import { count, persist, rowOf, settle, sleep, submit } from '../harness.js';
import { MYSQL_AMQP, SQLITE_AMQP, staged, SWEEP_ALLOWANCE_MS, type Scenario } from '../scenario.js';
import { startRabbit, stopRabbit } from '../services.js';

export const s2: Scenario = {
  n: 2,
  title: 'restart RabbitMQ while jobs flow, submitting while it is down',
  stopsSharedService: true,
  backends: (full) => (full ? [MYSQL_AMQP, SQLITE_AMQP] : [MYSQL_AMQP]),
  async run(backend, o) {
    const jobs = o.full ? 1000 : 150;
    const downMs = o.full ? 15_000 : 10_000;
    return staged(backend, o, { workers: { count: 3, concurrency: 3 } }, async ({ env, ctx, fleet, started }) => {
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
      try {
        down = { from: Date.now(), to: 0 };
        await stopRabbit();
        await sleep(downMs);
      } finally {
        await startRabbit();
        if (down) down.to = Date.now();
      }
      o.say(`    RabbitMQ was down ${((down.to - down.from) / 1000).toFixed(1)} s; ${whileDown.length} jobs submitted meanwhile`);
      await sub.done;
      const allFinal = await settle(ctx.db, Date.now() + (o.full ? 300_000 : 180_000));
      const c = await persist(() => count(ctx, sub.ids, fleet!.kills, env.config.leaseMs + SWEEP_ALLOWANCE_MS));
      const lateDone = whileDown.filter((id) => c.jobs.get(id)?.status === 'completed').length;
      const judgedLost = [...c.events.values()].flat().filter((e) => e.message?.includes('worker lost')).length;
      return rowOf(backend.name, c, started, [
        { what: `jobs submitted while RabbitMQ was down: ${whileDown.length}, completed once it was back: ${lateDone}`, ok: whileDown.length > 0 && lateDone === whileDown.length },
        { what: `live workers judged lost: ${judgedLost}`, ok: true },
        { what: 'every job final', ok: allFinal },
        { what: 'every worker process survived', ok: fleet!.ready.length === 3 },
      ]);
    });
  },
};
