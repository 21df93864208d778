/**
 * Scenario 4: a job that runs longer than RabbitMQ's consumer timeout still completes,
 * once. The timeout is lowered to 5 s for the test (RabbitMQ checks it about once a
 * minute, so the job runs 75 s) and always set back to its default afterwards. A bare
 * consumer that holds a message unacked shows the lowered timeout really bites.
 */
import amqp from 'amqplib';
import { count, persist, rowOf, settle, sleep } from '../harness.js';
import { MYSQL_AMQP, staged, SWEEP_ALLOWANCE_MS, type Scenario } from '../scenario.js';
import { AMQP_URL, DEFAULT_CONSUMER_TIMEOUT_MS, setConsumerTimeout } from '../services.js';

const TIMEOUT_MS = 5000;

/** Holds one message unacked; resolves with the seconds until the broker closed the channel (null if it never did). */
async function unackedHolder(queue: string, waitMs: number): Promise<number | null> {
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    await ch.assertQueue(queue, { durable: false, autoDelete: false });
    ch.sendToQueue(queue, Buffer.from('hold me'));
    const closed = new Promise<number>((resolve) => ch.once('close', () => resolve(Date.now())));
    const from = Date.now();
    await ch.consume(queue, () => undefined, { noAck: false });
    const at = await Promise.race([closed, sleep(waitMs).then(() => null)]);
    return at === null ? null : (at - from) / 1000;
  } finally {
    const ch = await conn.createChannel().catch(() => null);
    await ch?.deleteQueue(queue).catch(() => undefined);
    await conn.close().catch(() => undefined);
  }
}

export const s4: Scenario = {
  n: 4,
  title: `a job longer than RabbitMQ's consumer timeout (lowered to ${TIMEOUT_MS / 1000} s) completes once`,
  // The lowered timeout applies to every channel opened meanwhile, other people's too.
  stopsSharedService: true,
  backends: () => [MYSQL_AMQP],
  async run(backend, o) {
    const jobMs = o.full ? 90_000 : 75_000;
    try {
      // Before any channel opens: RabbitMQ reads the timeout when a channel starts.
      await setConsumerTimeout(TIMEOUT_MS);
      return await staged(backend, o, { workers: { count: 1, concurrency: 2 } }, async ({ env, ctx, fleet, started }) => {
        const holder = unackedHolder(`${env.config.amqpPrefix}.unacked-holder`, jobMs + 30_000);
        const { job } = await ctx.service.enqueue({ task: 'fault-probe', params: { ms: jobMs, lines: 1 }, origin: 'cli' });
        // Short jobs flow beside it on the same worker.
        const others: number[] = [];
        for (let i = 0; i < 20; i++) {
          others.push((await ctx.service.enqueue({ task: 'fault-probe', params: { ms: 50 }, origin: 'cli' })).job.id);
          await sleep(jobMs / 25);
        }
        const closedAfter = await holder;
        const allFinal = await settle(ctx.db, Date.now() + jobMs + 60_000);
        const c = await persist(() => count(ctx, [job.id, ...others], fleet!.kills, env.config.leaseMs + SWEEP_ALLOWANCE_MS));
        const long = c.jobs.get(job.id);
        const completions = (c.events.get(job.id) ?? []).filter((e) => e.type === 'completed').length;
        return rowOf(backend.name, c, started, [
          {
            what: 'the lowered timeout bites: a consumer holding a message unacked lost its channel',
            ok: closedAfter !== null,
            detail: closedAfter === null ? 'it never did' : `after ${closedAfter.toFixed(0)} s`,
          },
          {
            what: `the ${jobMs / 1000} s job completed once, on its first attempt`,
            ok: long?.status === 'completed' && long.attempt === 1 && completions === 1,
            detail: `${long?.status}, attempt ${long?.attempt}, ${completions} completion(s)`,
          },
          { what: 'every job final', ok: allFinal },
        ]);
      });
    } finally {
      await setConsumerTimeout(DEFAULT_CONSUMER_TIMEOUT_MS);
    }
  },
};
