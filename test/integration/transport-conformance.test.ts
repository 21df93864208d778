/**
 * The contract every transport meets (app/transports/transport.ts), run against each.
 * A transport only delivers job ids; these tests drive it directly, without a worker.
 */
import { expect } from 'chai';
import type { Context } from '../../app/context.js';
import type { Delivery } from '../../app/transports/transport.js';
import { AmqpTransport } from '../../app/transports/amqp-transport.js';
import { DbTransport } from '../../app/transports/db-transport.js';
import { makeTestEnv, requireService, waitUntil, type TestEnv, type TransportKind } from '../helpers.js';

const kinds: Array<{ transport: TransportKind; db: 'sqlite' | 'mysql' }> = [
  { transport: 'db', db: 'sqlite' },
  { transport: 'amqp', db: 'sqlite' },
];

for (const kind of kinds) {
  describe(`transport conformance: ${kind.transport}`, function () {
    this.timeout(30_000);
    let env: TestEnv;
    let ctx: Context;

    before(async function () {
      if (kind.transport === 'amqp') await requireService(this, 'amqp');
      env = await makeTestEnv(kind);
      ctx = await env.context();
    });
    afterEach(async () => {
      await ctx?.transport.stopConsuming();
      // Nothing left queued for the next test.
      await ctx?.service.clearQueue('test');
    });

    /** What a worker does with a delivery: claim the job, then ack. */
    async function take(d: Delivery): Promise<void> {
      await ctx.service.claimMany([d.jobId], 'conformance');
      d.ack();
    }
    after(async () => env?.cleanup());

    async function enqueue(task: string, priority: 'low' | 'normal' | 'high' = 'normal'): Promise<number> {
      const { job, dispatched } = await ctx.service.enqueue({ task, priority, origin: 'cli' });
      expect(dispatched, 'confirmed at once').to.equal(true);
      return job.id;
    }

    it('is of its kind', () => {
      expect(ctx.transport).to.be.instanceOf(kind.transport === 'amqp' ? AmqpTransport : DbTransport);
      expect(ctx.transport.state()).to.equal('up');
      expect(ctx.transport.lastError()).to.equal(null);
    });

    it('delivers a published job id for a task the consumer has the ability for', async () => {
      const id = await enqueue('noop');
      const got: Delivery[] = [];
      await ctx.transport.consume({ abilities: ['noop'], prefetch: 5, onDelivery: (d) => got.push(d) });
      await waitUntil(() => got.find((d) => d.jobId === id), 5000, 'the delivery');
      for (const d of got) await take(d);
    });

    it('does not deliver jobs of tasks outside the abilities', async () => {
      const sleepId = await enqueue('sleep');
      const got: Delivery[] = [];
      await ctx.transport.consume({ abilities: ['print'], prefetch: 5, onDelivery: (d) => got.push(d) });
      await new Promise((r) => setTimeout(r, 500));
      expect(got.map((d) => d.jobId)).to.not.include(sleepId);
      await ctx.transport.stopConsuming();
      expect((await ctx.service.get(sleepId)).status).to.equal('queued');
    });

    it('follows a prefetch changed while consuming: 0 delivers nothing, a rise delivers again', async () => {
      const ids = [await enqueue('print'), await enqueue('print'), await enqueue('print')];
      const got: Delivery[] = [];
      await ctx.transport.consume({ abilities: ['print'], prefetch: 1, onDelivery: (d) => got.push(d) });
      await waitUntil(() => got.length >= 1, 5000, 'one delivery');
      await ctx.transport.setPrefetch(0);
      // Given back with a prefetch of 0, it stays queued instead of coming back here.
      got[0].release();
      await new Promise((r) => setTimeout(r, 500));
      expect(got).to.have.length(1);
      await ctx.transport.setPrefetch(3);
      await waitUntil(() => new Set(got.map((d) => d.jobId)).size >= 3, 5000, 'three deliveries after the rise');
      expect(new Set(got.map((d) => d.jobId))).to.deep.equal(new Set(ids));
      for (const d of got.slice(1)) await take(d);
    });

    it('keeps delivering from every queue when the prefetch falls to 0 and rises again before the fall took hold', async () => {
      const got: Delivery[] = [];
      await ctx.transport.consume({ abilities: ['print', 'sleep', 'noop'], prefetch: 1, onDelivery: (d) => got.push(d) });
      // Not awaited: the rise comes while the consumers are being cancelled (a worker
      // whose one child took a short job, and freed again at once).
      const fall = ctx.transport.setPrefetch(0);
      const rise = ctx.transport.setPrefetch(2);
      await Promise.all([fall, rise]);
      const ids = [await enqueue('print'), await enqueue('sleep'), await enqueue('noop')];
      await waitUntil(() => got.length >= 2, 5000, 'two deliveries after the rise');
      await new Promise((r) => setTimeout(r, 300));
      expect(got, 'no more than the prefetch').to.have.length(2);
      for (const d of got.slice(0, 2)) await take(d);
      await waitUntil(() => got.length >= 3, 5000, 'the third delivery after the acks');
      expect(new Set(got.map((d) => d.jobId))).to.deep.equal(new Set(ids));
      await take(got[2]);
    });

    it('keeps no more than `prefetch` deliveries outstanding', async () => {
      const ids = [await enqueue('print'), await enqueue('print'), await enqueue('print')];
      const got: Delivery[] = [];
      await ctx.transport.consume({ abilities: ['print'], prefetch: 2, onDelivery: (d) => got.push(d) });
      await waitUntil(() => got.length >= 2, 5000, 'two deliveries');
      await new Promise((r) => setTimeout(r, 400));
      expect(got).to.have.length(2);
      await take(got[0]);
      await waitUntil(() => got.length >= 3, 5000, 'a third delivery after an ack');
      expect(new Set(got.map((d) => d.jobId))).to.deep.equal(new Set(ids));
      for (const d of got.slice(1)) await take(d);
    });

    it('redelivers a released delivery', async () => {
      const id = await enqueue('print');
      const got: Delivery[] = [];
      await ctx.transport.consume({ abilities: ['print'], prefetch: 1, onDelivery: (d) => got.push(d) });
      await waitUntil(() => got.length >= 1, 5000, 'the delivery');
      got[0].release();
      await waitUntil(() => got.length >= 2, 5000, 'the redelivery');
      expect(got[1].jobId).to.equal(id);
      await take(got[1]);
    });

    it('returns outstanding deliveries when consuming stops', async () => {
      const id = await enqueue('print');
      const first: Delivery[] = [];
      await ctx.transport.consume({ abilities: ['print'], prefetch: 1, onDelivery: (d) => first.push(d) });
      await waitUntil(() => first.length >= 1, 5000, 'the delivery');
      await ctx.transport.stopConsuming();
      const second: Delivery[] = [];
      await ctx.transport.consume({ abilities: ['print'], prefetch: 1, onDelivery: (d) => second.push(d) });
      await waitUntil(() => second.find((d) => d.jobId === id), 5000, 'the job again');
      for (const d of second) await take(d);
    });

    it('delivers higher priorities first', async () => {
      const low = await enqueue('noop', 'low');
      const normal = await enqueue('noop', 'normal');
      const high = await enqueue('noop', 'high');
      const got: number[] = [];
      await ctx.transport.consume({
        abilities: ['noop'],
        prefetch: 1,
        onDelivery: (d) => {
          got.push(d.jobId);
          void take(d);
        },
      });
      await waitUntil(() => [low, normal, high].every((id) => got.includes(id)), 5000, 'all three');
      const mine = got.filter((id) => [low, normal, high].includes(id));
      expect(mine).to.deep.equal([high, normal, low]);
    });
  });
}
