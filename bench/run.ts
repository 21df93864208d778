/**
 * `npm run bench [-- --quick] [-- --only 1,2] [-- --full]`: Docket's benchmarks, side
 * by side with BullMQ where the issue asks for it. Prints a table at the end and
 * writes it as JSON to bench/results/<date>.json (quick runs to quick-<date>.json,
 * which is not kept in git).
 *
 * Exit status: 0 when every scenario that could run ran (a missed target is a finding,
 * not a failure; a missing service is said plainly and its scenarios skipped), 1 when
 * a scenario broke, 2 on a usage error.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

// Before any Docket module reads them: quiet logs, kept out of the project's logs/.
process.env.LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'warn';
process.env.DOCKET_LOG_DIR ??= join(tmpdir(), 'docket-bench-logs');

const { DOCKET_ENTRY, ROOT } = await import('./lib/proc.js');
const { probe, SERVICE_NAMES } = await import('./lib/services.js');
const { table } = await import('./lib/report.js');
const { releaseMillion } = await import('./lib/million.js');
type Service = import('./lib/services.js').Service;
type Row = import('./lib/types.js').Row;
type Scenario = import('./lib/types.js').Scenario;

const USAGE = 'usage: npm run bench -- [--quick] [--full] [--only 1,2,...] [--runs N]';

let args;
try {
  args = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      only: { type: 'string' },
      runs: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  }).values;
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(
    `${USAGE}\n  --quick  small counts, one run each, under two minutes (CI); asserts no speed\n` +
      '  --full   five runs per figure instead of three\n  --only   scenarios to run, e.g. 1,2\n' +
      '  --runs   runs per figure\n',
  );
  process.exit(0);
}
if (args.quick && args.full) {
  process.stderr.write(`bench: --quick and --full exclude each other\n${USAGE}\n`);
  process.exit(2);
}

const all: Scenario[] = [];
for (const file of ['s1-throughput', 's2-latency', 's3-sqlite', 's4-jobs-page', 's5-export', 's6-output', 's7-memory', 's8-cli-run', 's9-file-store', 's10-retention', 's11-mixed']) {
  const mod = (await import(`./scenarios/${file}.js`)) as { scenario: Scenario };
  all.push(mod.scenario);
}

let selected = all;
if (args.only) {
  const wanted = args.only.split(',').map((s) => Number(s.trim()));
  const unknown = wanted.filter((w) => !all.some((s) => s.id === w));
  if (unknown.length || wanted.length === 0) {
    process.stderr.write(`bench: --only takes scenario numbers from 1 to ${all.length}, not "${args.only}"\n`);
    process.exit(2);
  }
  selected = all.filter((s) => wanted.includes(s.id));
}
const runs = args.runs ? Number(args.runs) : args.quick ? 1 : args.full ? 5 : 3;
if (!Number.isInteger(runs) || runs < 1 || runs > 20) {
  process.stderr.write(`bench: --runs must be a whole number from 1 to 20\n`);
  process.exit(2);
}

/**
 * Seconds each scenario may take in the default run, so that the whole stays under ten
 * minutes on two cores. A scenario stops repeating its runs when the next would not
 * fit, and says how many it made; --full lifts the budgets.
 */
const BUDGET_S: Record<number, number> = { 1: 360, 2: 160, 3: 75, 4: 100, 5: 45, 6: 20, 7: 75, 8: 30, 9: 90, 10: 120, 11: 90 };

const log = (m: string): void => void process.stderr.write(`${m}\n`);
// Read before the run: the work tree is shared, and the Docket processes start from it now.
const measured = revision();
const loadAtStart = loadavg();
log(
  `measuring commit ${measured.commit?.slice(0, 10) ?? 'unknown'}` +
    (measured.modified.length ? ` with uncommitted changes to ${measured.modified.join(', ')}` : ''),
);
const started = Date.now();
log(`Docket benchmarks: ${args.quick ? 'quick' : args.full ? 'full' : 'default'} run, ${runs} run(s) per figure`);
log(`docket processes run from ${DOCKET_ENTRY}`);
log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);

