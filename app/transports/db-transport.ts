import { watch, type FSWatcher } from 'node:fs';
import type { Db } from '../db.js';
import { claimableIds } from '../store/jobs.js';
import type { ConsumeOptions, Delivery, PublishItem, Transport, TransportState } from './transport.js';

/** How often an idle consumer looks for work; `nudge()` wakes it sooner in-process. */
const IDLE_POLL_MS = 100;

/**
 * The embedded default: the `jobs` table is the queue. A "delivery" is a candidate id
 * read from the claim index; the worker's conditional claim settles races between
 * workers, exactly as with a broker's duplicate delivery.
 */
export class DbTransport implements Transport {
  readonly kind = 'db' as const;
  readonly confirmsDispatch = false;
  private consumer: ConsumeOptions | null = null;
  private outstanding = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private again = false;
  private error: string | null = null;
  private watcher: FSWatcher | null = null;

  /**
   * `walFile`: with SQLite, the write-ahead log changes on every commit by any process on
   * this host, so watching it wakes the consumer as soon as a job is inserted, instead of
   * at its next poll (enqueue → start drops from about half a poll to a few ms). Polling
   * stays as the safety net, and is all there is on MySQL.
   */
  constructor(
    private readonly db: Db,
    private readonly walFile: string | null = null,
  ) {}

  async start(): Promise<void> {}

  async publish(items: PublishItem[]): Promise<number[]> {
    this.nudge();
    return items.map((i) => i.id);
  }

  async consume(opts: ConsumeOptions): Promise<void> {
    this.consumer = opts;
    if (this.walFile && !this.watcher) {
      try {
        this.watcher = watch(this.walFile, { persistent: false }, () => this.nudge());
        this.watcher.on('error', () => this.unwatch());
      } catch {
        // No WAL file yet, or no inotify: polling alone still works.
      }
    }
    this.schedule(0);
  }

  async setPrefetch(n: number): Promise<void> {
    const c = this.consumer;
    if (!c) return;
    const grew = n > c.prefetch;
    c.prefetch = n; // each poll reads it
    if (grew) this.nudge();
  }

  private unwatch(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  async stopConsuming(): Promise<void> {
    this.unwatch();
    this.consumer = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.outstanding.clear();
  }

  nudge(): void {
    if (!this.consumer) return;
    if (this.polling) this.again = true;
    else this.schedule(0);
  }

  private schedule(ms: number): void {
    if (!this.consumer) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), ms);
  }

  private async poll(): Promise<void> {
    const c = this.consumer;
    if (!c || this.polling) return;
    this.polling = true;
    this.again = false;
    let found = 0;
    try {
      const room = c.prefetch - this.outstanding.size;
      if (room > 0) {
        const ids = await claimableIds(this.db, [...c.abilities], Date.now(), room + this.outstanding.size);
        // Stopped (or replaced) while reading: these belong to no one; the next poll finds them.
        if (this.consumer !== c) ids.length = 0;
        for (const id of ids) {
          if (this.outstanding.size >= c.prefetch) break;
          if (this.outstanding.has(id)) continue;
          this.outstanding.add(id);
          found++;
          const settle = (): void => {
            if (this.outstanding.delete(id)) this.nudge();
          };
          const d: Delivery = { jobId: id, task: '', ack: settle, release: settle };
          c.onDelivery(d);
        }
      }
      this.error = null;
    } catch (err) {
      this.error = `cannot read queued jobs: ${(err as Error).message}`;
    } finally {
      this.polling = false;
    }
    // Found work (or a new consumer came meanwhile): look again soon; otherwise idle-poll.
    this.schedule(this.again || found > 0 || this.consumer !== c ? 0 : this.error ? 1000 : IDLE_POLL_MS);
  }

  async announce(): Promise<void> {}

  async goneWorkers(): Promise<string[]> {
    return [];
  }

  async purge(): Promise<void> {}

  async queueDepths(): Promise<null> {
    return null;
  }

  state(): TransportState {
    return this.error ? 'down' : 'up';
  }

  lastError(): string | null {
    return this.error;
  }

  async close(): Promise<void> {
    await this.stopConsuming();
  }
}
