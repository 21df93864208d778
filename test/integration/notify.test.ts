import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Context } from '../../app/context.js';
import type { BadRequestError } from '../../app/errors.js';
import { Notifier } from '../../app/notify/notifier.js';
import { profileSubscription, webhookSubscriptions } from '../../app/notify/subscribe.js';
import { listEvents } from '../../app/store/jobs.js';
import { outboxOfJob } from '../../app/store/outbox.js';
import { setProfile } from '../../app/store/user-profile.js';
import { addUserWebhook, removeUserWebhook } from '../../app/store/user-webhooks.js';
import { createUser } from '../../app/store/users.js';
import type { Job, User } from '../../app/types.js';
import { backends, makeTestEnv, requireService, type TestEnv } from '../helpers.js';

const SECRET = 'test-webhook-secret';
const BASE = 'https://docket.example.org';

interface Hit {
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver on loopback: `answer` decides each reply from the hits so far. */
async function receiver(answer: (hits: Hit[], res: http.ServerResponse) => void = (_h, res) => res.end('ok')) {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits.push({ url: req.url ?? '', headers: req.headers, body });
      answer(hits, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return { hits, port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Quoted-printable back to text (what a mail reader does). */
function unQp(s: string): string {
  const bytes = s.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => `%${h}`);
  return decodeURIComponent(bytes.replace(/%(?![0-9A-F]{2})/g, '%25'));
}

for (const backend of backends()) {
  describe(`notifications on ${backend.name}`, function () {
    this.timeout(60_000);
    let env: TestEnv;
    let ctx: Context;
    let admin: User;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      if (backend.transport === 'amqp') await requireService(this, 'amqp');
      env = await makeTestEnv(backend, {
        DOCKET_WEBHOOK_SECRET: SECRET,
        DOCKET_WEBHOOK_ALLOW: '127.0.0.1',
        DOCKET_BASE_URL: BASE,
        DOCKET_NOTIFY_BACKOFF_MS: '20',
        DOCKET_WEBHOOK_TIMEOUT_MS: '2000',
      });
      ctx = await env.context();
      admin = await createUser(ctx.db, `admin${Date.now()}`, 'a-long-password', 'admin');
    });

    after(async () => {
      await env?.cleanup();
    });

    const notifier = (c: Context = ctx, config = env.config) => new Notifier(c.db, config, c.log, `test-${Math.random()}`);

    /** A job taken by a (pretend) worker and failed with `error`, or completed. */
    async function endJob(job: Job, outcome: { error: string } | 'completed', c: Context = ctx): Promise<void> {
      const [claimed] = await c.service.claimMany([job.id], 'test-worker');
      expect(claimed?.id).to.equal(job.id);
      if (outcome === 'completed') {
        expect((await c.service.completeMany([{ job: claimed, result: { summary: 'all done' } }], 'test-worker')).has(job.id)).to.equal(true);
      } else {
        expect(await c.service.fail(claimed, 'test-worker', { message: outcome.error, unrecoverable: true })).to.equal('failed');
      }
    }

    it('POSTs a signed delivery with every variable substituted, URL-encoded', async () => {
      const r = await receiver();
      try {
        const vars = ['JOB_ID', 'JOB_NAME', 'JOB_STATUS', 'EVENT', 'JOB_OWNER', 'JOB_SUBMIT_TIME', 'JOB_START_TIME', 'JOB_END_TIME', 'JOB_ERROR', 'JOB_URL', 'JOB_RESULT_URL'];
        const url = `http://127.0.0.1:${r.port}/hook/\${JOB_ID}?${vars.map((v) => `${v}=\${${v}}`).join('&')}`;
        const { job } = await ctx.service.enqueue({
          task: 'noop',
          user: admin,
          origin: 'api',
          webhooks: [{ url, events: ['failed'] }, { url: `http://127.0.0.1:${r.port}/started`, events: ['running'] }],
        });
        await endJob(job, { error: 'disk full & more/#?' });
        expect(await notifier().sweep()).to.equal(2);
        expect(r.hits).to.have.length(2);
        const started = r.hits.find((h) => h.url === '/started') as Hit;
        expect(JSON.parse(started.body).event).to.equal('running');
        const hit = r.hits.find((h) => h.url.startsWith('/hook/')) as Hit;
        const u = new URL(hit.url, 'http://x');
        expect(u.pathname).to.equal(`/hook/${job.id}`);
        const body = JSON.parse(hit.body) as { event: string; job: Record<string, unknown> };
        const j = body.job as { queuedAt: string; startedAt: string; finishedAt: string };
        expect(Object.fromEntries(u.searchParams)).to.deep.equal({
          JOB_ID: String(job.id),
          JOB_NAME: 'noop',
          JOB_STATUS: 'failed',
          EVENT: 'failed',
          JOB_OWNER: admin.username,
          JOB_SUBMIT_TIME: j.queuedAt,
          JOB_START_TIME: j.startedAt,
          JOB_END_TIME: j.finishedAt,
          JOB_ERROR: 'disk full & more/#?',
          JOB_URL: `${BASE}/api/jobs/${job.id}`,
          JOB_RESULT_URL: `${BASE}/api/jobs/${job.id}/download`,
        });
        expect(j.finishedAt).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
        expect(body.event).to.equal('failed');
        expect(body.job).to.include({ id: job.id, task: 'noop', status: 'failed', error: 'disk full & more/#?', user: admin.username });
        expect((body.job.links as { page: string }).page).to.equal(`${BASE}/jobs/${job.id}`);
        // The receiver's side of the signature, as the README shows it.
        const ts = hit.headers['x-docket-timestamp'] as string;
        const expected = 'sha256=' + createHmac('sha256', SECRET).update(`${ts}.${hit.body}`).digest('hex');
        expect(hit.headers['x-docket-signature']).to.equal(expected);
        expect(Math.abs(Number(ts) - Date.now() / 1000)).to.be.below(60);
        expect(hit.headers['x-docket-delivery']).to.match(/^\d+$/);
        const notified = (await listEvents(ctx.db, job.id)).filter((e) => e.type === 'notified');
        expect(notified.map((e) => e.message)).to.have.members([
          `webhook running to http://127.0.0.1:${r.port}/started: 200 (try 1)`,
          `webhook failed to http://127.0.0.1:${r.port}/hook/${job.id}: 200 (try 1)`,
        ]);
        // Sent once: another sweep finds nothing.
        expect(await notifier().sweep()).to.equal(0);
      } finally {
        await r.close();
      }
    });

    it("delivers a job that carries no webhook to its owner's profile subscription, signed; others' jobs are not", async () => {
      const r = await receiver();
      const owner = await createUser(ctx.db, `sub${Date.now()}`, 'a-long-password', 'admin');
      const other = await createUser(ctx.db, `nosub${Date.now()}`, 'a-long-password', 'admin');
      try {
        const subs = profileSubscription(`http://127.0.0.1:${r.port}/all/\${JOB_OWNER}/\${JOB_ID}?e=\${EVENT}`, ['running', 'completed'], env.config.notify.webhookAllow);
        const hook = await addUserWebhook(ctx.db, owner.id, subs, Date.now());
        expect(hook).to.include({ kind: 'webhook' });
        const mine = (await ctx.service.enqueue({ task: 'noop', user: owner, origin: 'api' })).job;
        const theirs = (await ctx.service.enqueue({ task: 'noop', user: other, origin: 'api' })).job;
        await endJob(mine, 'completed');
        await endJob(theirs, 'completed');
        expect(await notifier().sweep()).to.equal(2);
        expect(r.hits.map((h) => h.url).sort()).to.deep.equal([
          `/all/${owner.username}/${mine.id}?e=completed`,
          `/all/${owner.username}/${mine.id}?e=running`,
        ]);
        const hit = r.hits.find((h) => h.url.endsWith('e=completed')) as Hit;
        const body = JSON.parse(hit.body) as { event: string; job: { id: number; status: string } };
        expect(body).to.deep.include({ event: 'completed' });
        expect(body.job).to.include({ id: mine.id, status: 'completed' });
        const ts = hit.headers['x-docket-timestamp'] as string;
        expect(hit.headers['x-docket-signature']).to.equal('sha256=' + createHmac('sha256', SECRET).update(`${ts}.${hit.body}`).digest('hex'));
        expect((await outboxOfJob(ctx.db, theirs.id)).length).to.equal(0);
        // Removed: the owner's next job calls nobody.
        expect(await removeUserWebhook(ctx.db, owner.id, (hook as { id: number }).id)).to.not.equal(null);
        const later = (await ctx.service.enqueue({ task: 'noop', user: owner, origin: 'cli' })).job;
        await endJob(later, 'completed');
        expect((await outboxOfJob(ctx.db, later.id)).length).to.equal(0);
      } finally {
        await r.close();
      }
    });

    it('retries a receiver that is down with backoff: the fourth try arrives', async () => {
      const r = await receiver((hits, res) => {
        res.statusCode = hits.length <= 3 ? 503 : 200;
        res.end(hits.length <= 3 ? 'down for maintenance' : 'ok');
      });
      try {
        const { job } = await ctx.service.enqueue({ task: 'noop', user: admin, origin: 'api', webhooks: [{ url: `http://127.0.0.1:${r.port}/h` }] });
        await endJob(job, 'completed');
        const n = notifier();
        const start = Date.now();
        while (r.hits.length < 4 && Date.now() - start < 10_000) {
          await n.sweep();
          await new Promise((res) => setTimeout(res, 20));
        }
        expect(r.hits).to.have.length(4);
        // One delivery id for every try: the receiver can deduplicate.
        expect(new Set(r.hits.map((h) => h.headers['x-docket-delivery'])).size).to.equal(1);
        const [row] = await outboxOfJob(ctx.db, job.id);
        expect(row).to.include({ state: 'sent', tries: 4, lastStatus: 200 });
        const notified = (await listEvents(ctx.db, job.id)).filter((e) => e.type === 'notified').map((e) => e.message ?? '');
        expect(notified).to.have.length(4);
        expect(notified[0]).to.match(/: 503 down for maintenance \(try 1; next in [\d.]+ s\)$/);
        expect(notified[2]).to.include('(try 3;');
        expect(notified[3]).to.match(/: 200 \(try 4\)$/);
        // Two sweeps later, still four: sent is sent.
        await n.sweep();
        expect(r.hits).to.have.length(4);
      } finally {
        await r.close();
      }
    });

    it('refuses loopback without the allow list, file:// and redirects', async () => {
      const noAllow = { ...env.config, notify: { ...env.config.notify, webhookAllow: [] } };
      const target = await receiver();
      const r = await receiver((_h, res) => {
        res.statusCode = 302;
        res.setHeader('location', `http://127.0.0.1:${target.port}/private`);
        res.end();
      });
      try {
        const enqueue = async (url: string, config = env.config) => webhookSubscriptions([{ url }], config.notify.webhookAllow);
        const refused = async (p: Promise<unknown>) => {
          const err = await p.then(() => null, (e: unknown) => e);
          expect((err as BadRequestError).status).to.equal(400);
          return (err as Error).message;
        };
        expect(await refused(enqueue(`http://127.0.0.1:${r.port}/`, noAllow))).to.include('loopback, private or link-local');
        expect(await refused(enqueue('http://169.254.169.254/latest/meta-data'))).to.include('refused');
        expect(await refused(enqueue('file:///etc/passwd'))).to.include('http or https, not file://');
        expect(await refused(enqueue('http://x/${NOPE}'))).to.include('unknown variable ${NOPE}');
        expect(
          await refused(ctx.service.enqueue({ task: 'noop', user: admin, origin: 'api', webhooks: [{ url: 'gopher://x/' }] })),
        ).to.include('webhooks[0].url refused');
        expect(await ctx.service.enqueue({ task: 'noop', user: admin, origin: 'api', webhooks: [{ url: 'http://h/', events: ['done'] }] }).catch((e: Error) => e.message)).to.include(
          'webhooks[0].events must be',
        );

        // A name is judged at sending, on the address connected to: localhost is loopback.
        const { job } = await ctx.service.enqueue({ task: 'noop', user: admin, origin: 'api', webhooks: [{ url: `http://localhost:${target.port}/named` }] });
        await endJob(job, 'completed');
        await notifier(ctx, noAllow).sweep();
        const [named] = await outboxOfJob(ctx.db, job.id);
        expect(named.state).to.equal('failed');
        expect(named.lastError).to.include('refused').and.include('loopback, private or link-local');

        // An allowed receiver redirecting elsewhere: not followed, and not retried.
        const { job: j2 } = await ctx.service.enqueue({ task: 'noop', user: admin, origin: 'api', webhooks: [{ url: `http://127.0.0.1:${r.port}/redirect` }] });
        await endJob(j2, 'completed');
        await notifier().sweep();
        const [redirected] = await outboxOfJob(ctx.db, j2.id);
        expect(redirected).to.include({ state: 'failed', tries: 1 });
        expect(redirected.lastError).to.include('302, a redirect, which is not followed');
        expect(r.hits).to.have.length(1);
        expect(target.hits).to.have.length(0);
      } finally {
        await r.close();
        await target.close();
      }
    });

    it('delivers exactly once what a process left in the outbox when it died', async () => {
      const r = await receiver();
      try {
        // The process that ended the job is gone before it could send anything.
        const dying = await env.context();
        const { job } = await dying.service.enqueue({ task: 'noop', user: admin, origin: 'api', webhooks: [{ url: `http://127.0.0.1:${r.port}/x` }] });
        await endJob(job, 'completed', dying);
        await dying.close();
        expect(r.hits).to.have.length(0);
        // Two fresh processes sweep at once: one sends, the other finds it taken.
        const a = await env.context();
        const b = await env.context();
        await Promise.all([notifier(a).sweep(), notifier(b).sweep(), notifier(a).sweep()]);
        await notifier(b).sweep();
        expect(r.hits).to.have.length(1);
        expect(JSON.parse(r.hits[0].body)).to.include({ event: 'completed' });
        expect((await outboxOfJob(ctx.db, job.id)).map((o) => o.state)).to.deep.equal(['sent']);
      } finally {
        await r.close();
      }
    });

    it('mails the owner as an .eml file without SMTP_URL, and a webhook URL that is an address', async () => {
      const user = await createUser(ctx.db, `archie${Date.now()}`, 'a-long-password', 'admin');
      const refused = await ctx.service.enqueue({ task: 'noop', user, origin: 'api', notify: true }).catch((e: Error) => e.message);
      expect(refused).to.include('has no email address to notify');
      await setProfile(ctx.db, { id: user.id }, { email: 'archie@example.org' });
      const { job } = await ctx.service.enqueue({
        task: 'noop',
        user,
        origin: 'api',
        notify: true,
        webhooks: [{ url: 'ops@example.org', events: ['failed'] }],
      });
      await endJob(job, { error: 'the finding aid has no top-level description' });
      expect(await notifier().sweep()).to.equal(2);
      const files = readdirSync(env.config.notify.mailDir).map((f) => readFileSync(join(env.config.notify.mailDir, f), 'utf8'));
      const mine = files.filter((f) => f.includes(`Message-ID: <docket.${job.id}.`));
      expect(mine).to.have.length(2);
      const toOwner = mine.find((m) => m.includes('To: archie@example.org')) as string;
      expect(toOwner).to.be.a('string');
      expect(mine.some((m) => m.includes('To: ops@example.org'))).to.equal(true);
      expect(toOwner).to.include('From: Docket <docket@localhost>');
      expect(toOwner).to.include(`Subject: [Docket] Job ${job.id} No-op: Error`);
      expect(toOwner).to.match(/\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n/);
      expect(toOwner).to.match(/\r\nX-Docket-Delivery: \d+\r\n/);
      const text = unQp(toOwner.split('\r\n\r\n').slice(1).join('\r\n\r\n'));
      expect(text).to.include(`Job ${job.id}, No-op (noop), failed.`);
      expect(text).to.include('Status:    Error');
      expect(text).to.match(/Started: {3}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
      expect(text).to.include('Error:\r\nthe finding aid has no top-level description');
      expect(text).to.include(`Job page: ${BASE}/jobs/${job.id}`);
      const notified = (await listEvents(ctx.db, job.id)).filter((e) => e.type === 'notified').map((e) => e.message);
      expect(notified.some((m) => m?.startsWith('mail failed to archie@example.org: sent via'))).to.equal(true);
    });

    it('follows the owner default, off unless turned on', async () => {
      const user = await createUser(ctx.db, `dflt${Date.now()}`, 'a-long-password', 'admin');
      await setProfile(ctx.db, { id: user.id }, { email: 'dflt@example.org' });
      const off = await ctx.service.enqueue({ task: 'noop', user, origin: 'api' });
      await setProfile(ctx.db, { id: user.id }, { notifyDefault: true });
      const on = await ctx.service.enqueue({ task: 'noop', user, origin: 'api' });
      const refused = await ctx.service.enqueue({ task: 'noop', user, origin: 'api', notify: false });
      for (const r of [off, on, refused]) await endJob(r.job, 'completed');
      expect((await outboxOfJob(ctx.db, off.job.id)).length).to.equal(0);
      expect((await outboxOfJob(ctx.db, on.job.id)).map((o) => [o.kind, o.event])).to.deep.equal([['mail', 'completed']]);
      expect((await outboxOfJob(ctx.db, refused.job.id)).length).to.equal(0);
    });
  });
}
