/**
 * The command line as an administrator uses it: separate processes, real exit codes,
 * real stdout and stderr. Runs the source through tsx, so a stale build cannot mislead.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { backends, makeTestEnv, requireService, waitUntil, type TestEnv } from '../helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const cliArgs = ['--import', 'tsx', join(ROOT, 'cli', 'docket.ts')];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function docket(env: NodeJS.ProcessEnv, args: string[], input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [...cliArgs, ...args], { env, cwd: ROOT });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    if (input !== undefined) p.stdin.end(input);
    else p.stdin.end();
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

for (const backend of backends()) {
  describe(`docket CLI on ${backend.name}`, function () {
    this.timeout(60_000);
    let env: TestEnv;
    let worker: ChildProcess | null = null;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      if (backend.transport === 'amqp') await requireService(this, 'amqp');
      env = await makeTestEnv(backend);
      const m = await docket(env.env, ['migrate']);
      expect(m.code, m.stderr).to.equal(0);
      worker = spawn(process.execPath, [...cliArgs, 'worker', '--concurrency', '2'], { env: env.env, cwd: ROOT, stdio: 'ignore' });
    });

    after(async () => {
      if (worker) {
        worker.kill('SIGTERM');
        await new Promise((r) => worker!.once('exit', r));
      }
      await env?.cleanup();
    });

    it('run print --lines 5000 --wait streams every line and exits 0', async () => {
      const r = await docket(env.env, ['run', 'print', '--lines', '5000', '--wait']);
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines).to.have.length(5000);
      expect(lines[0]).to.equal('line 1');
      expect(lines[4999]).to.equal('line 5000');
      expect(r.stderr).to.match(/job (\d+) completed: printed 5000 lines/);
      const id = /job (\d+) queued/.exec(r.stderr)![1];

      const show = await docket(env.env, ['jobs:show', id]);
      expect(show.code).to.equal(0);
      expect(show.stdout).to.match(/Status:\s+Completed/);
      expect(show.stdout).to.match(/User:\s+Command line \(cli\)/);
      expect(show.stdout).to.match(/Started:\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
      expect(show.stdout).to.match(/Finished:\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
      expect(show.stdout).to.match(/Worker:\s+\S+-\d+-[0-9a-f]{6}/);
      expect(show.stdout).to.include('line 1\n');
      expect(show.stdout).to.include('line 5000\n');
    });

    it('shows a running job with its progress on the active tab', async () => {
      const r = await docket(env.env, ['run', 'sleep', '--seconds', '30']);
      expect(r.code, r.stderr).to.equal(0);
      const id = Number(r.stdout.trim());
      expect(id).to.be.greaterThan(0);
      const job = await waitUntil(async () => {
        const l = await docket(env.env, ['jobs:list', '--tab', 'active', '--json']);
        const jobs = JSON.parse(l.stdout) as Array<{ id: number; status: string; progress: { current: number; total: number } | null }>;
        const j = jobs.find((x) => x.id === id);
        return j && j.status === 'running' && j.progress && j.progress.current >= 1 ? j : null;
      }, 20_000, 'the sleep job to run with progress');
      expect(job.progress!.total).to.equal(30);
      const table = await docket(env.env, ['jobs:list', '--tab', 'active']);
      expect(table.stdout).to.match(new RegExp(`^${id}\\s+sleep\\s+Running\\s+\\d+/30\\s+Command line`, 'm'));
      const c = await docket(env.env, ['jobs:cancel', String(id)]);
      expect(c.code).to.equal(0);
      expect(c.stdout).to.match(/being stopped/);
    });

    it('jobs:list --json prints the stable fields', async () => {
      const r = await docket(env.env, ['jobs:list', '--json', '--limit', '2']);
      expect(r.code).to.equal(0);
      const jobs = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
      expect(jobs).to.have.length(2);
      for (const key of ['id', 'task', 'status', 'user', 'queuedAt', 'startedAt', 'finishedAt']) expect(jobs[0]).to.have.property(key);
      expect((jobs[0].id as number) > (jobs[1].id as number)).to.equal(true);
    });

    it('run --wait exits 1 with the reason when the job fails', async () => {
      const r = await docket(env.env, ['run', 'sleep', '--seconds', '0', '--fail', '--wait']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/job \d+ failed: sleep finished and failed on purpose/);
    });

    it('answers bad input with exit 2 and one line on stderr', async () => {
      const cases: Array<[string[], RegExp]> = [
        [['run', 'frobnicate'], /unknown task "frobnicate"; tasks: /],
        [['run', 'print', '--lines', 'many'], /parameter "lines" must be a number/],
        [['run', 'print', '--colour', 'red'], /unknown parameter "colour"/],
        [['jobs:show', 'abc'], /a job id is a positive whole number/],
        [['jobs:list', '--tab', 'nope'], /Allowed choices are all, active, failed/],
        [['nosuchcommand'], /unknown command/],
      ];
      for (const [args, message] of cases) {
        const r = await docket(env.env, args);
        expect(r.code, args.join(' ')).to.equal(2);
        expect(r.stderr, args.join(' ')).to.match(message);
        expect(r.stderr).to.not.match(/\n\s+at /); // no stack trace
      }
    });

    it('answers a job that does not exist with exit 1', async () => {
      const r = await docket(env.env, ['jobs:show', '999999']);
      expect(r.code).to.equal(1);
      expect(r.stderr.trim()).to.equal('docket jobs:show: job 999999 does not exist');
    });

    it('adds users, reads the password from stdin, and creates tokens', async () => {
      const add = await docket(env.env, ['users:add', 'ann', '--role', 'archivist'], 'correct horse\n');
      expect(add.code, add.stderr).to.equal(0);
      const token = await docket(env.env, ['tokens:create', 'ann']);
      expect(token.code).to.equal(0);
      expect(token.stdout.trim()).to.match(/^dkt_[A-Za-z0-9_-]{32}$/);
      const dup = await docket(env.env, ['users:add', 'ann', '--role', 'archivist', '--password', 'whatever12']);
      expect(dup.code).to.equal(1);
      expect(dup.stderr).to.match(/user "ann" already exists/);
      const short = await docket(env.env, ['users:add', 'bob', '--role', 'archivist', '--password', 'x']);
      expect(short.code).to.equal(2);
      expect(short.stderr).to.match(/at least 8 characters/);
    });

    it('pauses and resumes processing', async () => {
      expect((await docket(env.env, ['queue:pause'])).code).to.equal(0);
      const s = await docket(env.env, ['queue:status', '--json']);
      expect(JSON.parse(s.stdout)).to.include({ paused: true });
      const r = await docket(env.env, ['run', 'noop']);
      const id = r.stdout.trim();
      await new Promise((res) => setTimeout(res, 2000));
      const show = await docket(env.env, ['jobs:show', id, '--json']);
      expect(JSON.parse(show.stdout).status).to.equal('queued');
      expect((await docket(env.env, ['queue:resume'])).code).to.equal(0);
      await waitUntil(async () => {
        const j = await docket(env.env, ['jobs:show', id, '--json']);
        return JSON.parse(j.stdout).status === 'completed';
      }, 15_000, 'the job to run after resume');
    });
  });
}

describe('docket CLI start-up errors', function () {
  this.timeout(30_000);

  it('names a bad DATABASE_URL in one line, without a stack trace', async () => {
    const r = await docket({ ...process.env, DATABASE_URL: 'postgres://nowhere/db' }, ['jobs:list']);
    expect(r.code).to.equal(1);
    expect(r.stderr.trim()).to.equal('docket jobs:list: DATABASE_URL must start with mysql:// or sqlite:, not "postgres://"');
  });

  it('names an unreachable database', async () => {
    const r = await docket({ ...process.env, DATABASE_URL: 'mysql://root@127.0.0.1:1/none' }, ['jobs:list']);
    expect(r.code).to.equal(1);
    expect(r.stderr.trim()).to.match(/^docket jobs:list: cannot open the MySQL database at mysql:\/\/root@127\.0\.0\.1:1\/none: .*ECONNREFUSED/);
  });

  it('names an unreachable broker when a worker starts', async () => {
    const env = await makeTestEnv({ db: 'sqlite', transport: 'db' });
    try {
      const r = await docket({ ...env.env, AMQP_URL: 'amqp://guest:guest@127.0.0.1:1/' }, ['worker']);
      expect(r.code).to.equal(1);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
      expect(r.stderr).to.match(/cannot reach RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1\/: .*ECONNREFUSED/);
    } finally {
      await env.cleanup();
    }
  });
});
