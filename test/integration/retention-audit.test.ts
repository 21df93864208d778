/**
 * Retention, discarding one job and the audit trail, on SQLite and MariaDB: what goes,
 * what stays, who may discard what, and the audit rows each action leaves (actor,
 * address, target), read on the administrators' page, as CSV and from the CLI.
 */
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../../app/context.js';
import { Retention } from '../../app/retention.js';
import { insertAudit, type AuditEntry } from '../../app/store/audit.js';
import { clearableCounts } from '../../app/store/job-subjects.js';
import { createToken } from '../../app/store/tokens.js';
import { backends, requireService } from '../helpers.js';
import { cancelled, Client, completed, ECHO_TASK, failed, loggedIn, PASSWORDS, running, startWeb, type Web } from './web-fixture.js';

const DAY = 24 * 3600 * 1000;
const ROOT = join(import.meta.dirname, '..', '..');

function docket(env: NodeJS.ProcessEnv, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'docket.ts'), ...args], { env, cwd: ROOT });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.stdin.end();
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function endedDaysAgo(ctx: Context, id: number, days: number): Promise<void> {
  await ctx.db('jobs').where('id', id).update({ finished_at: Date.now() - days * DAY });
}

async function withOutput(ctx: Context, id: number): Promise<void> {
  await ctx.db('job_output').insert({ job_id: id, attempt: 1, stream: 'stdout', chunk: `output of ${id}\n`, at: Date.now() });
}

const count = async (ctx: Context, table: string, id: number): Promise<number> =>
  Number(((await ctx.db(table).where(table === 'jobs' ? 'id' : 'job_id', id).count({ n: '*' }).first()) as { n: number }).n);

async function auditRows(ctx: Context, action: string): Promise<AuditEntry[]> {
  return (await ctx.db('audit').where('action', action).orderBy('id', 'asc')) as AuditEntry[];
}

