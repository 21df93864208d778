/**
 * `node --import tsx bench/lost-messages.ts [--jobs 100000]`: how many messages the
 * lost-message check (app/lost-messages.ts) publishes again over a long backlog, on
 * MariaDB + RabbitMQ with no worker: when the broker holds every message (must be 0),
 * and after the task queue is purged (about one per job, once, not at every check).
 * Confirm times are moved back past the graces, as if the backlog had waited a while.
 */
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import { checkLostMessages } from '../app/lost-messages.js';
import { AmqpTransport } from '../app/transports/amqp-transport.js';
import { makeDocketEnv } from './lib/docket-env.js';
import { AMQP_URL } from './lib/services.js';
import { enqueueMany } from '../app/enqueue-many.js';

const { values } = parseArgs({ options: { jobs: { type: 'string', default: '100000' } } });
const jobs = Number(values.jobs);
if (!Number.isInteger(jobs) || jobs < 1) throw new Error('--jobs takes a positive whole number');

const env = await makeDocketEnv({ db: 'mysql', transport: 'amqp' });
try {
  const ctx = await env.context();
  const queue = (ctx.transport as AmqpTransport).queueName('noop');
  let t = Date.now();
  for (let i = 0; i < jobs; i += 10_000) {
    const n = Math.min(10_000, jobs - i);
    await enqueueMany(ctx.service, Array.from({ length: n }, () => ({ task: 'noop', origin: 'cli' as const })));
  }
  // The dispatched marks are written in batches shortly after the confirms.
  while (Number((await ctx.db('jobs').whereNull('dispatched_at').count({ n: '*' }))[0].n) > 0) await new Promise((r) => setTimeout(r, 200));
  console.log(`enqueued and confirmed ${jobs} jobs in ${Date.now() - t} ms`);
  const age = async (): Promise<void> => {
    await ctx.db('jobs').update({ dispatched_at: Date.now() - 120_000 });
  };
  const check = async (what: string): Promise<number> => {
    const start = Date.now();
    const n = (await checkLostMessages(ctx.service)).republished.get('noop') ?? 0;
    const ready = (await ctx.transport.queueDepths(['noop']))!.get('noop')!.ready;
    console.log(`${what}: republished ${n} in ${Date.now() - start} ms; queue holds ${ready}`);
    return n;
  };
  await age();
  const intact = [await check('nothing lost, check 1'), await check('nothing lost, check 2')];
  const conn = await amqp.connect(AMQP_URL);
  const ch = await conn.createChannel();
  console.log(`purged ${(await ch.purgeQueue(queue)).messageCount} messages`);
  await conn.close();
  t = Date.now();
  const purged = [await check('after the purge, check 1')];
  await age();
  purged.push(await check('after the purge, check 2 (graces passed)'), await check('after the purge, check 3'));
  console.log(JSON.stringify({ jobs, intact, purged }));
} finally {
  await env.cleanup();
}
