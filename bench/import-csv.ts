/**
 * `node --import tsx bench/import-csv.ts [--rows 100000] [--mysql mysql://root@127.0.0.1:3306/x] [--outputs]`
 *
 * Measures the csv-import task on a generated AtoM ISAD CSV: rows per second and the
 * peak memory (VmHWM, the high-water mark of the resident set) of the worker's child
 * process that ran it, on SQLite and, when a MySQL/MariaDB server is given (or
 * DOCKET_TEST_MYSQL_URL is set), on MySQL. Self-contained: a fresh database each run,
 * an in-process worker with one child, the job enqueued as `docket run` does.
 *
 * The file: one fonds, 100 series, and items spread over the series, with the usual
 * ISAD columns filled (about 160 bytes a row).
 *
 * `--outputs` then times the tasks that read the imported fonds back: finding aids
 * (PDF inventory summary, RTF and PDF full details) and the CSV export. The child is
 * reused between jobs, so its peak is the highest so far, not that job's alone.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';

process.env.LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    mysql: { type: 'string' },
    'sqlite-only': { type: 'boolean', default: false },
    outputs: { type: 'boolean', default: false },
  },
});
const ROWS = Number(args.rows);
if (!Number.isInteger(ROWS) || ROWS < 2) throw new Error('--rows must be a whole number of at least 2');
const MYSQL = args['sqlite-only'] ? null : (args.mysql ?? process.env.DOCKET_TEST_MYSQL_URL ?? null);

async function generate(path: string, rows: number): Promise<void> {
  const out = createWriteStream(path);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write(
    'legacyId,parentId,identifier,title,levelOfDescription,extentAndMedium,repository,scopeAndContent,eventDates,eventStartDates,eventEndDates,publicationStatus,subjectAccessPoints,culture\n',
  );
  await write('1,,BENCH,Benchmark fonds,Fonds,"100,000 records",Bench Archives,"A generated fonds, for measuring imports.",1900-1999,1900,1999,Published,Benchmarks,en\n');
  const series = Math.min(100, rows - 1);
  for (let s = 1; s <= series; s++) {
    await write(`s${s},1,S${s},Series ${s},Series,1 box,,Series ${s} of the benchmark fonds.,19${String(s % 100).padStart(2, '0')},,,Draft,,en\n`);
  }
  for (let i = 1; i <= rows - 1 - series; i++) {
    const s = (i % series) + 1;
    await write(
      `i${i},s${s},I${i},"Item ${i}, a letter",Item,1 leaf,,"Letter number ${i}, filed in series ${s}; its scope and content.",${1900 + (i % 100)}-0${1 + (i % 9)}-1${i % 10},${1900 + (i % 100)},,${i % 3 ? 'Draft' : 'Published'},Letters|Benchmarks,en\n`,
    );
  }
  out.end();
  await once(out, 'finish');
}

/** The high-water mark of the resident set of every child of this process, in MB. */
function childrenPeakMb(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      if (ppid !== process.pid) continue;
      const hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
      out.set(Number(name), hwm / 1024);
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

interface OutputResult {
  database: string;
  task: string;
  seconds: number;
  childPeakMb: number;
  bytes: number;
  /** Pages of a PDF (pdfinfo), when poppler's tools are installed. */
  pages: number | null;
  summary: string | null;
}

/** The size of a job's result file in the store, and its page count when it is a PDF. */
async function resultFigures(
  files: import('../app/files/types.js').FileStore,
  jobId: number,
  dir: string,
): Promise<{ bytes: number; pages: number | null }> {
  const [info] = await files.list(jobId);
  if (!info) return { bytes: 0, pages: null };
  let pages: number | null = null;
  if (info.contentType === 'application/pdf') {
    const copy = join(dir, `result-${jobId}.pdf`);
    const { stream } = await files.get(info.id);
    await pipeline(stream, createWriteStream(copy));
    try {
      const out = execFileSync('pdfinfo', [copy], { encoding: 'utf8' });
      pages = Number(/^Pages:\s+(\d+)/m.exec(out)?.[1] ?? NaN);
    } catch {
      // No pdfinfo here: the size alone.
    }
    rmSync(copy, { force: true });
  }
  return { bytes: info.size, pages };
}
const outputs: OutputResult[] = [];

interface Result {
  database: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  childPeakMbBefore: number;
  childPeakMb: number;
  status: string;
  summary: string | null;
}

async function runOn(kind: 'sqlite' | 'mysql', csv: string, dir: string): Promise<Result> {
  let databaseUrl: string;
  let drop: (() => Promise<void>) | null = null;
  if (kind === 'mysql') {
    const { default: knex } = await import('knex');
    const name = `docket_bench_${randomBytes(4).toString('hex')}`;
    const admin = knex({ client: 'mysql2', connection: MYSQL! });
    await admin.raw(`create database \`${name}\` character set utf8mb4 collate utf8mb4_unicode_ci`);
    await admin.destroy();
    const u = new URL(MYSQL!);
    u.pathname = `/${name}`;
    databaseUrl = u.toString();
    drop = async () => {
      const k = knex({ client: 'mysql2', connection: MYSQL! });
      await k.raw(`drop database if exists \`${name}\``);
      await k.destroy();
    };
  } else {
    databaseUrl = `sqlite:${join(dir, `bench-${randomBytes(4).toString('hex')}.sqlite3`)}`;
  }
  // The worker's child processes read their database from the environment.
  Object.assign(process.env, {
    DATABASE_URL: databaseUrl,
    AMQP_URL: '',
    DOCKET_RESULTS_DIR: join(dir, 'results'),
    DOCKET_JOB_LOG_DIR: join(dir, 'logs'),
  });
  const { loadConfig } = await import('../app/config.js');
  const { createContext } = await import('../app/context.js');
  const { Worker } = await import('../workers/worker.js');
  const { getJob } = await import('../app/store/jobs.js');
  const ctx = await createContext({ config: loadConfig(process.env), broker: 'required' });
  const worker = new Worker(ctx.service, ctx.transport, { concurrency: 1, maxMemoryMb: 4096 });
  try {
    await worker.start();
    const before = Math.max(0, ...childrenPeakMb().values());
    const { job } = await ctx.service.enqueue({ task: 'csv-import', params: { file: csv }, origin: 'cli', user: null });
    let peakSeen = before;
    let done = await getJob(ctx.db, job.id);
    while (!done || !['completed', 'failed', 'cancelled'].includes(done.status)) {
      await new Promise((r) => setTimeout(r, 250));
      peakSeen = Math.max(peakSeen, ...childrenPeakMb().values());
      done = await getJob(ctx.db, job.id);
    }
    peakSeen = Math.max(peakSeen, ...childrenPeakMb().values());
    const seconds = ((done.finishedAt ?? 0) - (done.startedAt ?? 0)) / 1000;
    const importPeak = peakSeen;
    if (args.outputs) {
      const tasks: Array<[string, Record<string, unknown>]> = [
        // The full finding aids (drafts included): most of the generated fonds is draft, and
        // a public one would hold a few descriptions.
        ['finding-aid', { format: 'pdf', model: 'inventory-summary', public: false }],
        ['finding-aid', { format: 'rtf', model: 'full-details', public: false }],
        ['finding-aid', { format: 'pdf', model: 'full-details', public: false }],
        ['csv-export', {}],
      ];
      for (const [task, params] of tasks) {
        const e = await ctx.service.enqueue({ task, params: { description: 'benchmark-fonds', ...params }, origin: 'cli', user: null });
        let j = await getJob(ctx.db, e.job.id);
        while (!j || !['completed', 'failed', 'cancelled'].includes(j.status)) {
          await new Promise((r) => setTimeout(r, 250));
          peakSeen = Math.max(peakSeen, ...childrenPeakMb().values());
          j = await getJob(ctx.db, e.job.id);
        }
        outputs.push({
          database: kind === 'sqlite' ? 'SQLite' : 'MySQL/MariaDB',
          task: `${task} ${Object.values(params).join(' ')}`.trim(),
          seconds: Math.round(((j.finishedAt ?? 0) - (j.startedAt ?? 0)) / 100) / 10,
          childPeakMb: Math.round(peakSeen),
          ...(await resultFigures(ctx.files, j.id, dir)),
          summary: j.resultSummary ?? j.error,
        });
      }
    }
    const n = Number((await ctx.db('descriptions').count({ n: '*' }).first())?.n ?? 0);
    return {
      database: kind === 'sqlite' ? 'SQLite' : 'MySQL/MariaDB',
      rows: n,
      seconds: Math.round(seconds * 10) / 10,
      rowsPerSecond: Math.round(n / seconds),
      childPeakMbBefore: Math.round(before),
      childPeakMb: Math.round(importPeak),
      status: done.status,
      summary: done.resultSummary ?? done.error,
    };
  } finally {
    await worker.stop(5000);
    await ctx.close();
    if (drop) await drop();
  }
}

const dir = mkdtempSync(join(tmpdir(), 'docket-import-bench-'));
try {
  const csv = join(dir, 'bench.csv');
  const t0 = Date.now();
  await generate(csv, ROWS);
  console.log(`generated ${ROWS} rows, ${(statSync(csv).size / 1048576).toFixed(1)} MB, in ${Date.now() - t0} ms`);
  const results: Result[] = [await runOn('sqlite', csv, dir)];
  if (MYSQL) results.push(await runOn('mysql', csv, dir));
  else console.log('MySQL skipped: pass --mysql URL or set DOCKET_TEST_MYSQL_URL');
  console.table(results);
  if (outputs.length) console.table(outputs);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
