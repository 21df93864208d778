/**
 * The worker's child path on its own: a ChildPool of `size` children running noop jobs
 * back to back, with no database and no broker. Prints jobs/s and the CPU per job of the
 * pool's process and of its children (from /proc/<pid>/stat). Given several builds, runs
 * them in turn `runs` times, for an A/B on a noisy machine:
 *
 *   node --import tsx bench/child-path.ts [jobs=20000] [size=8] [runs=3] [dist folder ...]
 *
 * A dist folder is a `npx tsc -p tsconfig.build.json` output of some checkout (default:
 * this one's dist/); its children are that build's workers/child.js.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from './lib/proc.js';
import type { ChildPool, Slot, Tenant } from '../workers/pool.js';
import type { ChildMessage } from '../workers/protocol.js';

const [jobs = 20_000, size = 8, runs = 3] = process.argv.slice(2, 5).map(Number);
const dists = process.argv.slice(5).map((d) => resolve(d));
if (dists.length === 0) dists.push(join(ROOT, 'dist'));

/** User and system CPU of a process so far, in ms. */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

const quiet = { info() {}, warn() {}, error() {}, debug() {}, isDebugEnabled: () => false };

async function measure(dist: string): Promise<{ jobsPerSecond: number; poolUs: number; childrenUs: number }> {
  const { ChildPool: Pool } = (await import(join(dist, 'workers', 'pool.js'))) as { ChildPool: typeof ChildPool };
  const { sentinel } = (await import(join(dist, 'workers', 'protocol.js'))) as typeof import('../workers/protocol.js');
  const pool = new Pool({ size, env: {}, maxJobs: Number.MAX_SAFE_INTEGER, maxMemoryMb: 1 << 20 }, quiet as never);
  await pool.start();
  const pids = (pool as unknown as { slots: Slot[] }).slots.map((s) => s.proc.pid!);
  let next = 1;
  let done = 0;
  let finished!: () => void;
  const all = new Promise<void>((r) => (finished = r));
  const runOne = (): void => {
    if (next > jobs) return;
    const id = next++;
    let reply = false;
    let outputIn = false;
    const end = (): void => {
      pool.release(slot, 'keep', 0);
      if (++done === jobs) finished();
      else runOne();
    };
    const tenant: Tenant = {
      jobId: id,
      mark: Buffer.from(sentinel(id, 1)),
      output() {},
      outputEnded() {
        outputIn = true;
        if (reply) end();
      },
      message(m: Exclude<ChildMessage, { type: 'ready' }>) {
        if (m.type === 'progress') return;
        reply = true;
        if (outputIn) end();
      },
      exited() {
        throw new Error(`a child exited during job ${id}`);
      },
    };
    const slot = pool.take(tenant);
    slot.send({ type: 'run', job: { id, attempt: 1, task: 'noop', params: {} }, resultsDir: ROOT });
  };
  const own0 = cpuMs(process.pid);
  const kids0 = pids.map(cpuMs);
  const t0 = performance.now();
  for (let i = 0; i < size; i++) runOne();
  await all;
  const seconds = (performance.now() - t0) / 1000;
  const own = cpuMs(process.pid) - own0;
  const kids = pids.map(cpuMs).reduce((sum, ms, i) => sum + ms - kids0[i], 0);
  pool.stop();
  return { jobsPerSecond: Math.round(jobs / seconds), poolUs: Math.round((own * 1000) / jobs), childrenUs: Math.round((kids * 1000) / jobs) };
}

for (let r = 1; r <= runs; r++) {
  for (const dist of dists) console.log(JSON.stringify({ run: r, dist, ...(await measure(dist)) }));
}
process.exit(0);