for (const backend of backends().filter((b) => b.transport === 'db')) {
  describe(`retention, discard and audit on ${backend.name}`, function () {
    this.timeout(60_000);
    let web: Web;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      web = await startWeb(backend);
    });
    after(async () => web?.close());

    describe('retention', () => {
      it('removes completed and cancelled jobs past 30 days and failed ones past 90, with events, output and files; keeps the rest', async () => {
        const { ctx, users } = web;
        const oldDone = await completed(ctx, users.alice, { file: { stored: 'old-aid.pdf', downloadName: 'aid.pdf', content: 'pdf' } });
        const oldCancelled = await cancelled(ctx, users.bob);
        const oldFailed = await failed(ctx, null);
        const youngFailed = await failed(ctx, users.alice);
        const recentDone = await completed(ctx, users.alice);
        const stillRunning = await running(ctx, users.bob);
        await endedDaysAgo(ctx, oldDone.id, 31);
        await endedDaysAgo(ctx, oldCancelled.id, 45);
        await endedDaysAgo(ctx, oldFailed.id, 91);
        await endedDaysAgo(ctx, youngFailed.id, 60);
        await endedDaysAgo(ctx, recentDone.id, 29);
        for (const j of [oldDone, oldFailed, recentDone]) await withOutput(ctx, j.id);
        // What else names a job: its subscriptions, its notifications, an import's checkpoint.
        for (const j of [oldDone, recentDone]) {
          await ctx.db('job_subscriptions').insert({ job_id: j.id, event: 'completed', kind: 'mail', target: null });
          await ctx.db('outbox').insert({ job_id: j.id, event: 'completed', kind: 'mail', target: null, state: 'sent', created_at: 1, due_at: 1 });
          await ctx.db('import_checkpoints').insert({ job_id: j.id, last_row: 3, state: '{}', updated_at: 1 });
        }
        expect(existsSync(join(ctx.config.resultsDir, 'old-aid.pdf'))).to.equal(true);
        await insertAudit(ctx.db, { at: Date.now() - 400 * DAY, actor: 'alice', address: '127.0.0.1', action: 'login', target: 'user alice', detail: null });
        await insertAudit(ctx.db, { at: Date.now() - 300 * DAY, actor: 'bob', address: '127.0.0.1', action: 'login', target: 'user bob', detail: null });

        const round = await new Retention(ctx.service).run();

        expect(round.jobs).to.equal(3);
        expect(round.audit).to.equal(1);
        for (const j of [oldDone, oldCancelled, oldFailed]) {
          expect(await count(ctx, 'jobs', j.id), `job ${j.id}`).to.equal(0);
          expect(await count(ctx, 'job_events', j.id), `events of ${j.id}`).to.equal(0);
          expect(await count(ctx, 'job_output', j.id), `output of ${j.id}`).to.equal(0);
        }
        for (const table of ['job_subscriptions', 'outbox', 'import_checkpoints']) {
          expect(await count(ctx, table, oldDone.id), `${table} of ${oldDone.id}`).to.equal(0);
          expect(await count(ctx, table, recentDone.id), `${table} of ${recentDone.id}`).to.equal(1);
        }
        for (const j of [youngFailed, recentDone, stillRunning]) expect(await count(ctx, 'jobs', j.id), `job ${j.id}`).to.equal(1);
        expect(await count(ctx, 'job_output', recentDone.id)).to.equal(1);
        expect(await count(ctx, 'job_events', recentDone.id)).to.be.greaterThan(1);
        expect(existsSync(join(ctx.config.resultsDir, 'old-aid.pdf'))).to.equal(false);
        const logins = (await auditRows(ctx, 'login')).map((r) => r.actor);
        expect(logins).to.not.include('alice');
        expect(logins).to.include('bob');
        const expired = await auditRows(ctx, 'jobs.expire');
        expect(expired.at(-1)).to.include({ actor: 'Retention', target: '3 job(s)' });
      });

      it('one process at a time: the round holds the shared due time, and another process waits for it', async () => {
        const { ctx } = web;
        await ctx.db('settings').where('name', 'retention_due').delete();
        type Claims = { claim(): Promise<boolean>; renew(): Promise<boolean>; heldAt: number };
        const a = new Retention(ctx.service) as unknown as Claims;
        const b = new Retention(ctx.service) as unknown as Claims;
        expect(await a.claim()).to.equal(true);
        expect(await b.claim()).to.equal(false);
        // A long round moves the due time on; the other process still finds it taken.
        a.heldAt = 0;
        expect(await a.renew()).to.equal(true);
        expect(await b.claim()).to.equal(false);
        // A holder whose due time was taken over (it stalled past it) stops.
        await ctx.db('settings').where('name', 'retention_due').update({ value: '0' });
        expect(await b.claim()).to.equal(true);
        a.heldAt = 0;
        expect(await a.renew()).to.equal(false);
        await ctx.db('settings').where('name', 'retention_due').delete();
      });

      it("counts what clear would remove at most to a cap, as the jobs page asks on every load (a backlog is not read whole)", async () => {
        const { ctx, users } = web;
        for (let i = 0; i < 3; i++) await completed(ctx, users.bob);
        const scope = { userId: users.bob.id, includeCommandLine: false };
        const exact = await clearableCounts(ctx.db, scope);
        expect(exact.jobs).to.be.at.least(3);
        expect(exact.capped).to.equal(false);
        expect(await clearableCounts(ctx.db, scope, 2)).to.deep.include({ jobs: 2, capped: true });
        expect(await clearableCounts(ctx.db, scope, exact.jobs)).to.deep.include({ jobs: exact.jobs, capped: false });
      });

      it('says the rule on the jobs page', async () => {
        const alice = await loggedIn(web.base, 'alice');
        const page = await alice.get('/jobs');
        expect(page.text).to.include('Finished jobs are kept 30 days; failed ones 90 days.');
      });
    });

    describe('discard', () => {
      it('an owner discards a finished job from its page, after a confirmation, with a CSRF token', async () => {
        const { ctx, users } = web;
        const job = await completed(ctx, users.alice);
        await withOutput(ctx, job.id);
        const alice = await loggedIn(web.base, 'alice');
        const page = await alice.get(`/jobs/${job.id}`);
        expect(page.text).to.include(`href="/jobs/${job.id}/discard"`);
        const confirm = await alice.get(`/jobs/${job.id}/discard`);
        expect(confirm.status).to.equal(200);
        expect(confirm.text).to.include(`Discard job ${job.id}?`);
        const forged = await alice.request('POST', `/jobs/${job.id}/discard`, { form: { confirm: 'yes' } });
        expect(forged.status).to.equal(403);
        expect(await count(ctx, 'jobs', job.id)).to.equal(1);
        const r = await alice.post(`/jobs/${job.id}/discard`, { confirm: 'yes' });
        expect(r.status).to.equal(303);
        expect(await count(ctx, 'jobs', job.id)).to.equal(0);
        expect(await count(ctx, 'job_events', job.id)).to.equal(0);
        expect(await count(ctx, 'job_output', job.id)).to.equal(0);
        const row = (await auditRows(ctx, 'job.discard')).at(-1);
        expect(row).to.include({ actor: 'alice', target: `job ${job.id}` });
        expect(row?.address).to.match(/127\.0\.0\.1/);
      });

      it("an archivist cannot discard another's job (404) nor a running one (409); an administrator not a user's (403)", async () => {
        const { ctx, users } = web;
        const bobs = await completed(ctx, users.bob);
        const active = await running(ctx, users.alice);
        const alices = await failed(ctx, users.alice);
        const alice = await loggedIn(web.base, 'alice');
        expect((await alice.post(`/jobs/${bobs.id}/discard`, { confirm: 'yes' })).status).to.equal(404);
        expect((await alice.post(`/jobs/${active.id}/discard`, { confirm: 'yes' })).status).to.equal(409);
        expect((await alice.get(`/jobs/${active.id}`)).text).to.not.include(`/jobs/${active.id}/discard`);
        const admin = await loggedIn(web.base, 'admin');
        expect((await admin.post(`/jobs/${alices.id}/discard`, { confirm: 'yes' })).status).to.equal(403);
        const cli = await completed(ctx, null);
        expect((await admin.post(`/jobs/${cli.id}/discard`, { confirm: 'yes' })).status).to.equal(303);
        for (const j of [bobs, active, alices]) expect(await count(ctx, 'jobs', j.id)).to.equal(1);
        expect(await count(ctx, 'jobs', cli.id)).to.equal(0);
      });

      it('DELETE /api/jobs/:id answers 204, 409 for an active job, 404 for one the user may not see', async () => {
        const { ctx, users } = web;
        const api = new Client(web.base, await createToken(ctx.db, users.alice.id, 'tests'));
        const mine = await cancelled(ctx, users.alice);
        const active = await running(ctx, users.alice);
        const bobs = await completed(ctx, users.bob);
        const del = await api.request('DELETE', `/api/jobs/${mine.id}`);
        expect(del.status).to.equal(204);
        expect(del.text).to.equal('');
        expect(await count(ctx, 'jobs', mine.id)).to.equal(0);
        expect((await api.request('DELETE', `/api/jobs/${mine.id}`)).status).to.equal(404);
        const conflict = await api.request('DELETE', `/api/jobs/${active.id}`);
        expect(conflict.status).to.equal(409);
        expect(conflict.json<{ error: { message: string } }>().error.message).to.match(/cancel it first/);
        expect((await api.request('DELETE', `/api/jobs/${bobs.id}`)).status).to.equal(404);
        expect(await count(ctx, 'jobs', bobs.id)).to.equal(1);
        expect((await auditRows(ctx, 'job.discard')).at(-1)).to.include({ actor: 'alice', target: `job ${mine.id}` });
      });
    });

    describe('audit trail', () => {
      it('records logins, failed logins, cancel, retry, clear, pause, resume and token revocation with actor, address and target', async () => {
        const { ctx, users } = web;
        const failedLogin = await new Client(web.base).login('alice', 'wrong-password');
        expect(failedLogin.status).to.equal(401);
        const alice = await loggedIn(web.base, 'alice');
        const q = await running(ctx, users.alice);
        await alice.get(`/jobs/${q.id}`);
        expect((await alice.post(`/jobs/${q.id}/cancel`)).status).to.equal(303);
        const f = await failed(ctx, users.alice, 'it broke', ECHO_TASK);
        await alice.get(`/jobs/${f.id}`);
        expect((await alice.post(`/jobs/${f.id}/retry`)).status).to.equal(303);
        await alice.get('/jobs/clear-inactive');
        expect((await alice.post('/jobs/clear-inactive', { confirm: 'yes' })).status).to.equal(303);
        const admin = await loggedIn(web.base, 'admin');
        expect((await admin.post('/queue/pause')).status).to.equal(303);
        expect((await admin.post('/queue/resume', { confirm: 'yes' })).status).to.equal(303);
        await createToken(ctx.db, users.bob.id, 'to revoke');
        const tokenId = Number(((await ctx.db('api_tokens').max({ id: 'id' }).first()) as { id: number }).id);
        await admin.get('/tokens');
        expect((await admin.post(`/tokens/${tokenId}/revoke`)).status).to.equal(303);

        const last = async (action: string) => (await auditRows(ctx, action)).at(-1);
        expect(await last('login.failed')).to.include({ actor: 'alice', target: 'user alice' });
        expect(await last('login')).to.include({ actor: 'admin', target: 'user admin' });
        expect(await last('job.cancel')).to.include({ actor: 'alice', target: `job ${q.id}`, detail: 'cancel-requested' });
        expect(await last('job.retry')).to.include({ actor: 'alice', target: `job ${f.id}` });
        expect((await last('jobs.clear'))?.actor).to.equal('alice');
        expect(await last('queue.pause')).to.include({ actor: 'admin' });
        expect(await last('queue.resume')).to.include({ actor: 'admin' });
        expect(await last('token.revoke')).to.include({ actor: 'admin', target: `token ${tokenId} of bob`, detail: 'to revoke' });
        for (const a of ['login.failed', 'login', 'job.cancel', 'queue.pause', 'token.revoke']) {
          expect((await last(a))?.address, a).to.match(/^(::ffff:)?127\.0\.0\.1$/);
          expect(Number((await last(a))?.at)).to.be.closeTo(Date.now(), 60_000);
        }
      });

      it('is for administrators: the page with filters and keyset pages, and the CSV export', async () => {
        const { ctx } = web;
        for (let i = 0; i < 120; i++) {
          await insertAudit(ctx.db, { at: Date.now() - 1000, actor: 'pager', address: '10.0.0.1', action: 'job.retry', target: `job ${9000 + i}`, detail: null });
        }
        const alice = await loggedIn(web.base, 'alice');
        expect((await alice.get('/audit')).status).to.equal(403);
        expect((await alice.get('/audit/export.csv')).status).to.equal(403);
        const admin = await loggedIn(web.base, 'admin');
        const first = await admin.get('/audit?actor=pager&action=job.retry&since=1d');
        expect(first.status).to.equal(200);
        const ids = (html: string) => [...html.matchAll(/data-audit-id="(\d+)"/g)].map((m) => Number(m[1]));
        expect(ids(first.text)).to.have.length(100);
        expect(first.text).to.include('job 9119');
        const href = /href="(\/audit\?[^"]*after=\d+)"/.exec(first.text.replace(/&amp;/g, '&'))?.[1];
        expect(href, 'a link to older entries').to.be.a('string');
        expect(href).to.include('actor=pager');
        const second = await admin.get(href as string);
        expect(ids(second.text)).to.have.length(20);
        expect(second.text).to.include('job 9000');
        expect(Math.max(...ids(second.text))).to.be.lessThan(Math.min(...ids(first.text)));
        expect((await admin.get('/audit?since=yesterday')).status).to.equal(400);
        expect((await admin.get('/audit?action=nonsense')).status).to.equal(400);
        const csv = await admin.get('/audit/export.csv?actor=pager');
        expect(csv.status).to.equal(200);
        expect(csv.headers.get('content-type')).to.match(/^text\/csv/);
        const lines = csv.text.trimEnd().split('\n');
        expect(lines[0]).to.equal('time,actor,address,action,target,detail,id');
        expect(lines).to.have.length(121);
        expect(lines[1]).to.match(/^\d{4}-\d\d-\d\dT[\d:.]+Z,pager,10\.0\.0\.1,job\.retry,job 9119,,\d+$/);
      });

      it('the CLI discards, records its own actions as "Command line" and prints the trail', async function () {
        // Nine `docket` processes, each started through tsx: a minute or more on a loaded machine.
        this.timeout(180_000);
        const { ctx, users, env } = web;
        const done = await completed(ctx, users.alice);
        const active = await running(ctx, users.bob);
        const del = await docket(env.env, ['jobs:delete', String(done.id)]);
        expect(del.code, del.stderr).to.equal(0);
        expect(del.stdout).to.equal(`job ${done.id} discarded\n`);
        expect(await count(ctx, 'jobs', done.id)).to.equal(0);
        const refused = await docket(env.env, ['jobs:delete', String(active.id)]);
        expect(refused.code).to.equal(1);
        expect(refused.stderr).to.match(/only completed, failed or cancelled jobs can be discarded/);
        expect((await docket(env.env, ['users:passwd', 'bob', '--password', PASSWORDS.bob])).code).to.equal(0);
        expect((await docket(env.env, ['queue:pause'])).code).to.equal(0);
        expect((await docket(env.env, ['queue:resume'])).code).to.equal(0);
        expect((await docket(env.env, ['tokens:create', 'alice', '--label', 'ci'])).code).to.equal(0);
        expect((await auditRows(ctx, 'job.discard')).at(-1)).to.include({ actor: 'Command line', target: `job ${done.id}`, address: null });
        expect((await auditRows(ctx, 'user.password')).at(-1)).to.include({ actor: 'Command line', target: 'user bob' });
        expect((await auditRows(ctx, 'token.create')).at(-1)).to.include({ actor: 'Command line', target: 'token of alice', detail: 'ci' });

        const json = await docket(env.env, ['audit', '--actor', 'Command line', '--since', '1h', '--json']);
        expect(json.code, json.stderr).to.equal(0);
        const rows = JSON.parse(json.stdout) as Array<{ action: string; actor: string; at: string }>;
        expect(rows.map((r) => r.action)).to.deep.equal(['token.create', 'queue.resume', 'queue.pause', 'user.password', 'job.discard']);
        expect(rows.every((r) => r.actor === 'Command line' && /Z$/.test(r.at))).to.equal(true);
        const text = await docket(env.env, ['audit', '--action', 'queue.pause', '--limit', '1']);
        expect(text.code).to.equal(0);
        expect(text.stdout).to.match(/^TIME \(UTC\)\s+ACTOR\s+ADDRESS\s+ACTION/);
        expect(text.stdout.trimEnd().split('\n')).to.have.length(2);
        expect(text.stdout).to.match(/Command line\s+-\s+queue\.pause/);
        const bad = await docket(env.env, ['audit', '--since', 'last week']);
        expect(bad.code).to.equal(2);
        expect(bad.stderr).to.match(/--since takes an ISO date/);
      });
    });
  });
}
