import { expect } from 'chai';
import { shared, SUMMARY_STALE_MS, SUMMARY_TTL_MS, type Shared } from '../../app/store/job-list.js';

/** A load whose answers the test gives, one at a time. */
function loads() {
  const pending: Array<{ resolve: (v: number) => void; reject: (e: Error) => void }> = [];
  const load = (): Promise<number> => new Promise((resolve, reject) => pending.push({ resolve, reject }));
  return { load, pending };
}
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('the jobs page counts, shared between requests', () => {
  it('shares one read in its time, then answers with it while one newer read runs', async () => {
    const caches = new WeakMap<object, Shared<number>>();
    const db = {};
    const { load, pending } = loads();
    const first = [shared(caches, db, 'k', load, 0), shared(caches, db, 'k', load, 10)];
    expect(pending).to.have.length(1);
    pending[0].resolve(1);
    expect(await Promise.all(first)).to.deep.equal([1, 1]);
    expect(await shared(caches, db, 'k', load, SUMMARY_TTL_MS - 1)).to.equal(1);
    expect(pending).to.have.length(1);
    // Past its time: the old counts at once, and a single read for newer ones.
    expect(await shared(caches, db, 'k', load, SUMMARY_TTL_MS)).to.equal(1);
    expect(await shared(caches, db, 'k', load, SUMMARY_TTL_MS + 5)).to.equal(1);
    expect(pending).to.have.length(2);
    pending[1].resolve(2);
    await tick();
    expect(await shared(caches, db, 'k', load, SUMMARY_TTL_MS + 6)).to.equal(2);
    expect(pending).to.have.length(2);
  });

  it('keeps the old counts when a newer read fails, and waits for a fresh read once they are too old', async () => {
    const caches = new WeakMap<object, Shared<number>>();
    const db = {};
    const { load, pending } = loads();
    const first = shared(caches, db, 'k', load, 0);
    pending[0].resolve(1);
    await first;
    expect(await shared(caches, db, 'k', load, SUMMARY_TTL_MS)).to.equal(1);
    pending[1].reject(new Error('database blip'));
    await tick();
    // The failed read is tried again by the next request, which still gets the old counts.
    expect(await shared(caches, db, 'k', load, SUMMARY_TTL_MS + 1)).to.equal(1);
    expect(pending).to.have.length(3);
    // Too old to show: the request waits for the read.
    const late = shared(caches, db, 'k', load, SUMMARY_TTL_MS + SUMMARY_STALE_MS + 1);
    expect(pending).to.have.length(4);
    pending[3].resolve(7);
    expect(await late).to.equal(7);
  });

  it('does not keep a first read that failed, nor a newer read once the counts were forgotten', async () => {
    const caches = new WeakMap<object, Shared<number>>();
    const db = {};
    const { load, pending } = loads();
    const failing = shared(caches, db, 'k', load, 0);
    pending[0].reject(new Error('database blip'));
    await failing.then(
      () => expect.fail('should reject'),
      (err: Error) => expect(err.message).to.equal('database blip'),
    );
    const again = shared(caches, db, 'k', load, 1);
    expect(pending).to.have.length(2);
    pending[1].resolve(3);
    expect(await again).to.equal(3);
    expect(await shared(caches, db, 'k', load, 1 + SUMMARY_TTL_MS)).to.equal(3);
    // Forgotten (after a clear) while the newer read runs: that read is not kept.
    caches.get(db)!.delete('k');
    pending[2].resolve(4);
    await tick();
    const fresh = shared(caches, db, 'k', load, 2 + SUMMARY_TTL_MS);
    expect(pending).to.have.length(4);
    pending[3].resolve(5);
    expect(await fresh).to.equal(5);
  });
});
