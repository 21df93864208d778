/**
 * 9. The file store: one 300 MB file (16 MB with --quick) put and read back through
 * the database store (256 KiB chunk rows in MariaDB) and through the folder store (a
 * file under the results folder, its row in MariaDB), each in a fresh process whose
 * peak RSS (VmHWM) shows whether memory stays flat at that size.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { makeDocketEnv } from '../lib/docket-env.js';
import { ROOT } from '../lib/proc.js';
import { spread } from '../lib/stats.js';
import type { BenchOptions, Row, Scenario } from '../lib/types.js';

interface Run {
  store: 'database' | 'folder';
  mb: number;
  upSeconds: number;
  downSeconds: number;
  rssBefore: number;
  peakRss: number;
  sameBytes: boolean;
}

/** Peak RSS allowed for a 300 MB file: the process's own baseline (tsx included) plus a few chunks. */
const PEAK_TARGET_MB = 150;

async function once(env: NodeJS.ProcessEnv, store: 'database' | 'folder', mb: number): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/lib/file-store-child.ts'), String(mb)], {
    env: { ...env, DOCKET_FILE_STORE: store },
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`the ${store} store's run failed (${code}): ${err.trim().slice(-800)}`);
  const run = JSON.parse(out.trim().split('\n').pop() ?? '') as Run;
  if (!run.sameBytes) throw new Error(`the ${store} store gave back other bytes than it was given`);
  return run;
}

export const scenario: Scenario = {
  id: 9,
  title: 'File store: a 300 MB file in and out, database vs folder',
  needs: ['mysql'],
  async run(opts: BenchOptions): Promise<Row[]> {
    const mb = opts.quick ? 16 : Number(process.env.BENCH_S9_MB || 300);
    const env = await makeDocketEnv({ db: 'mysql', transport: 'db' });
    const runs: Record<'database' | 'folder', Run[]> = { database: [], folder: [] };
    try {
      // Migrates the database the children use.
      await env.context();
      for (let i = 0; i < opts.runs; i++) {
        const last = runs.database[runs.database.length - 1];
        const perRunMs = last ? (last.upSeconds + last.downSeconds) * 2500 : 0;
        if (i > 0 && !opts.timeFor(perRunMs)) {
          opts.log(`  stopping after ${i} run(s): another would overrun this scenario's time budget`);
          break;
        }
        for (const store of ['database', 'folder'] as const) {
          const r = await once(env.env, store, mb);
          runs[store].push(r);
          opts.log(
            `  ${store}: up ${(mb / r.upSeconds).toFixed(0)} MB/s, down ${(mb / r.downSeconds).toFixed(0)} MB/s, ` +
              `RSS ${(r.rssBefore / 2 ** 20).toFixed(0)} MB before, peak ${(r.peakRss / 2 ** 20).toFixed(0)} MB`,
          );
        }
      }
    } finally {
      await env.cleanup();
    }
    const note = `${mb} MiB file, MariaDB; a fresh process per store and run (tsx loaded: its baseline is in the JSON)`;
    const rows: Row[] = [];
    for (const store of ['database', 'folder'] as const) {
      const rs = runs[store];
      const peak = Math.max(...rs.map((r) => r.peakRss)) / 2 ** 20;
      rows.push(
        { scenario: 9, measure: `${store} store upload`, unit: 'MB/s', value: spread(rs.map((r) => mb / r.upSeconds)), target: 'reported', pass: null, note },
        { scenario: 9, measure: `${store} store download`, unit: 'MB/s', value: spread(rs.map((r) => mb / r.downSeconds)), target: 'reported', pass: null },
        {
          scenario: 9,
          measure: `${store} store peak RSS`,
          unit: 'MB',
          value: spread(rs.map((r) => r.peakRss / 2 ** 20)),
          target: `≤ ${PEAK_TARGET_MB} MB`,
          pass: opts.quick ? null : peak <= PEAK_TARGET_MB,
          detail: { runs: rs },
        },
      );
    }
    return rows;
  },
};
