import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { loadConfig } from '../../app/config.js';
import { createContext, type Context } from '../../app/context.js';
import { Maintenance } from '../../app/maintenance.js';
import { getJob, listEvents } from '../../app/store/jobs.js';
import { Worker } from '../../workers/worker.js';
import { AMQP_URL, makeTestEnv, requireService, waitUntil, type TestEnv } from '../helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** A second "node": a TCP relay to the broker that can die, taking its connections with it. */
async function relay(): Promise<{ port: number; kill(): Promise<void> }> {
  const target = new URL(AMQP_URL as string);
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const up = createConnection(Number(target.port || 5672), target.hostname);
    for (const s of [client, up]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(up).pipe(client);
    // A process killed with bytes unread resets its socket (an error, not an end), which a
    // pipe does not pass on: the broker would keep the other side open until its AMQP
    // heartbeat timeout, as if the worker lived on. Either side closing closes both, as a
    // node's connection does when its peer dies.
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    async kill() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

describe('several RabbitMQ nodes and quorum queues (MariaDB + RabbitMQ)', function () {
  this.timeout(60_000);
  let env: TestEnv;
  const contexts: Context[] = [];
  const workers: Worker[] = [];
  let child: ChildProcess | null = null;
  let sweeper: Maintenance | null = null;
  const relays: Array<{ kill(): Promise<void> }> = [];

  async function open(extra: Record<string, string>): Promise<Context> {
    const ctx = await createContext({ config: loadConfig({ ...env.env, ...extra }), broker: 'required' });
    contexts.push(ctx);
    return ctx;
  }

  afterEach(async () => {
    sweeper?.stop();
    sweeper = null;
    child?.kill('SIGKILL');
    child = null;
    for (const w of workers.splice(0)) await w.stop(2000);
    for (const c of contexts.splice(0)) await c.close();
    for (const r of relays.splice(0)) await r.kill();
    await env?.cleanup();
  });

  async function setUp(extra: Record<string, string> = {}): Promise<void> {
    env = await makeTestEnv({ db: 'mysql', transport: 'amqp' }, { DOCKET_LEASE_MS: '30000', ...extra });
    await env.context(); // migrates; its cleanup deletes the task queues
  }

  beforeEach(async function () {
    await requireService(this, 'mysql');
    await requireService(this, 'amqp');
  });

  it('connects to the first node that answers', async () => {
    await setUp();
    const ctx = await open({ AMQP_URL: `amqp://guest:guest@127.0.0.1:1,${AMQP_URL}` });
    const w = new Worker(ctx.service, ctx.transport, { concurrency: 1 });
    workers.push(w);
    await w.start();
    const { job, dispatched } = await ctx.service.enqueue({ task: 'noop', origin: 'cli' });
    expect(dispatched).to.equal(true);
    await waitUntil(async () => (await getJob(ctx.db, job.id))?.status === 'completed', 15_000, 'the job to complete');
  });

  it('moves to another node when its node dies; the worker is not judged dead, and its job ends once', async () => {
    // Heartbeats every 2 s: a worker judged dead after three silent ones has 6 s, not 1.5 s,
    // which a loaded machine can take to write one (the reconnect itself takes about 1 s).
    await setUp({ DOCKET_HEARTBEAT_MS: '2000' });
    const node = await relay();
    relays.push(node);
    const nodes = (first: string, second: string): Record<string, string> => ({ AMQP_URL: `${first},${second}` });
    const viaRelay = `amqp://guest:guest@127.0.0.1:${node.port}`;
    const wctx = await open(nodes(viaRelay, AMQP_URL as string));
    const checker = await open(nodes(AMQP_URL as string, viaRelay));
    const w = new Worker(wctx.service, wctx.transport, { concurrency: 1 });
    workers.push(w);
    await w.start();
    sweeper = new Maintenance(checker.service);
    sweeper.start();
    const { job } = await checker.service.enqueue({ task: 'sleep', params: { seconds: 4 }, origin: 'cli' });
    await waitUntil(async () => (await getJob(checker.db, job.id))?.status === 'running', 15_000, 'the job to start');
    await node.kill();
    await waitUntil(() => wctx.transport.state() !== 'up', 5000, 'the worker to see its node die');
    await waitUntil(() => wctx.transport.state() === 'up', 10_000, 'the worker to reconnect to the other node');
    const done = await waitUntil(async () => {
      const j = await getJob(checker.db, job.id);
      return j && j.status !== 'running' && j.status !== 'queued' ? j : null;
    }, 20_000, 'the job to end');
    const evs = await listEvents(checker.db, job.id);
    expect(done.attempt, JSON.stringify(evs.map((e) => [e.type, e.actor, e.message]))).to.equal(1);
    expect(done.status).to.equal('completed');
    expect((await listEvents(checker.db, job.id)).map((e) => e.type)).to.not.include('requeued');
    // The worker still takes jobs through its new node.
    const next = await checker.service.enqueue({ task: 'noop', origin: 'cli' });
    await waitUntil(async () => (await getJob(checker.db, next.job.id))?.status === 'completed', 15_000, 'a job after the move');
  });

  it('still finds a worker that died, long before its lease', async () => {
    await setUp();
    const node = await relay();
    relays.push(node);
    const checker = await open({ AMQP_URL: `${AMQP_URL},amqp://guest:guest@127.0.0.1:${node.port}` });
    child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'docket.ts'), 'worker', '--concurrency', '1'], {
      env: { ...env.env, DOCKET_LEASE_MS: '30000', AMQP_URL: `amqp://guest:guest@127.0.0.1:${node.port},${AMQP_URL}` },
      cwd: ROOT,
      stdio: 'ignore',
    });
    sweeper = new Maintenance(checker.service);
    sweeper.start();
    const { job } = await checker.service.enqueue({ task: 'sleep', params: { seconds: 30 }, origin: 'cli' });
    await waitUntil(async () => (await getJob(checker.db, job.id))?.status === 'running', 30_000, 'the job to start');
    child.kill('SIGKILL');
    const killedAt = Date.now();
    await waitUntil(async () => (await listEvents(checker.db, job.id)).some((e) => e.type === 'retried' || e.type === 'requeued'), 15_000, 'the job to be recovered');
    // Three 500 ms heartbeats, plus a sweep: far below the 30 s lease.
    expect(Date.now() - killedAt).to.be.below(5000);
  });

  it('quorum queues: a worker takes high, then normal, then low priority jobs', async () => {
    await setUp({ AMQP_QUEUE_TYPE: 'quorum' });
    const ctx = await open({});
    const order: Array<'low' | 'normal' | 'high'> = ['low', 'normal', 'high', 'low', 'normal', 'high', 'low', 'normal', 'high'];
    const ids: number[] = [];
    for (const priority of order) ids.push((await ctx.service.enqueue({ task: 'noop', priority, origin: 'cli' })).job.id);
    const depth = (await ctx.transport.queueDepths(['noop']))!.get('noop')!;
    expect(depth.ready).to.equal(9);
    const w = new Worker(ctx.service, ctx.transport, { concurrency: 1 });
    workers.push(w);
    await w.start();
    await waitUntil(async () => (await ctx.db('jobs').whereIn('id', ids).where({ status: 'completed' }).count({ n: '*' }))[0].n == 9, 20_000, 'all nine jobs');
    const started = (await ctx.db('jobs').whereIn('id', ids).orderBy('started_at').orderBy('id').select('priority')) as Array<{ priority: number }>;
    expect(started.map((r) => Number(r.priority))).to.deep.equal([3, 3, 3, 2, 2, 2, 1, 1, 1]);
  });
});
