import amqp from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ConsumeOptions, Delivery, PublishItem, Transport, TransportState } from './transport.js';

/** Gearman's three priorities map onto RabbitMQ's per-queue priorities 1..3. */
const MAX_PRIORITY = 3;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5000;

/**
 * RabbitMQ: one durable priority queue per task, persistent messages carrying a job id,
 * publisher confirms, manual acks. The worker acks right after its claim, so no message
 * stays unacked while a long job runs (RabbitMQ's consumer timeout would close the
 * channel). Each worker also holds an exclusive queue named after it: the broker deletes
 * it the moment the worker's connection dies, which is how other processes see a dead
 * worker at once instead of waiting for its lease.
 */
export class AmqpTransport implements Transport {
  readonly kind = 'amqp' as const;
  readonly confirmsDispatch = true;
  private conn: ChannelModel | null = null;
  private pub: ConfirmChannel | null = null;
  private sub: Channel | null = null;
  private asserted = new Set<string>();
  private consumer: ConsumeOptions | null = null;
  private consumerTags: string[] = [];
  private announced: string | null = null;
  private st: TransportState = 'connecting';
  private err: string | null = null;
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelay = RECONNECT_MIN_MS;
  private connecting: Promise<void> | null = null;

  constructor(
    private readonly url: string,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  queueName(task: string): string {
    return `${this.prefix}.task.${task}`;
  }

  private presenceQueue(workerId: string): string {
    return `${this.prefix}.worker.${workerId}`;
  }

  /** Connects once; rejects with one clear line if the broker is unreachable. */
  async start(): Promise<void> {
    await this.connect();
  }

  /** Like start, but a broker that is down is retried in the background instead. */
  startInBackground(): void {
    this.connect().catch(() => this.scheduleReconnect());
  }

  /**
   * Resolves once connected (true), or false when the connection attempt under way
   * failed or `timeoutMs` passed first. A short-lived process (the CLI) started in the
   * background waits here before it publishes: publishing before the connection is up
   * leaves the job to the dispatcher's next sweep, seconds later.
   */
  async whenConnected(timeoutMs: number): Promise<boolean> {
    if (this.st === 'up') return true;
    const attempt = this.connecting;
    if (!attempt) return false;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    try {
      await Promise.race([attempt.catch(() => undefined), timeout]);
    } finally {
      clearTimeout(timer);
    }
    // Read again: the attempt above may have changed it (TypeScript narrowed it before).
    return this.state() === 'up';
  }

  private connect(): Promise<void> {
    if (this.connecting) return this.connecting;
    this.connecting = this.doConnect().finally(() => {
      this.connecting = null;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    this.st = 'connecting';
    let conn: ChannelModel;
    try {
      conn = await amqp.connect(withHeartbeat(this.url), { timeout: 5000 });
    } catch (e) {
      this.st = 'down';
      this.err = `cannot reach RabbitMQ at ${redact(this.url)}: ${describeError(e)}`;
      throw new Error(this.err, { cause: e });
    }
    conn.on('error', (e: Error) => {
      this.err = `RabbitMQ connection error: ${e.message}`;
    });
    conn.on('close', () => {
      if (this.conn !== conn) return;
      this.conn = null;
      this.pub = null;
      this.sub = null;
      this.consumerTags = [];
      this.asserted.clear();
      this.st = 'down';
      if (!this.closing) {
        this.err = this.err ?? 'RabbitMQ connection closed';
        this.log.warn(`${this.err}; reconnecting`);
        this.scheduleReconnect();
      }
    });
    this.conn = conn;
    this.pub = await conn.createConfirmChannel();
    this.pub.on('error', () => undefined);
    this.st = 'up';
    this.err = null;
    this.reconnectDelay = RECONNECT_MIN_MS;
    if (this.announced) await this.declarePresence(this.announced);
    if (this.consumer) await this.subscribe(this.consumer);
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(RECONNECT_MAX_MS, this.reconnectDelay * 2);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connect().catch(() => this.scheduleReconnect());
    }, delay);
  }

  private async assertTaskQueue(ch: Channel, task: string): Promise<string> {
    const q = this.queueName(task);
    if (!this.asserted.has(q)) {
      await ch.assertQueue(q, { durable: true, arguments: { 'x-max-priority': MAX_PRIORITY } });
      this.asserted.add(q);
    }
    return q;
  }

  async publish(items: PublishItem[]): Promise<number[]> {
    const ch = this.pub;
    if (!ch || this.st !== 'up') return [];
    try {
      for (const task of new Set(items.map((i) => i.task))) await this.assertTaskQueue(ch, task);
      const confirmed = await Promise.all(
        items.map(
          (item) =>
            new Promise<number | null>((resolve) => {
              try {
                ch.sendToQueue(
                  this.queueName(item.task),
                  Buffer.from(String(item.id)),
                  {
                    persistent: true,
                    priority: Math.max(1, Math.min(MAX_PRIORITY, item.priority)),
                    messageId: String(item.id),
                    contentType: 'text/plain',
                  },
                  (e: unknown) => resolve(e ? null : item.id),
                );
              } catch {
                resolve(null);
              }
            }),
        ),
      );
      return confirmed.filter((id): id is number => id !== null);
    } catch (e) {
      this.err = `publish failed: ${describeError(e)}`;
      return [];
    }
  }

  async consume(opts: ConsumeOptions): Promise<void> {
    this.consumer = opts;
    if (this.conn) await this.subscribe(opts);
  }

  private async subscribe(opts: ConsumeOptions): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    const ch = await conn.createChannel();
    ch.on('error', (e: Error) => {
      this.err = `consumer channel error: ${e.message}`;
    });
    ch.on('close', () => {
      if (this.sub === ch) {
        this.sub = null;
        this.consumerTags = [];
        // The channel died on its own (not the connection): subscribe again.
        if (this.consumer && this.conn === conn && !this.closing) {
          setTimeout(() => {
            if (this.consumer && this.conn === conn && !this.sub) void this.subscribe(this.consumer).catch(() => undefined);
          }, 200);
        }
      }
    });
    this.sub = ch;
    await this.setPrefetch(opts.prefetch);
  }

