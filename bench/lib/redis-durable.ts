/**
 * A second Redis for the durable BullMQ side: started by the benchmark on a free port
 * with every write fsynced (`appendonly yes`, `appendfsync always`) in a temporary
 * folder, stopped and removed at the end. The machine's Redis is never reconfigured.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sleep } from './proc.js';

export interface DurableRedis {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Null when redis-server is on the PATH, else why not. */
export function redisServerMissing(): string | null {
  const r = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? `redis-server cannot be run (${r.error?.message ?? `exit ${r.status}`})` : null;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function startDurableRedis(): Promise<DurableRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'docket-bench-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir, '--save', '', '--daemonize', 'no'];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  let exited = false;
  child.on('exit', () => (exited = true));
  // Never left behind, even when the benchmark dies: killed and removed on exit.
  const onExit = (): void => {
    if (!exited) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const url = `redis://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (!exited) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(t);
    }
    rmSync(dir, { recursive: true, force: true });
    process.off('exit', onExit);
  };
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    for (let i = 0; ; i++) {
      if (exited) throw new Error(`redis-server exited at start: ${out.trim().slice(-500)}`);
      try {
        await probe.connect();
        await probe.ping();
        break;
      } catch (err) {
        if (i > 50) throw new Error(`redis-server on port ${port} did not answer: ${(err as Error).message}`, { cause: err });
        probe.disconnect();
        await sleep(100);
      }
    }
    const conf = (await probe.config('GET', 'appendfsync')) as string[];
    if (conf[1] !== 'always') throw new Error(`the benchmark's Redis runs with appendfsync ${conf[1]}, not always`);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    probe.disconnect();
  }
  return { url, pid: child.pid as number, stop };
}
