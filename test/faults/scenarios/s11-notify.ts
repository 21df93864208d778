/**
 * Scenario 11: webhooks at the end of jobs, never lost. Jobs carry a webhook to a receiver
 * on loopback; worker processes are SIGKILLed right after one of their jobs ended (its
 * notification queued, not yet sent), and a `docket web` process is SIGKILLed while its
 * sweep waits on a slow receiver. At the end every job's end event arrived: exactly one
 * delivery id per job and event (resends of one id are at-least-once, counted apart).
 */
import type { ChildProcess } from 'node:child_process';
import { hostname } from 'node:os';
import type { Context } from '../../../app/context.js';
import type { NewJob } from '../../../app/types.js';
import { count, persist, pidOfWorker, rowOf, settle, sleep, submit, type Check, type Fleet } from '../harness.js';
import { countDeliveries, startReceiver, type Receiver } from '../receiver.js';
import { MYSQL_AMQP, MYSQL_DB, SQLITE_DB, staged, SWEEP_ALLOWANCE_MS, type Scenario } from '../scenario.js';
import { startWeb } from '../web.js';

const SECRET = 'fault-suite-webhook-secret';
/** A sender's request limit; its outbox lease is this plus 30 s (app/notify/notifier.ts). */
const TIMEOUT_MS = 4000;
/** How long the receiver holds its answers while the web process is to be killed. */
const SLOW_MS = 2500;

/** The process id in an event's actor: a worker id (`host-pid-hex`) or a process (`host:pid`). */
function pidOf(actor: string): number | null {
  const m = /:(\d+)$/.exec(actor);
  return pidOfWorker(actor) ?? (m ? Number(m[1]) : null);
}

/**
 * SIGKILLs a worker right after one of its jobs completed while that job's notification
 * is still pending, `wanted` times, at least 1.5 s apart; stops early when `over()`.
 */
async function killAfterJobEnds(ctx: Context, fleet: Fleet, wanted: number, over: () => boolean): Promise<number> {
  let kills = 0;
  let seen = 0;
  let last = 0;
  while (kills < wanted && !over()) {
    await sleep(30);
    if (Date.now() - last < 1500 || fleet.ready.length < 2) continue;
    const rows = (await ctx.db('job_events as e')
      .join('outbox as o', 'o.job_id', 'e.job_id')
      .where('e.type', 'completed')
      .where('e.id', '>', seen)
      .where('o.state', 'pending')
      .orderBy('e.id', 'desc')
      .limit(1)
      .select('e.id', 'e.actor')) as Array<{ id: number; actor: string }>;
    if (rows.length === 0) continue;
    seen = Number(rows[0].id);
    const pid = pidOf(rows[0].actor);
    const ok = pid !== null && fleet.killPid(pid);
    if (ok) {
      kills++;
      last = Date.now();
    }
  }
  return kills;
}

/** SIGKILLs the web process once its sweep holds a delivery the receiver is answering slowly; the ids it held. */
async function killWebWhileSending(ctx: Context, web: ChildProcess, receiver: Receiver, deadline: number): Promise<string[]> {
  const owner = `${hostname()}:${web.pid}`;
  while (Date.now() < deadline) {
    await sleep(50);
    const ids = (await ctx.db('outbox').where({ state: 'pending', lease_owner: owner }).pluck('id')).map(String);
    const inFlight = ids.filter((id) => receiver.waiting.has(id));
    if (inFlight.length > 0) {
      web.kill('SIGKILL');
      return inFlight;
    }
  }
  return [];
}

