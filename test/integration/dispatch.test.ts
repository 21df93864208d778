import { expect } from 'chai';
import { loadConfig } from '../../app/config.js';
import { createContext, type Context } from '../../app/context.js';
import { getJob } from '../../app/store/jobs.js';
import { createWebApp, listen } from '../../app/web/server.js';
import { Worker } from '../../workers/worker.js';
import { makeTestEnv, requireService, waitUntil, type TestEnv } from '../helpers.js';

describe('dispatch while the broker is down', function () {
  this.timeout(60_000);
  let env: TestEnv;
  let offline: Context;
  let worker: Worker | null = null;

  before(async function () {
    await requireService(this, 'amqp');
    env = await makeTestEnv({ db: 'sqlite', transport: 'amqp' });
    // The same database, but a broker address where nothing listens.
    const config = loadConfig({ ...env.env, AMQP_URL: 'amqp://guest:guest@127.0.0.1:1/' });
    offline = await createContext({ config, broker: 'background' });
  });
  after(async () => {
    if (worker) await worker.stop(1000);
    await offline?.close();
    await env?.cleanup();
  });

  it('accepts the job, reports degraded health, and dispatches it once the broker is reachable', async () => {
    const { job, dispatched } = await offline.service.enqueue({ task: 'noop', origin: 'cli' });
    expect(dispatched).to.equal(false);
    expect(job.status).to.equal('queued');
    expect(job.dispatchedAt).to.equal(null);

    const server = await listen(await createWebApp(offline), 0, '127.0.0.1');
    try {
      const port = (server.address() as { port: number }).port;
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(res.status).to.equal(200);
      const body = (await res.json()) as { status: string; broker: { state: string; error?: string } };
      expect(body.status).to.equal('degraded');
      expect(body.broker.state).to.not.equal('up');
      expect(body.broker.error).to.match(/cannot reach RabbitMQ/);
    } finally {
      server.close();
    }

    // A process with a working broker: its sweep publishes what was never confirmed.
    const online = await env.context();
    worker = new Worker(online.service, online.transport, { concurrency: 1 });
    await worker.start();
    const done = await waitUntil(async () => {
      const j = await getJob(online.db, job.id);
      return j?.status === 'completed' ? j : null;
    }, 40_000, 'the job to complete');
    // The dispatched mark is written in a batch some 20 ms after the broker's confirm: a
    // job as short as this one can complete first.
    const marked = await waitUntil(async () => (await getJob(online.db, job.id))?.dispatchedAt ?? null, 5000, 'the dispatched mark');
    expect(marked).to.be.within(job.queuedAt, done.finishedAt! + 1000);
    expect(done.attempt).to.equal(1);
  });
});
