import { expect } from 'chai';
import { loadConfig } from '../../app/config.js';
import { createContext, type Context } from '../../app/context.js';
import { Worker } from '../../workers/worker.js';
import { RabbitCluster } from '../cluster/rabbit-cluster.js';
import { makeTestEnv, REQUIRE_SERVICES, requireService, waitUntil, type TestEnv } from '../helpers.js';

describe('a three-node RabbitMQ cluster with quorum queues (MariaDB)', function () {
  this.timeout(240_000);
  let cluster: RabbitCluster | null = null;
  let env: TestEnv;
  const contexts: Context[] = [];
  const workers: Worker[] = [];

  before(async function () {
    await requireService(this, 'mysql');
    const why = RabbitCluster.unavailable();
    if (why) {
      if (REQUIRE_SERVICES) throw new Error(`a RabbitMQ cluster is required (DOCKET_TEST_REQUIRE_SERVICES=1) but ${why}`);
      console.warn(`      skipped: ${why}`);
      this.skip();
    }
    cluster = await RabbitCluster.start(5801);
    env = await makeTestEnv({ db: 'mysql', transport: 'db' }, { AMQP_QUEUE_TYPE: 'quorum' });
    await env.context(); // migrates
  });
  after(async () => {
    for (const w of workers.splice(0)) await w.stop(2000);
    for (const c of contexts.splice(0)) await c.close();
    await env?.cleanup();
    await cluster?.stop();
  });

  async function open(first: number): Promise<Context> {
    const ctx = await createContext({ config: loadConfig({ ...env.env, AMQP_URL: cluster!.urls(first) }), broker: 'required' });
    contexts.push(ctx);
    return ctx;
  }

  it('loses no job when the node a worker and the publisher use is killed while jobs flow', async () => {
    const c = cluster!;
    const web = await open(0);
    const wctx = await open(0);
    const other = await open(1);
    const w = new Worker(wctx.service, wctx.transport, { concurrency: 4 });
    workers.push(w);
    await w.start();
    const ids: number[] = [];
    for (let i = 0; i < 100; i++) ids.push((await web.service.enqueue({ task: 'noop', origin: 'cli' })).job.id);
    const killedAt = Date.now();
    c.kill(c.nodes[0]);
    // Keep submitting through the node that died: the publisher moves to another one.
    for (let i = 0; i < 100; i++) ids.push((await web.service.enqueue({ task: 'noop', origin: 'cli' })).job.id);
    const firstAfter = await waitUntil(
      async () => (await other.db('jobs').where('finished_at', '>', killedAt).where({ status: 'completed' }).min({ t: 'finished_at' }))[0].t,
      60_000,
      'a job completing after the kill',
    );
    console.log(`      node killed → first job completed again after ${Number(firstAfter) - killedAt} ms`);
    await waitUntil(
      async () => Number((await other.db('jobs').whereIn('id', ids).where({ status: 'completed' }).count({ n: '*' }))[0].n) === ids.length,
      120_000,
      'every job to complete',
    );
    const twice = await other.db('job_events').whereIn('job_id', ids).where({ type: 'started' }).groupBy('job_id').havingRaw('count(*) > 1').select('job_id');
    expect(twice).to.have.length(0);
    await c.restart(c.nodes[0]);
  });
});
