import { expect } from 'chai';
import { ShortCache } from '../../app/web/short-cache.js';

describe('ShortCache (values shared by the requests of the next moment)', () => {
  it('shares one read between concurrent and close-together requests, and reads again after its time', async () => {
    const cache = new ShortCache<string, number>(1000);
    let reads = 0;
    const load = async (): Promise<number> => ++reads;
    const [a, b] = await Promise.all([cache.get('k', load, 10_000), cache.get('k', load, 10_000)]);
    expect([a, b, reads]).to.deep.equal([1, 1, 1]);
    expect(await cache.get('k', load, 10_999)).to.equal(1);
    expect(await cache.get('other', load, 10_999)).to.equal(2);
    expect(await cache.get('k', load, 11_000)).to.equal(3);
    // A clock that went back does not keep a value alive.
    expect(await cache.get('k', load, 5_000)).to.equal(4);
  });

  it('does not keep a failed read, and forgets on demand', async () => {
    const cache = new ShortCache<string, number>(1000);
    let fail = true;
    const load = async (): Promise<number> => {
      if (fail) throw new Error('database blip');
      return 7;
    };
    await cache.get('k', load, 0).then(
      () => expect.fail('should reject'),
      (err: Error) => expect(err.message).to.equal('database blip'),
    );
    fail = false;
    expect(await cache.get('k', load, 1)).to.equal(7);
    let n = 0;
    expect(await cache.get('k', async () => ++n, 2)).to.equal(7);
    cache.forget('k');
    expect(await cache.get('k', async () => ++n, 3)).to.equal(1);
    cache.forget();
    expect(await cache.get('k', async () => ++n, 4)).to.equal(2);
  });

  it('holds at most `max` keys, dropping the oldest', async () => {
    const cache = new ShortCache<number, number>(1000, 2);
    for (const k of [1, 2, 3]) await cache.get(k, async () => k * 10, 0);
    let reread = false;
    expect(
      await cache.get(
        1,
        async () => {
          reread = true;
          return 11;
        },
        0,
      ),
    ).to.equal(11);
    expect(reread).to.equal(true);
    expect(await cache.get(3, async () => 0, 0)).to.equal(30);
  });
});
