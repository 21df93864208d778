import type { Config } from '../config.js';
import { commitSignalFile } from '../dialect.js';
import type { Db } from '../db.js';
import type { Logger } from '../logger.js';
import { AmqpTransport } from './amqp-transport.js';
import { DbTransport } from './db-transport.js';
import type { Transport } from './transport.js';

export type { Transport, Delivery, PublishItem, ConsumeOptions } from './transport.js';

/** `amqp` when AMQP_URL is set, otherwise the embedded `db` transport. */
export function createTransport(config: Config, db: Db, log: Logger): Transport {
  if (config.amqpUrl) return new AmqpTransport(config.amqpUrl, config.amqpPrefix, log, config.amqpQueueType, config.amqpPersistent);
  return new DbTransport(db, commitSignalFile(config.database));
}
