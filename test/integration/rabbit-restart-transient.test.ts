import { expect } from 'chai';
import { loadConfig } from '../../app/config.js';
import { createContext, type Context } from '../../app/context.js';
import { Worker } from '../../workers/worker.js';
import { RabbitCluster } from '../cluster/rabbit-cluster.js';
import { RESTART_RECOVERY_MS } from '../faults/scenarios/s2-rabbitmq.js';
import { makeTestEnv, REQUIRE_SERVICES, requireService, waitUntil, type TestEnv } from '../helpers.js';

/**
 * A broker restart with messages queued (ADR 11): a private RabbitMQ node (never the
 * machine's main broker), restarted with 150 jobs' messages waiting in a classic queue
 * (processing paused) and two long jobs running. Transient messages are gone after
 * the restart, persistent ones are not; either way every job completes exactly once, the
 * waiting ones within the bound the README gives.
 */
describe('a RabbitMQ restart with messages queued (private node, MariaDB)', function () {
  this.timeout(300_000);
  let node: RabbitCluster | null = null;
  const contexts: Context[] = [];
  const workers: Worker[] = [];
  const envs: TestEnv[] = [];

  before(async function () {
    await requireService(this, 'mysql');
    const why = RabbitCluster.unavailable();
    if (why) {
      if (REQUIRE_SERVICES) throw new Error(`a private RabbitMQ node is required (DOCKET_TEST_REQUIRE_SERVICES=1) but ${why}`);
      console.warn(`      skipped: ${why}`);
      this.skip();
    }
    // Not the cluster test's 5801–5803, the fault suite's 5811–5813 nor scenario 2's 5821.
    node = await RabbitCluster.start(5831, 1);
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop(2000);
    for (const c of contexts.splice(0)) await c.close();
    for (const e of envs.splice(0)) await e.cleanup().catch(() => undefined);
  });
  after(async () => {
    await node?.stop();
  });

  for (const persistent of [false, true]) {
    it(`runs every job once after a restart, ${persistent ? 'persistent messages kept' : 'transient messages published again'}`, async () => {
      const n = node!.nodes[0];
      // The db transport for the environment itself: its cleanup would delete queues on the main broker.
      const env = await makeTestEnv({ db: 'mysql', transport: 'db' }, { AMQP_PERSISTENT: String(persistent) });
      envs.push(env);
      await env.context(); // migrates
      const open = async (): Promise<Context> => {
        const ctx = await createContext({ config: loadConfig({ ...env.env, AMQP_URL: n.url }), broker: 'required' });
        contexts.push(ctx);
        return ctx;
      };
      const web = await open();
      const wctx = await open();
      const w = new Worker(wctx.service, wctx.transport, { concurrency: 2 });
      workers.push(w);
      await w.start();
      // Two long jobs run through the restart; processing is then paused, so that what
      // follows stays queued in the broker (a paused worker takes nothing).
      const long: number[] = [];
      for (let i = 0; i < 2; i++) long.push((await web.service.enqueue({ task: 'sleep', params: { seconds: 6 }, origin: 'cli' })).job.id);
      await waitUntil(async () => Number((await web.db('jobs').whereIn('id', long).where({ status: 'running' }).count({ n: '*' }))[0].n) === 2, 30_000, 'both long jobs running');
      await web.service.setPaused(true, 'test');
      const ids: number[] = [];
      for (let i = 0; i < 150; i++) ids.push((await web.service.enqueue({ task: 'noop', origin: 'cli' })).job.id);
      await waitUntil(async () => Number((await web.db('jobs').whereIn('id', ids).whereNotNull('dispatched_at').count({ n: '*' }))[0].n) === ids.length, 30_000, 'every publish confirmed');
      const before = (await web.transport.queueDepths(['noop']))!.get('noop')!.ready;
      expect(before).to.equal(ids.length);

      await node!.stopApp(n);
      await node!.startApp(n);
      const back = Date.now();
      await web.service.setPaused(false, 'test');
      await waitUntil(() => web.transport.state() === 'up', 30_000, 'the publisher to reconnect');
      const after = (await web.transport.queueDepths(['noop']))!.get('noop')!.ready;
      // The premise: a restart drops transient messages from classic queues, keeps persistent ones.
      if (persistent) expect(after).to.equal(before);
      else expect(after).to.equal(0);

      await waitUntil(
        async () => Number((await web.db('jobs').whereIn('id', [...long, ...ids]).where({ status: 'completed' }).count({ n: '*' }))[0].n) === ids.length + 2,
        RESTART_RECOVERY_MS + 30_000,
        'every job to complete',
      );
      const lastStart = Number((await web.db('jobs').whereIn('id', ids).max({ t: 'started_at' }))[0].t);
      console.log(`      ${persistent ? 'persistent' : 'transient'}: ${before} messages queued, ${after} after the restart; the last waiting job started ${((lastStart - back) / 1000).toFixed(1)} s after the broker's return`);
      expect(lastStart - back).to.be.at.most(RESTART_RECOVERY_MS);
      const started = (await web.db('job_events').whereIn('job_id', [...long, ...ids]).where({ type: 'started' }).groupBy('job_id').havingRaw('count(*) > 1').select('job_id')) as unknown[];
      const completed = (await web.db('job_events').whereIn('job_id', [...long, ...ids]).where({ type: 'completed' }).groupBy('job_id').havingRaw('count(*) > 1').select('job_id')) as unknown[];
      expect(started, 'jobs started twice').to.have.length(0);
      expect(completed, 'jobs completed twice').to.have.length(0);
    });
  }
});
