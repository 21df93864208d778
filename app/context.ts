/**
 * The composition root: opens the database, the transport and the JobService once per
 * process, from a validated configuration. Web, workers and the CLI all start here.
 */
import type { Config } from './config.js';
import { loadConfig } from './config.js';
import { openDb, migrate, ping, type Db } from './db.js';
import { ConfigError, describeError } from './errors.js';
import type { FileStore } from './files/index.js';
import { JobService } from './job-service.js';
import { getLogger, type Logger } from './logger.js';
import { registerExtraTasks } from './tasks/extra.js';
import { redact } from './transports/amqp-nodes.js';
import { AmqpTransport } from './transports/amqp-transport.js';
import { createTransport } from './transports/index.js';
import type { Transport } from './transports/transport.js';

export interface Context {
  config: Config;
  db: Db;
  transport: Transport;
  service: JobService;
  /** Uploads and results, reached from every host (the service's store). */
  files: FileStore;
  log: Logger;
  close(): Promise<void>;
}

export interface ContextOptions {
  config?: Config;
  /** Run pending migrations first (start, web, worker do; most CLI commands do too). */
  migrate?: boolean;
  /**
   * `required`: fail start-up when the broker is unreachable (workers).
   * `background`: start anyway and connect when it is back (the web app keeps accepting jobs).
   */
  broker?: 'required' | 'background';
}

function describeDb(config: Config): string {
  const d = config.database;
  return d.client === 'sqlite' ? `SQLite database ${d.filename}` : `MySQL database at ${redact(d.url)}`;
}

export async function createContext(opts: ContextOptions = {}): Promise<Context> {
  const config = opts.config ?? loadConfig();
  const log = getLogger(config);
  // Before anything validates a task name: the extra tasks must be known by then.
  await registerExtraTasks(config.extraTasks);
  const db = openDb(config.database);
  const transport = createTransport(config, db, log);
  // A broker connection opened in the background starts now, alongside the database's
  // first round trips (connect, ping, migration check), not after them: a short command
  // (`docket run`) waits for both, and each is a few tens of milliseconds.
  const background = transport instanceof AmqpTransport && opts.broker === 'background';
  if (background) transport.startInBackground();
  const fail = async (message: string): Promise<never> => {
    if (background) await transport.close().catch(() => undefined);
    await db.destroy().catch(() => undefined);
    throw new ConfigError(message);
  };
  try {
    await ping(db);
  } catch (err) {
    await fail(`cannot open the ${describeDb(config)}: ${describeError(err)}`);
  }
  if (opts.migrate !== false) {
    try {
      const applied = await migrate(db);
      if (applied.length) log.info(`migrated the database: ${applied.join(', ')}`);
    } catch (err) {
      await fail(`cannot migrate the ${describeDb(config)}: ${describeError(err)}`);
    }
  }
  if (!background) {
    try {
      await transport.start();
    } catch (err) {
      await fail(describeError(err));
    }
  }
  const service = new JobService(db, config, transport, log);
  return {
    config,
    db,
    transport,
    service,
    files: service.files,
    log,
    async close() {
      await service.dispatcher.flushMarks();
      await transport.close().catch(() => undefined);
      await db.destroy().catch(() => undefined);
    },
  };
}
