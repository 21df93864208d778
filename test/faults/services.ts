/**
 * The local services the fault suite stops and starts: RabbitMQ, MariaDB, RabbitMQ's
 * consumer timeout and tiny tmpfs mounts. Every change has its undo, and `restoreAll`
 * (run in a finally and on SIGINT/SIGTERM) leaves both services running and the
 * consumer timeout at RabbitMQ's default, whatever happened.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import knexFactory from 'knex';

const exec = promisify(execFile);

export const MYSQL_URL = process.env.DOCKET_TEST_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test';
export const AMQP_URL = process.env.DOCKET_TEST_AMQP_URL || 'amqp://guest:guest@127.0.0.1:5672';
/** RabbitMQ's default consumer timeout (30 min), put back after scenario 4. */
export const DEFAULT_CONSUMER_TIMEOUT_MS = 1_800_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function sh(cmd: string, args: string[], timeoutMs = 60_000): Promise<string> {
  const { stdout } = await exec(cmd, args, { timeout: timeoutMs });
  return stdout;
}

/** Null when MariaDB answers, else why not. */
export async function mysqlProblem(): Promise<string | null> {
  const u = new URL(MYSQL_URL);
  const k = knexFactory({
    client: 'mysql2',
    connection: {
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username || 'root'),
      password: decodeURIComponent(u.password),
      connectTimeout: 2000,
    },
    acquireConnectionTimeout: 3000,
  });
  try {
    await k.raw('select 1');
    return null;
  } catch (err) {
    return (err as Error).message.split('\n')[0] || String(err);
  } finally {
    await k.destroy().catch(() => undefined);
  }
}

/** Null when RabbitMQ accepts an AMQP connection, else why not. */
export async function amqpProblem(): Promise<string | null> {
  try {
    const c = await amqp.connect(AMQP_URL, { timeout: 2000 });
    await c.close();
    return null;
  } catch (err) {
    return (err as Error).message.split('\n')[0] || String(err);
  }
}

async function waitFor(what: string, check: () => Promise<string | null>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  let why: string | null = 'not checked';
  while (Date.now() < end) {
    why = await check();
    if (!why) return;
    await sleep(300);
  }
  throw new Error(`${what} did not come back within ${ms / 1000} s: ${why}`);
}

/** Services are local and this process may stop them (root, the usual commands). */
export function servicesAreLocal(): boolean {
  const local = (u: string): boolean => ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(u).hostname);
  return local(MYSQL_URL) && local(AMQP_URL) && process.getuid?.() === 0;
}

// ---- RabbitMQ -----------------------------------------------------------------------

export async function stopRabbit(): Promise<void> {
  await sh('rabbitmqctl', ['stop_app']);
}

export async function startRabbit(): Promise<void> {
  try {
    await sh('rabbitmqctl', ['start_app'], 120_000);
  } catch {
    // The whole node is down (not only the app): start the server itself.
    await sh('rabbitmq-server', ['-detached']).catch(() => undefined);
    await sleep(3000);
    await sh('rabbitmqctl', ['start_app'], 120_000).catch(() => undefined);
  }
  await waitFor('RabbitMQ', amqpProblem, 120_000);
}

export async function setConsumerTimeout(ms: number): Promise<void> {
  await sh('rabbitmqctl', ['eval', `application:set_env(rabbit, consumer_timeout, ${ms}).`]);
}

export async function consumerTimeout(): Promise<number | null> {
  const out = await sh('rabbitmqctl', ['eval', 'application:get_env(rabbit, consumer_timeout).']);
  const m = /\{ok,(\d+)\}/.exec(out);
  return m ? Number(m[1]) : null;
}

// ---- MariaDB ------------------------------------------------------------------------

export async function stopMysql(): Promise<void> {
  await sh('mysqladmin', ['-uroot', 'shutdown']);
  // mysqladmin returns once the server accepted the request; wait until it is gone.
  await waitFor('MariaDB to stop', async () => ((await mysqlProblem()) ? null : 'still answering'), 60_000);
}

export async function startMysql(): Promise<void> {
  await sh('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', '/usr/sbin/mariadbd', '--', '--user=mysql']);
  await waitFor('MariaDB', mysqlProblem, 120_000);
}

// ---- tmpfs ----------------------------------------------------------------------------

export async function mountTmpfs(dir: string, size: string): Promise<void> {
  await sh('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
}

export async function remount(dir: string, mode: 'ro' | 'rw'): Promise<void> {
  // A file being appended to at that instant makes a read-only remount busy: try again.
  for (let i = 0; ; i++) {
    try {
      await sh('mount', ['-o', `remount,${mode}`, dir]);
      return;
    } catch (err) {
      if (i >= 20) throw err;
      await sleep(50);
    }
  }
}

export async function unmount(dir: string): Promise<void> {
  await sh('umount', ['-l', dir]).catch(() => undefined);
}

// ---- the shared machine ----------------------------------------------------------------

/** Other test or benchmark runs using the shared services right now (not ours). */
export async function othersUsingServices(): Promise<string[]> {
  try {
    const out = await sh('pgrep', ['-fa', 'mocha|bench/run']);
    return out
      .split('\n')
      .filter(Boolean)
      .filter((l) => !l.startsWith(`${process.pid} `) && !l.includes('test/faults'));
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

/** Waits until no other test run uses the services; false when they stayed busy. */
export async function waitQuiet(ms: number, say: (s: string) => void): Promise<boolean> {
  const end = Date.now() + ms;
  let told = false;
  for (;;) {
    const others = await othersUsingServices();
    if (others.length === 0) return true;
    if (Date.now() > end) return false;
    if (!told) say(`waiting for other test runs to finish before stopping a shared service:\n  ${others.slice(0, 3).join('\n  ')}`);
    told = true;
    await sleep(2000);
  }
}

/**
 * Leaves MariaDB and RabbitMQ running and the consumer timeout at its default. Safe to
 * call at any time, as often as needed; each step is tried even if another fails.
 */
export async function restoreAll(say: (s: string) => void): Promise<void> {
  if (!servicesAreLocal()) return;
  if (await mysqlProblem()) {
    say('restoring MariaDB');
    await startMysql().catch((e: Error) => say(`could not restart MariaDB: ${e.message}`));
  }
  if (await amqpProblem()) {
    say('restoring RabbitMQ');
    await startRabbit().catch((e: Error) => say(`could not restart RabbitMQ: ${e.message}`));
  }
  const t = await consumerTimeout().catch(() => null);
  if (t !== null && t !== DEFAULT_CONSUMER_TIMEOUT_MS) {
    await setConsumerTimeout(DEFAULT_CONSUMER_TIMEOUT_MS).catch((e: Error) => say(`could not reset the consumer timeout: ${e.message}`));
  }
}
