import { isIP } from 'node:net';
import { ConfigError } from './errors.js';
import { fromRoot } from './paths.js';
import { loadNotifyConfig, type NotifyConfig } from './notify-config.js';

export type DatabaseConfig =
  | { client: 'sqlite'; filename: string; url: string }
  | { client: 'mysql'; host: string; port: number; user: string; password: string; database: string; url: string };

/** Everything Docket reads from its environment, validated once at start-up. */
export interface Config {
  readonly database: DatabaseConfig;
  /** Unset means the `db` transport. Several nodes of a cluster: comma-separated, tried in turn. */
  readonly amqpUrl: string | null;
  /** Task queues (AMQP_QUEUE_TYPE): `classic` (default, one priority queue per task) or `quorum` (replicated, one per priority). */
  readonly amqpQueueType: 'classic' | 'quorum';
  /**
   * Whether classic task queues get persistent messages (AMQP_PERSISTENT). Default true;
   * with false they are transient, and the lost-message check publishes again what a
   * broker restart dropped (ADR 11). Quorum queues always keep their messages on disk.
   */
  readonly amqpPersistent: boolean;
  /** Prefix of every queue and exchange name; tests use a unique one per run. Default `docket`. */
  readonly amqpPrefix: string;
  /** Default 3000. */
  readonly port: number;
  /** Default 127.0.0.1. */
  readonly host: string;
  /** Null means: generate once and keep it in the database. */
  readonly sessionSecret: string | null;
  readonly adminPassword: string | null;
  /** winston level of the process logger (LOG_LEVEL). Default `info`. */
  readonly logLevel: string;
  /** Where the process log `docket.log` is written (DOCKET_LOG_DIR). Default `logs`. */
  readonly logDir: string;
  /** How long a running job's lease lasts without a heartbeat. Default 15 s. */
  readonly leaseMs: number;
  /** How often workers heartbeat. Default 3 s. */
  readonly heartbeatMs: number;
  /** Per-job output cap in bytes (head and tail kept). Default 1 MiB. */
  readonly outputCapBytes: number;
  /** Where per-job output is mirrored on the worker's host. Default `logs/jobs`. */
  readonly jobLogDir: string;
  /** Where task results (exports, finding aids) are kept. Default `db/results`. */
  readonly resultsDir: string;
  /**
   * Modules of tasks beyond the production catalogue (`DOCKET_EXTRA_TASKS`, comma-separated
   * paths from the project root); the fault suite and some tests set it. Default none.
   */
  readonly extraTasks: readonly string[];
  /**
   * Express's `trust proxy`: which proxies' X-Forwarded-For to believe (the client's
   * address counts failed logins). Default `loopback`; a number of hops, or addresses,
   * CIDRs and the names loopback, linklocal, uniquelocal (`TRUST_PROXY`).
   */
  readonly trustProxy: number | string;
  /** Jobs one user may create per minute (web and API); 0 means no limit. Default 60. */
  readonly jobsPerMinute: number;
  /**
   * Where a new upload or result is written: `database` (chunked rows, reachable from
   * every host) or `folder` (under `resultsDir`, this host only). Default `database` on
   * MySQL, `folder` on SQLite.
   */
  readonly fileStore: FileStoreKind;
  /** Largest upload (a CSV to import) from the web form, the API or the CLI, in bytes (`DOCKET_MAX_UPLOAD_MB`, default 512). */
  readonly maxUploadBytes: number;
  /**
   * Days a completed or cancelled job is kept after it ended, then removed with its output,
   * events and files by the sweep (DOCKET_RETENTION_DAYS); 0 keeps them. Default 30.
   */
  readonly retentionDays: number;
  /** The same for failed jobs, kept longer to be looked into (DOCKET_RETENTION_FAILED_DAYS). Default 90. */
  readonly retentionFailedDays: number;
  /** Days an audit entry is kept (DOCKET_AUDIT_DAYS); 0 keeps them. Default 365. */
  readonly auditDays: number;
  /** Notifications: mail, webhooks and their outbox (see notify-config.ts). */
  readonly notify: NotifyConfig;
  /**
   * A bearer token that may read GET /metrics (a scraper's, `DOCKET_METRICS_TOKEN`); at
   * least 16 characters. Default none: administrators only.
   */
  readonly metricsToken: string | null;
}