function stopAll(procs: ChildProcess[]): void {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

export const s11: Scenario = {
  n: 11,
  title: 'webhooks at the end of jobs: a worker SIGKILLed after jobs end, a web process while it sends',
  backends: (full) => (full ? [SQLITE_DB, MYSQL_DB, MYSQL_AMQP] : [MYSQL_AMQP]),
  async run(backend, o) {
    const firstJobs = o.full ? 300 : 40;
    const burst = o.full ? 100 : 20;
    const workerKills = o.full ? 10 : 3;
    const receiver = await startReceiver(SECRET);
    const webs: ChildProcess[] = [];
    const extraEnv = {
      DOCKET_WEBHOOK_SECRET: SECRET,
      DOCKET_WEBHOOK_ALLOW: '127.0.0.1',
      DOCKET_WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      DOCKET_NOTIFY_BACKOFF_MS: '200',
    };
    try {
      // The web processes stop before the environment (its database) is dropped.
      const after = async (): Promise<void> => stopAll(webs);
      return await staged(backend, o, { workers: { count: o.full ? 4 : 3, concurrency: 2 }, extraEnv, after }, async ({ env, ctx, fleet, started }) => {
        const web = await startWeb(env.env);
        webs.push(web.proc);
        const hook = `http://127.0.0.1:${receiver.port}/hook?job=\${JOB_ID}&event=\${EVENT}`;
        // The default events: the end of the job (completed, failed, cancelled).
        const make = (): NewJob => ({
          task: 'fault-probe',
          params: { ms: 100 + Math.floor(Math.random() * 300) },
          origin: 'cli',
          webhooks: [{ url: hook }],
        });

        // 1. Workers killed between a job's end (its notification queued) and the send.
        // Jobs keep coming, paced, until the kills are done (replacements start slowly on
        // a busy machine) and at least `firstJobs` were submitted.
        const first = submit(ctx, firstJobs * 10, o.full ? 5 : 3, make);
        const phaseEnd = Date.now() + (o.full ? 300_000 : 90_000);
        const kills = await killAfterJobEnds(ctx, fleet!, workerKills, () => Date.now() > phaseEnd);
        while (first.ids.length < firstJobs && Date.now() < phaseEnd) await sleep(100);
        first.stop();
        await first.done;

        // 2. The web process killed while its sweep waits on a slow receiver.
        receiver.slowMs = SLOW_MS;
        const second = submit(ctx, burst, 50, make);
        const heldByWeb = await killWebWhileSending(ctx, web.proc, receiver, Date.now() + 60_000);
        receiver.slowMs = 0;
        await second.done;
        // Another web process, as an operator would start; the workers' sweeps send meanwhile.
        webs.push((await startWeb(env.env)).proc);

        // Every job final, then every notification sent: the dead web's lease runs out first.
        const allFinal = await settle(ctx.db, Date.now() + 120_000);
        const outboxDeadline = Date.now() + TIMEOUT_MS + 30_000 + 30_000;
        let pending = -1;
        while (Date.now() < outboxDeadline) {
          pending = Number(((await persist(() => ctx.db('outbox').whereNot({ state: 'sent' }).count({ n: '*' }))) as Array<{ n: number }>)[0].n);
          if (pending === 0) break;
          await sleep(500);
        }
        const c = await persist(() => count(ctx, [...first.ids, ...second.ids], fleet!.kills, env.config.leaseMs + SWEEP_ALLOWANCE_MS));
        const expected = new Set<string>();
        for (const [id, j] of c.jobs) if (['completed', 'failed', 'cancelled'].includes(j.status)) expected.add(`${id}:${j.status}`);
        const d = countDeliveries(expected, receiver.deliveries);
        const resentOfWeb = receiver.deliveries.filter((x) => heldByWeb.includes(x.id)).length - heldByWeb.length;
        const checks: Check[] = [
          { what: `${kills} workers SIGKILLed right after a job ended, its webhook not yet sent`, ok: kills === workerKills },
          { what: `web process SIGKILLed while sending ${heldByWeb.length} deliveries to a slow receiver`, ok: heldByWeb.length > 0 },
          {
            what: `deliveries: expected ${d.expected}, delivered ${d.delivered}, duplicates ${d.duplicates} (same id, at-least-once; ${resentOfWeb} of the web's in flight), lost ${d.lost}, twice under two ids ${d.twiceById}, unexpected ${d.unexpected}`,
            ok: d.lost === 0 && d.twiceById === 0 && d.unexpected === 0 && d.delivered === d.expected,
            detail: d.detail.join('; ') || undefined,
          },
          { what: `every delivery signed (${d.unsigned} not)`, ok: d.unsigned === 0 },
          { what: `outbox drained (${pending} not sent)`, ok: pending === 0 },
          { what: 'every job final', ok: allFinal },
        ];
        return rowOf(backend.name, c, started, checks);
      });
    } finally {
      stopAll(webs);
      await receiver.close();
    }
  },
};
