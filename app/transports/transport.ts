/**
 * The contract every transport meets (the conformance suite in
 * test/integration/transport-conformance.test.ts runs against each).
 *
 * A transport only delivers job ids. The database stays the truth: a worker that gets a
 * delivery claims the job with a conditional UPDATE, then acks the delivery at once. A
 * duplicate delivery finds nothing to claim and is acked and dropped.
 */

export interface PublishItem {
  id: number;
  task: string;
  /** 1 low, 2 normal, 3 high. */
  priority: number;
}

export interface Delivery {
  readonly jobId: number;
  readonly task: string;
  /** Done with this delivery (after the claim, whatever its outcome). */
  ack(): void;
  /** Give it back so another worker may take it (a worker too busy to claim it). */
  release(): void;
}

export interface ConsumeOptions {
  abilities: readonly string[];
  /** Most deliveries outstanding (not acked or released) at once. */
  prefetch: number;
  onDelivery(d: Delivery): void;
}

/** What the broker holds for one task's queue. */
export interface QueueDepth {
  /** Messages waiting (RabbitMQ's messageCount: delivered but unacked ones are not in it). */
  ready: number;
  /** Consumers subscribed to it. */
  consumers: number;
}

export type TransportState = 'up' | 'down' | 'connecting';

export interface Transport {
  readonly kind: 'amqp' | 'db';
  /** True when `publish` must be confirmed before a job counts as dispatched. */
  readonly confirmsDispatch: boolean;
  /** Connects (amqp) or does nothing (db). Rejects with a clear message when unreachable. */
  start(): Promise<void>;
  /**
   * Hands jobs to workers. Resolves with the ids the broker confirmed; never rejects:
   * an id left out stays undispatched and the dispatcher tries again later.
   */
  publish(items: PublishItem[]): Promise<number[]>;
  consume(opts: ConsumeOptions): Promise<void>;
  /**
   * Changes the consumer's prefetch (deliveries not yet acked or released are kept). 0
   * stops deliveries until it rises again. Resolves once the change holds.
   */
  setPrefetch(n: number): Promise<void>;
  /** Stops deliveries; outstanding ones go back to the queue. */
  stopConsuming(): Promise<void>;
  /** Wakes a local consumer at once (same process). */
  nudge(): void;
  /** Announces a worker's presence so that its death is seen at once (amqp). */
  announce(workerId: string): Promise<void>;
  /** Of these workers, the ones whose presence the broker no longer sees. */
  goneWorkers(workerIds: readonly string[]): Promise<string[]>;
  /** Drops every message waiting (amqp); the jobs are cancelled in the database by the caller. */
  purge(tasks: readonly string[]): Promise<void>;
  /**
   * Per task, what the broker holds (amqp), for the lost-message check and
   * `queue:status`; null when the transport keeps no messages of its own (db: the jobs
   * table is the queue, nothing can be lost between the two).
   */
  queueDepths(tasks: readonly string[]): Promise<Map<string, QueueDepth> | null>;
  state(): TransportState;
  /** Why the transport is down, for /healthz and the jobs page. */
  lastError(): string | null;
  close(): Promise<void>;
}
