/**
 * `npm run faults [-- --full] [-- --only 1,4]`: the fault suite. Each scenario runs
 * against real MariaDB and RabbitMQ (and SQLite with the db transport where it
 * applies) and prints a table: jobs submitted, completed, failed with a reason,
 * cancelled, lost (none of those), completed twice, and the longest time a job stayed
 * `running` after its worker died.
 *
 * Targets, in every scenario: lost = 0, completed twice = 0, no job stuck beyond one
 * lease period (plus one sweep) after its worker died, and each scenario's own checks.
 * Exit status: 0 when every target is met, 1 when one is missed (or a scenario broke),
 * 2 on a usage error. Bounded in time; RabbitMQ and MariaDB are always left running.
 * Scenarios 8–10 run against a three-node RabbitMQ cluster of the suite's own (ports
 * 5811–5813), started once for all of them and always stopped at the end; skipped with
 * the reason where it cannot start (not root), failed under DOCKET_TEST_REQUIRE_SERVICES=1.
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

// Before any Docket module reads them: quiet logs, and the local services by default.
process.env.LOG_LEVEL ??= 'error';
process.env.DOCKET_TEST_MYSQL_URL ||= 'mysql://root@127.0.0.1:3306/test';
process.env.DOCKET_TEST_AMQP_URL ||= 'amqp://guest:guest@127.0.0.1:5672';

const USAGE = 'usage: npm run faults -- [--full] [--only 1,2,...] [--backend NAME]';
let args;
try {
  args = parseArgs({
    options: { full: { type: 'boolean', default: false }, only: { type: 'string' }, backend: { type: 'string' }, help: { type: 'boolean', default: false } },
    strict: true,
  }).values;
} catch (err) {
  process.stderr.write(`faults: ${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(`${USAGE}\n  --full   the full counts (1,000 jobs per run, every backend)\n  --only   scenarios to run, e.g. 1,4 (8-10: a RabbitMQ cluster, needs root)\n  --backend  only the backends whose name holds NAME, e.g. RabbitMQ\n`);
  process.exit(0);
}
const full = args.full;
const only = args.only ? args.only.split(',').map((s) => Number(s.trim())) : null;

const { brokenRow, missed, skippedRow, started } = await import('./harness.js');
const { stopSharedCluster } = await import('./cluster.js');
const { RabbitCluster } = await import('../cluster/rabbit-cluster.js');
const { REQUIRE_SERVICES } = await import('../helpers.js');
const { LEGEND, printTable } = await import('./report.js');
const { amqpProblem, mysqlProblem, restoreAll, servicesAreLocal, waitQuiet } = await import('./services.js');
const { scenarios } = await import('./scenarios/index.js');
const numbers = scenarios.map((s) => s.n);
if (only && only.some((n) => !numbers.includes(n))) {
  process.stderr.write(`faults: --only takes scenario numbers among ${numbers.join(', ')}\n${USAGE}\n`);
  process.exit(2);
}
type Row = import('./harness.js').Row;

const say = (s: string): void => void process.stderr.write(`faults: ${s}\n`);
// knex prints every failed connection attempt with console.log, hundreds while MariaDB
// is down on purpose; the suite writes its own lines with process.stdout/stderr.
console.log = () => undefined;
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const logRoot = join(tmpdir(), `docket-faults-${stamp}`);
mkdirSync(logRoot, { recursive: true });

// Whatever happens (a signal, the time bound), the shared services are left running.
let restoring: Promise<void> | null = null;
const restore = (): Promise<void> => (restoring ??= restoreAll(say).finally(() => (restoring = null)));
// The suite's own RabbitMQ cluster (scenarios 8–10) is stopped at the end, whatever happened.
const stopCluster = (): Promise<void> => stopSharedCluster().catch((e: Error) => say(`stopping the cluster: ${e.message}`));
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    say(`${sig}: restoring the services and stopping`);
    for (const p of started) p.kill('SIGKILL');
    void Promise.all([restore(), stopCluster()]).finally(() => process.exit(130));
  });
}
const boundMs = (full ? 90 : 25) * 60_000;
const watchdog = setTimeout(() => {
  say(`the suite passed its time bound of ${boundMs / 60_000} min; stopping`);
  for (const p of started) p.kill('SIGKILL');
  void Promise.all([restore(), stopCluster()]).finally(() => process.exit(1));
}, boundMs);
watchdog.unref();

await restore();
const mysqlDown = await mysqlProblem();
const amqpDown = await amqpProblem();
if (mysqlDown) say(`MariaDB is unreachable (${mysqlDown}): its runs are marked as broken`);
if (amqpDown) say(`RabbitMQ is unreachable (${amqpDown}): its runs are marked as broken`);

const out = (s: string): void => void process.stdout.write(s);
out(`Docket fault suite (${full ? 'full' : 'default'} counts); worker logs in ${logRoot}\n`);
const results: Array<{ n: number; title: string; rows: Row[] }> = [];
const t0 = Date.now();
try {
  for (const s of scenarios) {
    if (only && !only.includes(s.n)) continue;
    say(`scenario ${s.n}: ${s.title}`);
    const rows: Row[] = [];
    for (const backend of s.backends(full)) {
      if (args.backend && !backend.name.toLowerCase().includes(args.backend.toLowerCase())) continue;
      const t = Date.now();
      let row: Row;
      const unreachable = (backend.db === 'mysql' && mysqlDown) || (backend.transport === 'amqp' && !s.cluster && amqpDown);
      const noCluster = s.cluster ? RabbitCluster.unavailable() : null;
      if (unreachable) {
        row = brokenRow(backend.name, t, `not run: ${unreachable}`);
      } else if (noCluster && REQUIRE_SERVICES) {
        row = brokenRow(backend.name, t, `not run: a RabbitMQ cluster is required (DOCKET_TEST_REQUIRE_SERVICES=1) but ${noCluster}`);
      } else if (noCluster) {
        row = skippedRow(backend.name, noCluster);
      } else if (s.stopsSharedService && !servicesAreLocal()) {
        row = brokenRow(backend.name, t, 'not run: stopping the services needs them local and root');
      } else if (s.stopsSharedService && !(await waitQuiet(full ? 900_000 : 300_000, say))) {
        row = brokenRow(backend.name, t, 'not run: other test runs kept using the shared services');
      } else {
        try {
          row = await s.run(backend, { full, say, logDir: join(logRoot, `s${s.n}`) });
        } finally {
          // A scenario that stopped a service has started it again; make sure.
          if (s.stopsSharedService) await restore();
        }
      }
      const m = missed(row);
      say(`  ${backend.name}: ${m.length ? `MISSED: ${m.join('; ')}` : 'ok'} (${Math.round((Date.now() - t) / 1000)} s)`);
      rows.push(row);
    }
    results.push({ n: s.n, title: s.title, rows });
    // Each table as soon as its scenario is done: a long run shows its progress.
    printTable(s.n, s.title, rows, out);
  }
} finally {
  await restore();
  await stopCluster();
}

const failures = results.reduce((n, r) => n + r.rows.filter((row) => missed(row).length > 0).length, 0);
const total = results.reduce((n, r) => n + r.rows.length, 0);
const skipped = results.reduce((n, r) => n + r.rows.filter((row) => row.skipped).length, 0);
out(`\n${LEGEND}\n\nfault suite: ${Math.round((Date.now() - t0) / 1000)} s\n${total - failures - skipped} passed, ${failures} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
clearTimeout(watchdog);
process.exit(failures > 0 ? 1 : 0);
