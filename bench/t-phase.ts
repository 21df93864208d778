import { makeDocketEnv } from './lib/docket-env.js';
import { startWorker } from './lib/proc.js';
import { spawn } from 'node:child_process';
const env = await makeDocketEnv({ db: 'mysql', transport: 'amqp' });
await env.context();
const w = await startWorker(env.env, 2);
try {
  for (let i = 0; i < Number(process.env.N || 3); i++) {
    const t = performance.now();
    const c = spawn(process.execPath, ['/tmp/h18-phase.mjs'], { env: env.env, stdio: ['ignore', 'inherit', 'inherit'], cwd: process.cwd() });
    await new Promise((r) => c.on('exit', r));
    console.log('wall', (performance.now() - t).toFixed(0));
  }
} finally { await w.stop(); await env.cleanup(); }
