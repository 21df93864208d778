/**
 * Scenario 3: MariaDB stops while jobs flow and starts again. Submissions are refused
 * while it is down (and tried again by the client); running jobs finish and record
 * their end once it is back, or are recovered when their lease ran out meanwhile.
 */
import { count, persist, rowOf, settle, sleep, submit } from '../harness.js';
import { MYSQL_AMQP, MYSQL_DB, staged, SWEEP_ALLOWANCE_MS, type Scenario } from '../scenario.js';
import { startMysql, stopMysql } from '../services.js';

export const s3: Scenario = {
  n: 3,
  title: 'restart MariaDB while jobs flow',
  stopsSharedService: true,
  backends: () => [MYSQL_DB, MYSQL_AMQP],
  async run(backend, o) {
    const jobs = o.full ? 1000 : 150;
    const downMs = o.full ? 10_000 : 6000;
    return staged(backend, o, { workers: { count: 3, concurrency: 3 } }, async ({ env, ctx, fleet, started }) => {
      const sub = submit(ctx, jobs, o.full ? 25 : 10, () => ({
        task: 'fault-probe',
        params: { ms: 100 + Math.floor(Math.random() * 400), lines: 3 },
        origin: 'cli',
      }));
      while (sub.ids.length < jobs / 4) await sleep(100);
      const from = Date.now();
      try {
        await stopMysql();
        await sleep(downMs);
      } finally {
        await startMysql();
      }
      o.say(`    MariaDB was down ${((Date.now() - from) / 1000).toFixed(1)} s; ${sub.refused} submissions refused meanwhile`);
      await sub.done;
      const allFinal = await settle(ctx.db, Date.now() + (o.full ? 300_000 : 180_000));
      const c = await persist(() => count(ctx, sub.ids, fleet!.kills, env.config.leaseMs + SWEEP_ALLOWANCE_MS));
      const recovered = [...c.events.values()].flat().filter((e) => e.message?.includes('worker lost')).length;
      return rowOf(backend.name, c, started, [
        { what: `submissions refused while MariaDB was down (and sent again): ${sub.refused}`, ok: true },
        { what: `attempts recovered after their lease ran out during the outage: ${recovered}`, ok: true },
        { what: 'every job final', ok: allFinal },
        { what: 'every worker process survived', ok: fleet!.ready.length === 3 },
      ]);
    });
  },
};
