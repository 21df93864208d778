import type { Context } from '../app/context.js';
import { AmqpTransport } from '../app/transports/amqp-transport.js';

/**
 * How long a command that publishes waits for its broker connection. A reachable broker
 * answers within tens of milliseconds; an unreachable one fails its connection at once
 * (refused) or after amqp's 5 s connect timeout, so the job is recorded and left to the
 * dispatcher after this bound at worst.
 */
export const BROKER_WAIT_MS = 3000;

/**
 * Waits (bounded) until the broker connection opened in the background is up, so that a
 * job enqueued next is published at once, as the web app, long connected, publishes.
 */
export async function brokerReady(ctx: Context): Promise<boolean> {
  if (!(ctx.transport instanceof AmqpTransport)) return true;
  return ctx.transport.whenConnected(BROKER_WAIT_MS);
}
