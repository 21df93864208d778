import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';
import { ackStateOf, flushAcks, settleOnce, type AckState } from './amqp-acks.js';
import { withTimeout } from '../timeout.js';
import { queueCounts, taskDepths, withChannel } from './amqp-admin.js';
import { Puller } from './amqp-pull.js';
import { AmqpNodes, splitNodes } from './amqp-nodes.js';
import { clampPriority, QueueLayout, type QueueType } from './amqp-queues.js';
import type { ConsumeOptions, Delivery, PublishItem, QueueDepth, Transport, TransportState } from './transport.js';

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5000;

/**
 * RabbitMQ: one durable priority queue per task (or three quorum queues: amqp-queues.ts),
 * messages carrying a job id, publisher confirms, manual acks. Messages to classic queues
 * are persistent unless AMQP_PERSISTENT=false; transient ones a broker restart drops, and
 * the lost-message check publishes them again from the database (ADR 11); quorum queues
 * always write theirs to disk. The worker acks right after its claim, so no message
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
  /** The task-queue consumers (classic queues), by queue: a credit of 0 cancels them, a rise starts the missing ones. */
  private consumerTags = new Map<string, string>();
  /** Tasks of the latest deliveries, the latest first: their queues are subscribed first on a rise. */
  private recentTasks: string[] = [];
  private announced: string | null = null;
  private st: TransportState = 'connecting';
  private err: string | null = null;
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectDelay = RECONNECT_MIN_MS;
  private connecting: Promise<void> | null = null;

  private readonly nodes: AmqpNodes;
  readonly layout: QueueLayout;
  private puller: Puller | null = null;

  /** `url`: one node, or several comma-separated (AMQP_URL). */
  constructor(
    url: string,
    private readonly prefix: string,
    private readonly log: Logger,
    queueType: QueueType = 'classic',
    /** Persistent messages on classic queues (AMQP_PERSISTENT); quorum queues persist whatever this says. */
    private readonly persistent = true,
  ) {
    this.nodes = new AmqpNodes(splitNodes(url));
    this.layout = new QueueLayout(prefix, queueType);
  }

  /** The task's queue (classic), or its normal-priority queue (quorum). */
  queueName(task: string): string {
    return this.layout.queueFor(task, 2);
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
    if (!this.connecting) return false;
    await withTimeout(this.connecting.catch(() => undefined), timeoutMs, undefined);
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
      conn = await this.nodes.connect(this.log);
    } catch (e) {
      this.st = 'down';
      this.err = (e as Error).message;
      throw e;
    }
    if (this.closing) {
      // Closed while connecting (a process that gave up at start): nothing is to keep this open.
      this.st = 'down';
      await conn.close().catch(() => undefined);
      throw new Error('RabbitMQ transport closed');
    }
    conn.on('error', (e: Error) => {
      this.err = `RabbitMQ connection error: ${e.message}`;
    });
    conn.on('close', () => {
      if (this.conn !== conn) return;
      this.conn = null;
      this.pub = null;
      this.sub = null;
      this.consumerTags.clear();
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

  /** Declares the task's queues (once per connection); returns them, the highest priority first. */
  private async assertTaskQueue(ch: Channel, task: string): Promise<string[]> {
    const queues = this.layout.queues(task);
    for (const q of queues) {
      if (this.asserted.has(q)) continue;
      await ch.assertQueue(q, { durable: true, arguments: this.layout.arguments() });
      this.asserted.add(q);
    }
    return queues;
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
                  this.layout.queueFor(item.task, item.priority),
                  Buffer.from(String(item.id)),
                  {
                    persistent: this.persistent || this.layout.type === 'quorum',
                    priority: this.layout.type === 'classic' ? clampPriority(item.priority) : undefined,
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
        this.consumerTags.clear();
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

  /** Which channel the consumers run on (classic: the one `consumerTags` and `qos` belong to; quorum: the puller's). */
  private consumersOn: Channel | null = null;
  /** The prefetch last set on `consumersOn` (basic.qos), so that a rise to the same value costs no round trip. */
  private qos = -1;
  /** Prefetch changes, one after another: each may cancel or start the consumers. */
  private credit: Promise<void> = Promise.resolve();

  /**
   * RabbitMQ reads a prefetch of 0 as "no limit": 0 cancels the consumers instead, a rise
   * starts them again. A worker busy with long jobs goes to 0 and back at every job, so
   * the rise must be quick: a slot that came free waits for it, with jobs in the queue
   * (bench scenario 11 measured 45–330 ms for a cancel and re-consume of every queue, one
   * round trip each, on a loaded machine).
   */
  setPrefetch(n: number): Promise<void> {
    if (this.consumer) this.consumer.prefetch = n;
    this.credit = this.credit.then(() => this.applyPrefetch()).catch(() => undefined);
    return this.credit;
  }

  private async applyPrefetch(): Promise<void> {
    const c = this.consumer;
    const ch = this.sub;
    if (!c || !ch) return; // subscribe() applies the latest value
    if (this.layout.type === 'quorum') {
      // Pulled, not pushed (amqp-pull.ts): the puller keeps at most `prefetch` unsettled.
      if (this.consumersOn === ch && this.puller) {
        this.puller.prefetch = c.prefetch;
        return;
      }
      this.consumersOn = ch;
      const byTask: string[][] = [];
      for (const task of c.abilities) byTask.push(await this.assertTaskQueue(ch, task));
      // Every task's high queue, then every normal one, then every low one.
      const order = byTask[0] ? byTask[0].map((_, level) => byTask.map((qs) => qs[level])).flat() : [];
      const acks = this.ackState(ch);
      this.puller = new Puller(ch, order, c.prefetch, () => acks.open.length, (msg) => this.onMessage(ch, msg));
      void this.puller.run();
      return;
    }
    if (this.consumersOn !== ch) {
      // A new channel: no consumer and no prefetch on it yet.
      this.consumersOn = ch;
      this.consumerTags.clear();
      this.qos = -1;
    }
    const live = (): boolean => this.consumer === c && this.sub === ch;
    if (c.prefetch <= 0) {
      // One at a time, stopping as soon as the credit rose again: a rise would otherwise
      // wait for every cancel, then start every consumer again.
      for (const [q, tag] of [...this.consumerTags]) {
        if (!live() || c.prefetch > 0) return;
        this.consumerTags.delete(q);
        await ch.cancel(tag);
      }
      return;
    }
    // Global: the limit spans every task queue this worker consumes from. The prefetch is
    // left as it was at 0 (the consumers are cancelled then), so a fall to 0 and a rise
    // back to the same value cost the consumes only.
    if (this.qos !== c.prefetch) {
      await ch.prefetch(c.prefetch, true);
      this.qos = c.prefetch;
    }
    // The queues of the latest deliveries first: the first delivery can come after one
    // round trip rather than after one per task.
    const tasks = [...this.recentTasks.filter((t) => c.abilities.includes(t)), ...c.abilities.filter((t) => !this.recentTasks.includes(t))];
    for (const task of tasks) {
      if (!live() || c.prefetch <= 0) return; // the next change, queued behind this one, takes over
      const [q] = await this.assertTaskQueue(ch, task);
      if (this.consumerTags.has(q)) continue;
      const { consumerTag } = await ch.consume(q, (msg) => this.onMessage(ch, msg), { noAck: false });
      this.consumerTags.set(q, consumerTag);
    }
  }

  /** Remembers a delivery's task among the latest (a handful: a worker's usual tasks). */
  private noteTask(task: string): void {
    if (this.recentTasks[0] === task) return;
    this.recentTasks = [task, ...this.recentTasks.filter((t) => t !== task)].slice(0, 4);
  }

  private onMessage(ch: Channel, msg: ConsumeMessage | null): void {
    if (!msg) return; // the broker cancelled us (queue deleted); the close handler resubscribes
    const c = this.consumer;
    const id = Number(msg.content.toString());
    const settle = settleOnce();
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
    const task = this.layout.taskOf(msg.fields.routingKey);
    this.noteTask(task);
    const d: Delivery = {
      jobId: id,
      task,
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
    return ackStateOf(this.acks, ch);
  }

  private flushAcks(ch: Channel, st: AckState): void {
    st.scheduled = false;
    if (this.sub !== ch) return; // the channel closed: the broker redelivers, the claim drops duplicates
    flushAcks(ch, st);
  }

  async stopConsuming(): Promise<void> {
    this.consumer = null;
    const ch = this.sub;
    this.puller?.stop();
    this.puller = null;
    // Acks still gathering go out first, or their jobs would be redelivered (and dropped).
    if (ch) this.flushAcks(ch, this.ackState(ch));
    this.sub = null;
    if (ch) {
      for (const tag of this.consumerTags.values()) await ch.cancel(tag).catch(() => undefined);
      // Closing the channel returns every delivery not yet acked to its queue.
      await ch.close().catch(() => undefined);
    }
    this.consumerTags.clear();
    this.consumersOn = null;
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

  /** A worker whose exclusive presence queue is gone has lost its connection. */
  async goneWorkers(workerIds: readonly string[]): Promise<string[]> {
    const conn = this.conn;
    if (!conn || this.st !== 'up' || workerIds.length === 0) return [];
    const counts = await queueCounts(conn, workerIds.map((id) => this.presenceQueue(id))).catch(() => null);
    // No answer (the connection closing): nobody is judged gone on that.
    return counts ? workerIds.filter((id) => counts.get(this.presenceQueue(id)) === null) : [];
  }

  async purge(tasks: readonly string[]): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    await withChannel(conn, async (ch) => {
      for (const t of tasks) for (const q of await this.assertTaskQueue(ch, t)) await ch.purgeQueue(q);
    });
  }

  async queueDepths(tasks: readonly string[]): Promise<Map<string, QueueDepth> | null> {
    const conn = this.conn;
    if (!conn || this.st !== 'up') throw new Error(this.err ?? 'RabbitMQ is not connected');
    return taskDepths(conn, tasks, (t) => this.layout.queues(t));
  }

  /** Deletes this transport's task queues (tests use a unique prefix per run). */
  async deleteQueues(tasks: readonly string[]): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    await withChannel(conn, async (ch) => {
      for (const q of tasks.flatMap((t) => this.layout.queues(t))) {
        await ch.deleteQueue(q).catch(() => undefined);
        this.asserted.delete(q);
      }
    });
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
    this.puller?.stop();
    const conn = this.conn;
    this.conn = null;
    this.st = 'down';
    if (conn) await conn.close().catch(() => undefined);
  }
}
