/**
 * Scenario 1: SIGKILL a random worker process (or one of its children) every few
 * seconds while short jobs flow; a replacement worker starts after each worker kill.
 */
import { persist, rowOf, settle, sleep, submit, count } from '../harness.js';
import { MYSQL_AMQP, MYSQL_DB, SQLITE_DB, staged, SWEEP_ALLOWANCE_MS, type Scenario } from '../scenario.js';

export const s1: Scenario = {
  n: 1,
  title: 'SIGKILL a random worker (or child) every few seconds, with replacements',
  backends: (full) => (full ? [SQLITE_DB, MYSQL_DB, MYSQL_AMQP] : [SQLITE_DB, MYSQL_AMQP]),
  async run(backend, o) {
    const jobs = o.full ? 1000 : 150;
    return staged(backend, o, { workers: { count: 3, concurrency: 3 } }, async ({ env, ctx, fleet, started }) => {
      const sub = submit(ctx, jobs, o.full ? 25 : 10, () => ({
        task: 'fault-probe',
        params: { ms: 100 + Math.floor(Math.random() * 400), lines: 3 },
        origin: 'cli',
      }));
      // Chaos until every job is final: a worker kill two times out of three, else a child.
      const deadline = Date.now() + (o.full ? 600_000 : 240_000);
      let workerKills = 0;
      let childKills = 0;
      let submitted = false;
      void sub.done.then(() => (submitted = true));
      for (;;) {
        await sleep(1500 + Math.random() * 1500);
        if (submitted && (await settle(ctx.db, 0))) break;
        if (Date.now() > deadline) break;
        if (Math.random() < 2 / 3 && fleet!.ready.length > 1) {
          if (fleet!.killWorker()) workerKills++;
        } else if (fleet!.killChild()) childKills++;
      }
      await sub.done;
      const allFinal = await settle(ctx.db, Date.now() + 60_000);
      const c = await persist(() => count(ctx, sub.ids, fleet!.kills, env.config.leaseMs + SWEEP_ALLOWANCE_MS));
      return rowOf(backend.name, c, started, [
        { what: `kills: ${workerKills} workers, ${childKills} children`, ok: workerKills > 0 },
        { what: 'every job final', ok: allFinal },
      ]);
    });
  },
};
