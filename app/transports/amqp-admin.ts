/**
 * Questions to the broker about queues, by passive declare. A missing queue answers 404
 * and closes the channel that asked, so each answer after a 404 uses a new channel.
 */
import type { Channel, ChannelModel } from 'amqplib';

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