export const FILE_STORE_KINDS = ['database', 'folder'] as const;
export type FileStoreKind = (typeof FILE_STORE_KINDS)[number];

function fileStoreKind(env: NodeJS.ProcessEnv, database: DatabaseConfig): FileStoreKind {
  const raw = env.DOCKET_FILE_STORE;
  if (raw === undefined || raw === '') return database.client === 'mysql' ? 'database' : 'folder';
  if (!(FILE_STORE_KINDS as readonly string[]).includes(raw)) {
    throw new ConfigError(`DOCKET_FILE_STORE must be ${FILE_STORE_KINDS.join(' or ')}, not "${raw}"`);
  }
  return raw as FileStoreKind;
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** TRUST_PROXY: a hop count, or a list of addresses, CIDRs and names; "true" is refused. */
export function parseTrustProxy(raw: string | undefined): number | string {
  const v = (raw ?? '').trim();
  if (v === '') return 'loopback';
  if (/^[0-9]+$/.test(v)) {
    const n = Number(v);
    if (n > 10) throw new ConfigError(`TRUST_PROXY must be a hop count from 0 to 10, or addresses, not "${v}"`);
    return n;
  }
  const bad = v
    .split(',')
    .map((p) => p.trim())
    .filter((p) => {
      if (PROXY_NAMES.includes(p)) return false;
      const [addr, bits, more] = p.split('/');
      const kind = isIP(addr);
      if (!kind || more !== undefined) return true;
      return bits !== undefined && (!/^[0-9]{1,3}$/.test(bits) || Number(bits) > (kind === 4 ? 32 : 128));
    });
  if (bad.length > 0) {
    throw new ConfigError(
      `TRUST_PROXY must be a hop count or a comma-separated list of addresses, CIDRs and ${PROXY_NAMES.join(', ')}` +
        ` (not "${bad[0].slice(0, 60)}"; "true" is refused: any client could then choose its address)`,
    );
  }
  return v;
}

/**
 * The retention periods. An audit trail that went before the jobs it speaks of would
 * leave jobs nobody can account for, so DOCKET_AUDIT_DAYS must be 0 (forever) or at least
 * the longest job retention (a job kept forever asks nothing of it).
 */
function retentionDays(env: NodeJS.ProcessEnv): Pick<Config, 'retentionDays' | 'retentionFailedDays' | 'auditDays'> {
  const retentionDays = int(env, 'DOCKET_RETENTION_DAYS', 30, 0, 36_500);
  const retentionFailedDays = int(env, 'DOCKET_RETENTION_FAILED_DAYS', 90, 0, 36_500);
  const auditDays = int(env, 'DOCKET_AUDIT_DAYS', 365, 0, 36_500);
  const longest = Math.max(retentionDays, retentionFailedDays);
  if (auditDays > 0 && auditDays < longest) {
    throw new ConfigError(
      `DOCKET_AUDIT_DAYS (${auditDays}) must be 0 (keep forever) or at least the longest job retention (${longest} days): ` +
        'the audit trail outlives the jobs it speaks of',
    );
  }
  return { retentionDays, retentionFailedDays, auditDays };
}

const LEVELS = ['error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'];

function int(env: NodeJS.ProcessEnv, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, not "${raw}"`);
  }
  return n;
}

export function parseDatabaseUrl(raw: string): DatabaseConfig {
  if (raw.startsWith('sqlite:')) {
    const path = raw.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!path) throw new ConfigError('DATABASE_URL "sqlite:" needs a file path, e.g. sqlite:db/docket.sqlite3');
    return { client: 'sqlite', filename: path === ':memory:' ? path : fromRoot(path), url: raw };
  }
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(
      `DATABASE_URL "${raw}" is not a URL: use mysql://user:pass@host:port/db or sqlite:path/to/file.sqlite3`,
    );
  }
  if (u.protocol !== 'mysql:' && u.protocol !== 'mariadb:') {
    throw new ConfigError(`DATABASE_URL must start with mysql:// or sqlite:, not "${u.protocol}//"`);
  }
  const database = decodeURIComponent(u.pathname.replace(/^\//, ''));
  if (!database) throw new ConfigError(`DATABASE_URL "${raw}" names no database (mysql://user:pass@host:port/DB)`);
  return {
    client: 'mysql',
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
    database,
    url: raw,
  };
}

function metricsToken(env: NodeJS.ProcessEnv): string | null {
  const t = env.DOCKET_METRICS_TOKEN;
  if (!t) return null;
  if (t.length < 16 || /\s/.test(t)) throw new ConfigError('DOCKET_METRICS_TOKEN must be at least 16 characters, without spaces');
  return t;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const database = parseDatabaseUrl(env.DATABASE_URL || 'sqlite:db/docket.sqlite3');
  const amqpUrl: string | null = env.AMQP_URL || null;
  if (amqpUrl) {
    const nodes = amqpUrl.split(',').map((n) => n.trim());
    if (nodes.some((n) => n === '')) throw new ConfigError('AMQP_URL has an empty node: separate the nodes with single commas');
    for (const node of nodes) {
      let u: URL;
      try {
        u = new URL(node);
      } catch {
        throw new ConfigError(`AMQP_URL "${node}" is not a URL: use amqp://user:pass@host:port/vhost (several nodes comma-separated)`);
      }
      if (u.protocol !== 'amqp:' && u.protocol !== 'amqps:') {
        throw new ConfigError(`AMQP_URL must start with amqp:// or amqps://, not "${u.protocol}//"`);
      }
    }
  }
  const amqpQueueType = env.AMQP_QUEUE_TYPE || 'classic';
  if (amqpQueueType !== 'classic' && amqpQueueType !== 'quorum') {
    throw new ConfigError(`AMQP_QUEUE_TYPE must be classic or quorum, not "${amqpQueueType}"`);
  }
  const persistentRaw = (env.AMQP_PERSISTENT ?? '').trim().toLowerCase() || 'true';
  if (persistentRaw !== 'true' && persistentRaw !== 'false') {
    throw new ConfigError(`AMQP_PERSISTENT must be true or false, not "${env.AMQP_PERSISTENT}"`);
  }
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LEVELS.join(', ')}`);
  const prefix = env.AMQP_PREFIX || 'docket';
  if (!/^[A-Za-z0-9_.-]+$/.test(prefix)) throw new ConfigError('AMQP_PREFIX may hold only letters, digits, _ . -');
  const heartbeatMs = int(env, 'DOCKET_HEARTBEAT_MS', 3000, 100, 600_000);
  const leaseMs = int(env, 'DOCKET_LEASE_MS', 15_000, 500, 3_600_000);
  if (leaseMs < heartbeatMs * 2) {
    throw new ConfigError('DOCKET_LEASE_MS must be at least twice DOCKET_HEARTBEAT_MS, or live jobs would expire');
  }
  const retention = retentionDays(env);
  return Object.freeze({
    ...retention,
    database,
    amqpUrl,
    amqpQueueType,
    amqpPersistent: persistentRaw === 'true',
    amqpPrefix: prefix,
    port: int(env, 'PORT', 3000, 0, 65535),
    host: env.HOST || '127.0.0.1',
    sessionSecret: env.SESSION_SECRET || null,
    adminPassword: env.DOCKET_ADMIN_PASSWORD || null,
    logLevel,
    logDir: fromRoot(env.DOCKET_LOG_DIR || 'logs'),
    leaseMs,
    heartbeatMs,
    outputCapBytes: int(env, 'DOCKET_OUTPUT_CAP_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    jobLogDir: fromRoot(env.DOCKET_JOB_LOG_DIR || 'logs/jobs'),
    resultsDir: fromRoot(env.DOCKET_RESULTS_DIR || 'db/results'),
    extraTasks: Object.freeze(
      (env.DOCKET_EXTRA_TASKS ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '')
        .map((p) => fromRoot(p)),
    ),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    jobsPerMinute: int(env, 'DOCKET_JOBS_PER_MINUTE', 60, 0, 100_000),
    fileStore: fileStoreKind(env, database),
    maxUploadBytes: int(env, 'DOCKET_MAX_UPLOAD_MB', 512, 1, 1024 * 1024) * 1024 * 1024,
    notify: loadNotifyConfig(env),
    metricsToken: metricsToken(env),
  });
}
