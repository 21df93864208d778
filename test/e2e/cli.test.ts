/**
 * The command line as an administrator uses it: separate processes, real exit codes,
 * real stdout and stderr. Runs the build (the bundle `npm test` builds first), or the source
 * through tsx when the build is older than the source, so a stale build cannot mislead
 * (test/docket-cli.ts).
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DOCKET_CLI } from '../docket-cli.js';
import { backends, makeTestEnv, requireService, waitUntil, type TestEnv } from '../helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const cliArgs = DOCKET_CLI.args;

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
  describe(`docket CLI on ${backend.name}, from ${DOCKET_CLI.what}`, function () {
    this.timeout(60_000);
    let env: TestEnv;
    let worker: ChildProcess | null = null;
    let firstMigrate: Result;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      if (backend.transport === 'amqp') await requireService(this, 'amqp');
      env = await makeTestEnv(backend);
      firstMigrate = await docket(env.env, ['migrate']);
      expect(firstMigrate.code, firstMigrate.stderr).to.equal(0);
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

    it('jobs:retry refuses a job that failed on its input with exit 1 and one stderr line; retries one that failed otherwise', async () => {
      const gone = await docket(env.env, ['run', 'csv-export', '--description', 'no-such-description', '--wait']);
      expect(gone.code).to.equal(1);
      const id = /job (\d+) failed/.exec(gone.stderr)?.[1];
      expect(id, gone.stderr).to.be.a('string');
      const refused = await docket(env.env, ['jobs:retry', id!]);
      expect(refused.code).to.equal(1);
      expect(refused.stderr.trim().split('\n')).to.have.length(1);
      expect(refused.stderr.trim()).to.equal(
        `docket jobs:retry: job ${id} cannot be retried: its input was refused: the same input would fail again; correct it and run a new job`,
      );
      const other = await docket(env.env, ['run', 'sleep', '--seconds', '0', '--fail', '--wait']);
      const otherId = /job (\d+) failed/.exec(other.stderr)![1];
      const again = await docket(env.env, ['jobs:retry', otherId]);
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stdout).to.match(new RegExp(`job ${otherId} queued again`));
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

    it('migrate says which migrations it applied, then that the database is up to date', async () => {
      // Later migrations follow the ones named here (any number of them).
      expect(firstMigrate.stdout).to.match(/^applied \d+ migrations: 20261122000000_jobs, 20261122010000_sessions, .*20261129010000_token_expiry_user_disabled(, \d{14}_\w+)*\n$/);
      expect(firstMigrate.stdout).to.include('20261129050000_groups');
      const again = await docket(env.env, ['migrate']);
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stdout).to.equal('the database is up to date\n');
    });

    it('refuses unknown worker abilities as a usage error naming the tasks', async () => {
      const r = await docket(env.env, ['worker', '--abilities', 'noop,bogus']);
      expect(r.code).to.equal(2);
      expect(r.stderr.trim()).to.match(/^docket worker: --abilities: unknown task "bogus"; tasks: .*\bnoop\b.*\bprint\b/);
      expect(r.stderr.trim().split('\n')).to.have.length(1);
    });

    if (backend.transport === 'amqp') {
      it('run publishes the job itself once its broker connection is up: no "unreachable" line, dispatched at once', async () => {
        for (let i = 0; i < 3; i++) {
          const r = await docket(env.env, ['run', 'noop']);
          expect(r.code, r.stderr).to.equal(0);
          expect(r.stderr).to.equal('');
          const id = r.stdout.trim();
          const job = await waitUntil(async () => {
            const j = JSON.parse((await docket(env.env, ['jobs:show', id, '--json'])).stdout) as {
              status: string;
              queuedAt: number;
              dispatchedAt: number | null;
              startedAt: number | null;
            };
            return j.status === 'completed' ? j : null;
          }, 20_000, `job ${id} to complete`);
          // The dispatcher's sweep would republish it seconds later; the CLI's own publish is at once.
          expect(job.dispatchedAt, 'dispatched').to.be.a('number');
          expect(job.dispatchedAt! - job.queuedAt).to.be.below(1000);
          expect(job.startedAt! - job.queuedAt).to.be.below(1500);
        }
      });
    }

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

    it('lists, expires and revokes tokens, and disables users', async () => {
      expect((await docket(env.env, ['users:add', 'cleo', '--role', 'admin', '--password', 'cleo-password'])).code).to.equal(0);
      const bad = await docket(env.env, ['tokens:create', 'cleo', '--expires', '90 days']);
      expect(bad.code).to.equal(2);
      expect(bad.stderr.trim()).to.equal('docket tokens:create: --expires takes a number of days or hours such as 90d or 12h, not "90 days"');
      const made = await docket(env.env, ['tokens:create', 'cleo', '--label', 'nightly', '--expires', '90d']);
      expect(made.code, made.stderr).to.equal(0);
      expect(made.stdout.trim()).to.match(/^dkt_/);
      expect(made.stderr).to.match(/^the token expires at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\n$/);
      expect((await docket(env.env, ['tokens:create', 'cleo', '--expires', '12h'])).code).to.equal(0);

      const listed = await docket(env.env, ['tokens:list', 'cleo', '--json']);
      expect(listed.code, listed.stderr).to.equal(0);
      const tokens = JSON.parse(listed.stdout) as Array<Record<string, string | number | null>>;
      expect(tokens).to.have.length(2);
      const nightly = tokens.find((t) => t.label === 'nightly')!;
      expect(nightly).to.include({ user: 'cleo', state: 'active', lastUsedAt: null, revokedAt: null });
      const days = (Date.parse(String(nightly.expiresAt)) - Date.parse(String(nightly.createdAt))) / 86400_000;
      expect(days).to.be.closeTo(90, 0.01);
      const twelve = tokens.find((t) => t.label === 'cli')!;
      expect((Date.parse(String(twelve.expiresAt)) - Date.parse(String(twelve.createdAt))) / 3600_000).to.be.closeTo(12, 0.01);

      const text = await docket(env.env, ['tokens:list']);
      expect(text.stdout.split('\n')[0]).to.match(/^ID\s+USER\s+LABEL\s+STATE\s+CREATED\s+LAST USED\s+EXPIRES\s+REVOKED$/);
      expect(text.stdout).to.match(new RegExp(`^${String(nightly.id)}\\s+cleo\\s+nightly\\s+active\\s+\\S+ \\S+\\s+never\\s+\\d{4}-`, 'm'));

      const revoked = await docket(env.env, ['tokens:revoke', String(nightly.id)]);
      expect(revoked.code, revoked.stderr).to.equal(0);
      expect(revoked.stdout).to.equal(`token ${String(nightly.id)} revoked\n`);
      const after = JSON.parse((await docket(env.env, ['tokens:list', 'cleo', '--json'])).stdout) as Array<{ id: number; state: string }>;
      expect(after.find((t) => t.id === nightly.id)!.state).to.equal('revoked');
      expect((await docket(env.env, ['tokens:revoke', 'x'])).code).to.equal(2);
      const missing = await docket(env.env, ['tokens:revoke', '999999']);
      expect(missing.code).to.equal(1);
      expect(missing.stderr.trim()).to.equal('docket tokens:revoke: token 999999 does not exist');
      expect((await docket(env.env, ['tokens:list', 'nobody'])).stderr.trim()).to.equal('docket tokens:list: no user "nobody"');

      const disabled = await docket(env.env, ['users:disable', 'cleo']);
      expect(disabled.code, disabled.stderr).to.equal(0);
      expect(disabled.stdout).to.equal('user "cleo" disabled; its sessions and tokens no longer work\n');
      expect((await docket(env.env, ['users:disable', 'cleo'])).stdout).to.equal('user "cleo" was already disabled\n');
      const passwd = await docket(env.env, ['users:passwd', 'cleo'], 'another-password\n');
      expect(passwd.code, passwd.stderr).to.equal(0);
      expect(passwd.stdout).to.equal('password of "cleo" changed; its sessions are signed out\n');
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
