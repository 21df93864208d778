/** `docket web` as a separate process, for the scenarios that need the web app (or its sweep). */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, track } from './harness.js';

/** Starts `docket web` on a free port; resolves with the process and its port. */
export function startWeb(env: NodeJS.ProcessEnv): Promise<{ proc: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const proc = track(
      spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'docket.ts'), 'web'], {
        env: { ...env, PORT: '0', HOST: '127.0.0.1', DOCKET_ADMIN_PASSWORD: 'fault-suite-admin' },
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let errText = '';
    proc.stderr!.on('data', (b: Buffer) => (errText += b.toString()));
    const timer = setTimeout(() => reject(new Error('docket web did not start within 60 s')), 60_000);
    proc.stdout!.on('data', (b: Buffer) => {
      const m = /listening on http:\/\/[^:]+:(\d+)\//.exec(b.toString());
      if (m) {
        clearTimeout(timer);
        resolve({ proc, port: Number(m[1]) });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`docket web exited (${code}): ${errText.trim().split('\n').pop() ?? ''}`));
    });
  });
}
