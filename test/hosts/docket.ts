/**
 * Docket on a test host: the command line run from source (as test/e2e/cli.test.ts
 * does, so a stale build cannot mislead), with the host's own folders for results and
 * logs. Hosts share nothing but the database and the broker, reached at the same URLs
 * through the host's forwarders.
 */
import { join } from 'node:path';
import type { TestNetwork } from './network.js';
import type { Exit, HostProcess } from './process.js';
import { netnsUnavailable } from './system.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CLI = ['--import', 'tsx', join(ROOT, 'cli', 'docket.ts')];

/** The environment of Docket on one host: the shared services, the host's own folders. */
export function hostEnv(net: TestNetwork, name: string, base: NodeJS.ProcessEnv, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  if (!base.DATABASE_URL?.startsWith('mysql:')) {
    throw new Error(`test hosts share a MySQL database; DATABASE_URL is "${base.DATABASE_URL ?? ''}"`);
  }
  const dir = net.host(name).dir;
  return {
    ...base,
    DOCKET_LOG_DIR: join(dir, 'logs'),
    DOCKET_JOB_LOG_DIR: join(dir, 'logs', 'jobs'),
    DOCKET_RESULTS_DIR: join(dir, 'results'),
    ...extra,
  };
}

/** Starts a long-running Docket command (`web`, `worker`) on a host. */
export function startDocket(net: TestNetwork, name: string, args: string[], env: NodeJS.ProcessEnv): HostProcess {
  return net.spawn(name, process.execPath, [...CLI, ...args], { env, cwd: ROOT });
}

/** Runs a Docket command on a host to its end. */
export async function runDocket(
  net: TestNetwork,
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<Exit & { output: string }> {
  const p = startDocket(net, name, args, env);
  const exit = await p.exited;
  return { ...exit, output: p.output };
}

/** Skips the suite, saying why, where test hosts cannot be made (or fails it in CI). */
export function requireTestHosts(ctx: Mocha.Context): void {
  const why = netnsUnavailable();
  if (!why) return;
  if (process.env.DOCKET_TEST_REQUIRE_SERVICES === '1') {
    throw new Error(`test hosts are required (DOCKET_TEST_REQUIRE_SERVICES=1) but ${why}`);
  }
  process.stderr.write(`  (test hosts skipped: ${why})\n`);
  ctx.skip();
}

/** The port of a service URL, which must be on this machine's loopback (the forwarders reach only that). */
export function loopbackPort(url: string, defaultPort: number): number {
  const u = new URL(url);
  if (!['127.0.0.1', 'localhost'].includes(u.hostname)) {
    throw new Error(`test hosts reach services on 127.0.0.1 only, not ${u.hostname} (${url})`);
  }
  return u.port ? Number(u.port) : defaultPort;
}
