/**
 * The quorum consumer: pulls (basic.get) from the queues in priority order, with at most
 * `prefetch` deliveries unsettled. Pushed deliveries from three queues would arrive in
 * the broker's round-robin order, and the high priority would be lost; pulling costs one
 * round trip per message and up to PULL_IDLE_MS of latency when the queues were empty.
 */
import type { Channel, ConsumeMessage } from 'amqplib';

/** With nothing to take, look again this often. */
const PULL_IDLE_MS = 100;
/** At the prefetch, look again this often for a free slot. */
const PULL_FULL_MS = 10;

export class Puller {
  private wake: (() => void) | null = null;
  private stopped = false;

  constructor(
    private readonly ch: Channel,
    /** The queues, the first preferred. */
    private readonly queues: readonly string[],
    /** At most this many unsettled (0: take nothing); the worker changes it as its children free up. */
    public prefetch: number,
    /** Deliveries not yet settled. */
    private readonly unsettled: () => number,
    private readonly onMessage: (msg: ConsumeMessage) => void,
  ) {}

  async run(): Promise<void> {
    try {
      while (!this.stopped) {
        if (this.unsettled() >= this.prefetch) {
          await this.pause(PULL_FULL_MS);
          continue;
        }
        let got = false;
        for (const q of this.queues) {
          const msg = await this.ch.get(q, { noAck: false });
          if (msg) {
            this.onMessage(msg as unknown as ConsumeMessage);
            got = true;
            break;
          }
        }
        if (!got) await this.pause(PULL_IDLE_MS);
      }
    } catch {
      // The channel closed: its owner subscribes again.
    }
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Waits, or less when stopped (no timer is left behind). */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}
