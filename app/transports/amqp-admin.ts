/**
 * Questions to the broker about queues, by passive declare. A missing queue answers 404
 * and closes the channel that asked, so each answer after a 404 uses a new channel.
 */
import type { Channel, ChannelModel } from 'amqplib';
import type { QueueDepth } from './transport.js';

/** Per queue, its ready messages and consumers; null for a queue that does not exist. */
export async function queueCounts(
  conn: ChannelModel,
  names: readonly string[],
): Promise<Map<string, { ready: number; consumers: number } | null>> {
  const out = new Map<string, { ready: number; consumers: number } | null>();
  let ch: Channel | null = null;
  try {
    for (const name of names) {
      ch ??= await conn.createChannel();
      ch.on('error', () => undefined);
      try {
        const q = await ch.checkQueue(name);
        out.set(name, { ready: q.messageCount, consumers: q.consumerCount });
      } catch (e) {
        if ((e as { code?: number }).code !== 404) throw e;
        out.set(name, null);
        ch = null;
      }
    }
  } finally {
    if (ch) await ch.close().catch(() => undefined);
  }
  return out;
}

/** Runs `fn` on a channel of its own, closed after; its errors do not close the connection. */
export async function withChannel<T>(conn: ChannelModel, fn: (ch: Channel) => Promise<T>): Promise<T> {
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  try {
    return await fn(ch);
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/** Per task, its queues' ready messages summed (a missing queue holds nothing) and the most consumers of one. */
export async function taskDepths(conn: ChannelModel, tasks: readonly string[], queuesOf: (task: string) => string[]): Promise<Map<string, QueueDepth>> {
  const counts = await queueCounts(conn, tasks.flatMap(queuesOf));
  const out = new Map<string, QueueDepth>();
  for (const t of tasks) {
    const depth = { ready: 0, consumers: 0 };
    for (const q of queuesOf(t)) {
      depth.ready += counts.get(q)?.ready ?? 0;
      depth.consumers = Math.max(depth.consumers, counts.get(q)?.consumers ?? 0);
    }
    out.set(t, depth);
  }
  return out;
}
