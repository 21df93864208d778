/** What a fault scenario is, and the environment each of its runs gets. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../../app/context.js';
import { makeTestEnv, type Backend, type TestEnv } from '../helpers.js';
import { brokenRow, Fleet, type Row } from './harness.js';
import { FAULT_TASKS_MODULE } from './tasks.js';

export interface RunOptions {
  full: boolean;
  /** A folder for this run's worker logs (kept after the run). */
  logDir: string;
  say(line: string): void;
}

export interface Scenario {
  n: number;
  title: string;
  /** True when it stops a service other people's tests may be using. */
  stopsSharedService?: boolean;
  /** True when it runs against the suite's own RabbitMQ cluster (test/faults/cluster.ts), not the main broker. */
  cluster?: boolean;
  backends(full: boolean): Backend[];
  run(backend: Backend, o: RunOptions): Promise<Row>;
}

export const SQLITE_DB: Backend = { db: 'sqlite', transport: 'db', name: 'SQLite + db' };
export const MYSQL_DB: Backend = { db: 'mysql', transport: 'db', name: 'MariaDB + db' };
export const MYSQL_AMQP: Backend = { db: 'mysql', transport: 'amqp', name: 'MariaDB + RabbitMQ' };
export const SQLITE_AMQP: Backend = { db: 'sqlite', transport: 'amqp', name: 'SQLite + RabbitMQ' };

/**
 * How long a job may stay `running` after its worker died: one lease period (the lease
 * runs out at most that long after the worker's last renewal), plus an allowance: each
 * process reads once a second (with up to 25 % jitter) the leases that run out before
 * its next look and comes back at the first one's end, and the recovery is a write that
 * waits its turn on a busy database. The allowance is the sweep it was before that timer.
 */
export const SWEEP_ALLOWANCE_MS = 1500;

/** Where `staged` writes a run's worker logs. */
export function fleetLogFile(backend: Backend, o: RunOptions): string {
  return join(o.logDir, `workers-${backend.db}-${backend.transport}.log`);
}

export interface Stage {
  env: TestEnv;
  ctx: Context;
  fleet: Fleet | null;
  started: number;
}

/**
 * Runs `body` in a fresh environment (its own database and queues), with a fleet of
 * worker processes when `workers` is given; always stops the workers and drops the
 * environment, and turns a throw into a row that says what broke.
 */
export async function staged(
  backend: Backend,
  o: RunOptions,
  opts: { workers?: { count: number; concurrency: number }; extraEnv?: Record<string, string>; before?: (env: TestEnv) => Promise<void>; after?: (env: TestEnv) => Promise<void> },
  body: (s: Stage) => Promise<Row>,
): Promise<Row> {
  const started = Date.now();
  let env: TestEnv | null = null;
  let fleet: Fleet | null = null;
  try {
    // The fault tasks, for this process and every worker and child it starts.
    env = await makeTestEnv(backend, { LOG_LEVEL: 'warn', DOCKET_EXTRA_TASKS: FAULT_TASKS_MODULE, ...opts.extraEnv });
    await opts.before?.(env);
    const ctx = await env.context();
    if (opts.workers) {
      mkdirSync(o.logDir, { recursive: true });
      fleet = new Fleet(
        env.env,
        ['--concurrency', String(opts.workers.concurrency), '--stop-timeout', '5'],
        fleetLogFile(backend, o),
      );
      await fleet.start(opts.workers.count);
    }
    return await body({ env, ctx, fleet, started });
  } catch (err) {
    return brokenRow(backend.name, started, err);
  } finally {
    await fleet?.stop().catch(() => undefined);
    if (env) await opts.after?.(env).catch((e: Error) => o.say(`undoing ${backend.name}: ${e.message}`));
    await env?.cleanup().catch((e: Error) => o.say(`cleanup of ${backend.name}: ${e.message}`));
  }
}
