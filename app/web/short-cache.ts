/**
 * A value shared by the requests of the next moment: the first request reads it, every
 * request within `ttlMs` (concurrent ones included) gets the same promise. A failed read
 * is not kept. For what is the same for many requests and may be a second old (the
 * signed-in user's name and role, the queue's state), never for what a request changes
 * or what differs between users.
 */
export class ShortCache<K, V> {
  private entries = new Map<K, { at: number; value: Promise<V> }>();

  constructor(
    readonly ttlMs: number,
    private readonly max = 1000,
  ) {}

  get(key: K, load: () => Promise<V>, now = Date.now()): Promise<V> {
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs && now >= hit.at) return hit.value;
    const entry = { at: now, value: load() };
    this.entries.set(key, entry);
    entry.value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as K);
    return entry.value;
  }

  /** Forgets one key, or everything (after a change made by this process). */
  forget(key?: K): void {
    if (key === undefined) this.entries.clear();
    else this.entries.delete(key);
  }
}