  /** Which channel the task-queue consumers run on (null: none, or cancelled for a prefetch of 0). */
  private consumersOn: Channel | null = null;
  /** Prefetch changes, one after another: each may cancel or start the consumers. */
  private credit: Promise<void> = Promise.resolve();

  /** RabbitMQ reads a prefetch of 0 as "no limit": 0 cancels the consumers instead, a rise starts them again. */
  setPrefetch(n: number): Promise<void> {
    if (this.consumer) this.consumer.prefetch = n;
    this.credit = this.credit.then(() => this.applyPrefetch()).catch(() => undefined);
    return this.credit;
  }

  private async applyPrefetch(): Promise<void> {
    const c = this.consumer;
    const ch = this.sub;
    if (!c || !ch) return; // subscribe() applies the latest value
    if (c.prefetch <= 0) {
      this.consumersOn = null;
      for (const tag of this.consumerTags.splice(0)) await ch.cancel(tag);
      return;
    }
    // Global: the limit spans every task queue this worker consumes from.
    await ch.prefetch(c.prefetch, true);
    if (this.consumersOn === ch) return;
    this.consumersOn = ch;
    for (const task of c.abilities) {
      const q = await this.assertTaskQueue(ch, task);
      const { consumerTag } = await ch.consume(q, (msg) => this.onMessage(ch, msg), { noAck: false });
      this.consumerTags.push(consumerTag);
    }
  }

