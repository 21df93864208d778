import { spawn } from 'node:child_process';
import { makeDocketEnv } from './lib/docket-env.js';
import { startWorker } from './lib/proc.js';
const kind = process.argv[2] === 'sqlite' ? { db: 'sqlite' as const, transport: 'db' as const } : { db: 'mysql' as const, transport: 'amqp' as const };
const env = await makeDocketEnv(kind);
await env.context();
const w = await startWorker(env.env, 2);
const extra = process.argv.slice(3);
try {
  for (let i = 0; i < Number(process.env.N || 6); i++) {
    const t = performance.now();
    const c = spawn(process.execPath, [...extra, 'dist/cli/docket.js', 'run', 'noop', '--wait'], { env: env.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = ''; c.stderr.on('data', (b) => (err += b));
    const code = await new Promise((r) => c.on('exit', r));
    console.log(code, (performance.now() - t).toFixed(0), 'ms', err.trim().replace(/\n/g, ' | '));
  }
} finally { await w.stop(); await env.cleanup(); }
