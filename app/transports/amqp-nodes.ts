import type { ChannelModel } from 'amqplib';
import { describeError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * The RabbitMQ nodes Docket may connect to (`AMQP_URL`, comma-separated), tried in turn.
 * After a node's connection dies the next attempt starts with the node after it, so a
 * process moves to another node of the cluster instead of waiting for the dead one.
 */
export class AmqpNodes {
  private next = 0;

  constructor(readonly urls: readonly string[]) {
    if (urls.length === 0) throw new Error('AMQP_URL names no node');
  }

  /** Every node, starting with the one to try first. */
  order(): string[] {
    return [...this.urls.slice(this.next), ...this.urls.slice(0, this.next)];
  }

  /** A connection to this node opened: the next attempt, after it dies, starts after it. */
  connected(url: string): void {
    this.next = (this.urls.indexOf(url) + 1) % this.urls.length;
  }

  /** A connection to the first node that answers; rejects with one line naming them all. */
  async connect(log: Logger): Promise<ChannelModel> {
    let last: unknown = null;
    // Loaded here, not on import: a process on the db transport (SQLite) never needs it,
    // and a short command loads it while its database connection opens.
    const { default: amqp } = await import('amqplib');
    for (const url of this.order()) {
      try {
        const conn = await amqp.connect(withHeartbeat(url), { timeout: 5000 });
        this.connected(url);
        if (this.urls.length > 1) log.info(`connected to RabbitMQ at ${redact(url)}`);
        return conn;
      } catch (e) {
        last = e;
      }
    }
    throw new Error(`cannot reach RabbitMQ at ${this.describe()}: ${describeError(last)}`, { cause: last });
  }

  /** The list for messages, without passwords. */
  describe(): string {
    return this.urls.map(redact).join(', ');
  }
}

/** `AMQP_URL`'s nodes: comma-separated, blanks ignored. */
export function splitNodes(list: string): string[] {
  return list
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
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
export function withHeartbeat(url: string): string {
  if (/[?&]heartbeat=/.test(url)) return url;
  return `${url}${url.includes('?') ? '&' : '?'}heartbeat=5`;
}