  private onMessage(ch: Channel, msg: ConsumeMessage | null): void {
    if (!msg) return; // the broker cancelled us (queue deleted); the close handler resubscribes
    const c = this.consumer;
    const id = Number(msg.content.toString());
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      try {
        fn();
      } catch {
        // The channel closed meanwhile: the broker redelivers, and the claim drops it.
      }
    };
    if (!Number.isInteger(id) || id <= 0) {
      settle(() => ch.ack(msg)); // not a job id: nothing to do with it
      return;
    }
    if (!c) {
      // Arrived while the consumer was stopping: back to the queue, never dropped.
      settle(() => ch.nack(msg, false, true));
      return;
    }
    const acks = this.ackState(ch);
    const tag = msg.fields.deliveryTag;
    acks.open.push(tag);
    const d: Delivery = {
      jobId: id,
      task: msg.fields.routingKey.slice(this.prefix.length + 6),
      ack: () =>
        settle(() => {
          acks.done.add(tag);
          if (!acks.scheduled) {
            acks.scheduled = true;
            setImmediate(() => this.flushAcks(ch, acks));
          }
        }),
      release: () =>
        settle(() => {
          const at = acks.open.indexOf(tag);
          if (at >= 0) acks.open.splice(at, 1);
          ch.nack(msg, false, true);
        }),
    };
    c.onDelivery(d);
  }

  private acks = new WeakMap<Channel, AckState>();

  private ackState(ch: Channel): AckState {
    let st = this.acks.get(ch);
    if (!st) {
      st = { open: [], done: new Set(), scheduled: false };
      this.acks.set(ch, st);
    }
    return st;
  }

  /**
   * Acks gathered during one turn go out together: the longest run of acked deliveries
   * at the front of the unsettled ones as one `ack(tag, allUpTo)`, the rest one by one.
   * A tag is never acked twice (that would close the channel).
   */
  private flushAcks(ch: Channel, st: AckState): void {
    st.scheduled = false;
    if (this.sub !== ch) return; // the channel closed: the broker redelivers, the claim drops duplicates
    let k = 0;
    while (k < st.open.length && st.done.has(st.open[k])) st.done.delete(st.open[k++]);
    try {
      if (k > 0) ch.ack(tagOnly(st.open[k - 1]), true);
      st.open.splice(0, k);
      if (st.done.size > 0) {
        for (const tag of st.done) ch.ack(tagOnly(tag));
        st.open = st.open.filter((t) => !st.done.has(t));
        st.done.clear();
      }
    } catch {
      // The channel closed meanwhile: as above.
    }
  }

  async stopConsuming(): Promise<void> {
    this.consumer = null;
    const ch = this.sub;
    // Acks still gathering go out first, or their jobs would be redelivered (and dropped).
    if (ch) this.flushAcks(ch, this.ackState(ch));
    this.sub = null;
    if (ch) {
      for (const tag of this.consumerTags) await ch.cancel(tag).catch(() => undefined);
      // Closing the channel returns every delivery not yet acked to its queue.
      await ch.close().catch(() => undefined);
    }
    this.consumerTags = [];
  }

  nudge(): void {}

  async announce(workerId: string): Promise<void> {
    this.announced = workerId;
    if (this.conn) await this.declarePresence(workerId);
  }

  private async declarePresence(workerId: string): Promise<void> {
    const ch = this.pub;
    if (!ch) return;
    await ch.assertQueue(this.presenceQueue(workerId), { exclusive: true, autoDelete: true, durable: false });
  }

  /**
   * A worker whose exclusive presence queue is gone has lost its connection. Each check
   * uses its own channel because a missing queue closes the channel that asked.
   */
  async goneWorkers(workerIds: readonly string[]): Promise<string[]> {
    const conn = this.conn;
    if (!conn || this.st !== 'up' || workerIds.length === 0) return [];
    const gone: string[] = [];
    for (const id of workerIds) {
      try {
        const ch = await conn.createChannel();
        ch.on('error', () => undefined);
        await ch.checkQueue(this.presenceQueue(id));
        await ch.close().catch(() => undefined);
      } catch (e) {
        if ((e as { code?: number }).code === 404) gone.push(id);
      }
    }
    return gone;
  }

  async purge(tasks: readonly string[]): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    try {
      for (const t of tasks) {
        await this.assertTaskQueue(ch, t);
        await ch.purgeQueue(this.queueName(t));
      }
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** Deletes this transport's task queues (tests use a unique prefix per run). */
  async deleteQueues(tasks: readonly string[]): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    for (const t of tasks) await ch.deleteQueue(this.queueName(t)).catch(() => undefined);
    await ch.close().catch(() => undefined);
    for (const t of tasks) this.asserted.delete(this.queueName(t));
  }

  state(): TransportState {
    return this.st;
  }

  lastError(): string | null {
    return this.st === 'up' ? null : this.err;
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.consumer = null;
    const conn = this.conn;
    this.conn = null;
    this.st = 'down';
    if (conn) await conn.close().catch(() => undefined);
  }
}

/** Deliveries of one consumer channel not yet settled (tags in arrival order), and those acked since the last flush. */
interface AckState {
  open: number[];
  done: Set<number>;
  scheduled: boolean;
}

/** What `Channel.ack` reads of a message: its delivery tag. */
function tagOnly(deliveryTag: number): ConsumeMessage {
  return { fields: { deliveryTag } } as unknown as ConsumeMessage;
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** A 5 s AMQP heartbeat unless the URL sets one: a dead peer is noticed within seconds. */
function withHeartbeat(url: string): string {
  if (/[?&]heartbeat=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}heartbeat=5`;
}