const needed = [...new Set(selected.flatMap((s) => s.needs))];
const missing = new Map<Service, string>();
for (const s of needed) {
  const why = await probe(s);
  if (why) {
    missing.set(s, why);
    log(`MISSING: ${why}`);
  } else log(`found ${SERVICE_NAMES[s]}`);
}

const rows: Row[] = [];
const skipped: Array<{ id: number; title: string; why: string }> = [];
const broken: Array<{ id: number; title: string; error: string }> = [];
const timings: Record<string, number> = {};
for (const s of selected) {
  const lacking = s.needs.filter((n) => missing.has(n));
  if (lacking.length) {
    const why = `needs ${lacking.map((n) => SERVICE_NAMES[n]).join(' and ')}, which is unreachable`;
    log(`\n[${s.id}] ${s.title}: SKIPPED, ${why}`);
    skipped.push({ id: s.id, title: s.title, why });
    continue;
  }
  log(`\n[${s.id}] ${s.title}`);
  const t = Date.now();
  try {
    const deadline = args.full || args.runs ? Infinity : t + (BUDGET_S[s.id] ?? 60) * 1000;
    const got = await s.run({ quick: args.quick, runs, log, timeFor: (ms) => Date.now() + ms <= deadline });
    rows.push(...got);
    for (const r of got) log(`  ${r.measure}: ${r.value.median.toFixed(2)} ${r.unit}`);
  } catch (err) {
    const e = err as Error;
    log(`  BROKEN: ${e.stack ?? e.message}`);
    broken.push({ id: s.id, title: s.title, error: e.message });
  }
  timings[s.id] = Math.round((Date.now() - t) / 1000);
  log(`  (${timings[s.id]} s)`);
}

await releaseMillion().catch((err: unknown) => log(`could not drop the million-job database: ${String(err)}`));

const elapsed = Math.round((Date.now() - started) / 1000);
const printed = table(rows, skipped);
process.stdout.write(`\n${printed}\n\n`);
for (const b of broken) process.stdout.write(`scenario ${b.id} (${b.title}) BROKE: ${b.error}\n`);
process.stdout.write(`${rows.filter((r) => r.pass === false).length} target(s) missed; ${elapsed} s in all\n`);

/** The commit measured, and whether engine files differed from it (a shared work tree). */
function revision(): { commit: string | null; modified: string[] } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const status = execFileSync('git', ['status', '--porcelain', '--', 'app', 'workers', 'cli', 'db'], { cwd: ROOT, encoding: 'utf8' });
    return { commit, modified: status.split('\n').filter(Boolean).map((l) => l.slice(3)) };
  } catch {
    return { commit: null, modified: [] };
  }
}

const date = new Date().toISOString().slice(0, 10);
const dir = join(ROOT, 'bench', 'results');
mkdirSync(dir, { recursive: true });
// Only a complete default or --full run takes the dated name; a partial one must not
// overwrite it (quick-* and partial-* files are not kept in git).
const partial = Boolean(args.only || args.runs);
const file = join(dir, `${args.quick ? 'quick-' : partial ? 'partial-' : ''}${date}.json`);
writeFileSync(
  file,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      mode: args.quick ? 'quick' : args.full ? 'full' : 'default',
      runs,
      elapsedSeconds: elapsed,
      scenarioSeconds: timings,
      revision: measured,
      // Other work on a shared machine shows here: the 1, 5 and 15 minute load averages.
      load: { start: loadAtStart, end: loadavg() },
      machine: { cpus: cpus().length, model: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
      rows,
      skipped,
      broken,
    },
    null,
    2,
  )}\n`,
);
process.stdout.write(`results: ${file}\n`);
process.exit(broken.length ? 1 : 0);
