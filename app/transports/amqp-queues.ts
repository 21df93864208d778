/**
 * How a task's jobs are laid out in RabbitMQ queues (`AMQP_QUEUE_TYPE`).
 *
 * - classic (the default): one durable queue per task with RabbitMQ's message priority
 *   (`x-max-priority` 3), Gearman's low, normal and high. A classic queue lives on one
 *   node: if that node loses its disk, its messages are lost (and published again by
 *   the lost-message check).
 * - quorum: replicated on a majority of the cluster's nodes, surviving a node's loss.
 *   Quorum queues in RabbitMQ 3.10 have no message priority, so each task has one queue
 *   per priority level, and workers take from the higher level first (they pull: see
 *   AmqpTransport's quorum consumer).
 */
export type QueueType = 'classic' | 'quorum';

/** Gearman's three priorities. */
export const MAX_PRIORITY = 3;
const LEVELS = ['low', 'normal', 'high'] as const;

export class QueueLayout {
  constructor(
    private readonly prefix: string,
    readonly type: QueueType,
  ) {}

  /** The task's queues, the highest priority first. */
  queues(task: string): string[] {
    const base = `${this.prefix}.task.${task}`;
    if (this.type === 'classic') return [base];
    return [...LEVELS].reverse().map((l) => `${base}.${l}`);
  }

  /** Where a job of this priority (1 low … 3 high) is published. */
  queueFor(task: string, priority: number): string {
    const p = clampPriority(priority);
    const base = `${this.prefix}.task.${task}`;
    return this.type === 'classic' ? base : `${base}.${LEVELS[p - 1]}`;
  }

  /** The task a queue of this layout belongs to. */
  taskOf(queue: string): string {
    const rest = queue.slice(`${this.prefix}.task.`.length);
    if (this.type === 'classic') return rest;
    return rest.slice(0, rest.lastIndexOf('.'));
  }

  /** The arguments of a task queue's declaration (they must match at every declare). */
  arguments(): Record<string, unknown> {
    return this.type === 'classic' ? { 'x-max-priority': MAX_PRIORITY } : { 'x-queue-type': 'quorum' };
  }
}

export function clampPriority(p: number): number {
  return Math.max(1, Math.min(MAX_PRIORITY, Math.round(p)));
}
