/**
 * The JSON API (bearer tokens and sessions) and the details page's output stream:
 * the same permissions as the pages, JSON errors, ETag and Retry-After for pollers,
 * server-sent events that end when the job does.
 */
import { expect } from 'chai';
import { createToken } from '../../app/store/tokens.js';
import type { Job } from '../../app/types.js';
import { backends, requireService } from '../helpers.js';
import { Client, ECHO_TASK, completed, failed, loggedIn, queued, running, serve, startWeb, type Web } from './web-fixture.js';

interface ApiJob {
  id: number;
  task: string;
  status: string;
  user: string;
  origin: string;
  params?: Record<string, unknown>;
  progress: { current: number | null; total: number | null; percent: number | null } | null;
  download: string | null;
}

/** Reads a server-sent event stream until it closes (or `ms` pass). */
async function readEvents(url: string, headers: Record<string, string>, ms = 15_000): Promise<Array<{ event: string; id?: string; data: string }>> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), ms);
  try {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: ac.signal });
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.match(/^text\/event-stream/);
    const text = await res.text();
    return text
      .split('\n\n')
      .filter((block) => block.includes('data:'))
      .map((block) => {
        const get = (k: string) => block.split('\n').find((l) => l.startsWith(`${k}: `))?.slice(k.length + 2);
        return { event: get('event') ?? 'message', id: get('id'), data: get('data') ?? '' };
      });
  } finally {
    clearTimeout(timer);
  }
}

for (const backend of backends()) {
  describe(`web: the JSON API and live output on ${backend.name}`, function () {
    this.timeout(60_000);
    let web: Web;
    let aliceToken: string;
    let bobToken: string;
    let adminToken: string;
    let aliceJob: Job;
    let bobJob: Job;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      if (backend.transport === 'amqp') await requireService(this, 'amqp');
      web = await startWeb(backend);
      aliceToken = await createToken(web.ctx.db, web.users.alice.id, 'tests');
      bobToken = await createToken(web.ctx.db, web.users.bob.id, 'tests');
      adminToken = await createToken(web.ctx.db, web.users.admin.id, 'tests');
      aliceJob = await completed(web.ctx, web.users.alice, {
        summary: 'made a file',
        file: { stored: 'api-result.txt', downloadName: 'result.txt', content: 'the result\n' },
      });
      bobJob = await failed(web.ctx, web.users.bob, 'bob failed');
    });

    after(async () => {
      await web?.close();
    });

    it('refuses anonymous requests and unknown tokens with a JSON 401', async () => {
      const anon = await new Client(web.base).get('/api/jobs');
      expect(anon.status).to.equal(401);
      expect(anon.headers.get('content-type')).to.match(/^application\/json/);
      const bad = await new Client(web.base, 'dkt_not-a-token').get('/api/jobs');
      expect(bad.status).to.equal(401);
      expect(bad.json<{ error: { message: string } }>().error.message).to.equal('The API token is not valid');
      // A write with no session and no token: told to authenticate, not about a form.
      const anonPost = await new Client(web.base).request('POST', '/api/jobs', { json: { task: ECHO_TASK } });
      expect(anonPost.status).to.equal(401);
      expect(anonPost.json<{ error: { message: string } }>().error.message).to.not.include('expired');
      const badPost = await new Client(web.base, 'dkt_not-a-token').request('POST', '/api/jobs', { json: { task: ECHO_TASK } });
      expect(badPost.status).to.equal(401);
      expect(badPost.json<{ error: { message: string } }>().error.message).to.equal('The API token is not valid');
      const who = await new Client(web.base, bobToken).get('/api/whoami');
      expect(who.json<{ user: { username: string }; via: string }>()).to.deep.include({ via: 'token' });
    });

    it('lists only the jobs a token’s user may see, with a cursor and Retry-After', async () => {
      const mine = await new Client(web.base, aliceToken).get('/api/jobs?tab=all');
      expect(mine.status).to.equal(200);
      expect(mine.headers.get('retry-after')).to.equal('5');
      const body = mine.json<{ jobs: ApiJob[]; next: number | null; summary: { all: { count: number } } }>();
      expect(body.jobs.map((j) => j.id)).to.deep.equal([aliceJob.id]);
      expect(body.summary.all.count).to.equal(1);
      expect(body.jobs[0].download).to.equal(`/api/jobs/${aliceJob.id}/download`);
      const all = await new Client(web.base, adminToken).get('/api/jobs');
      expect(all.json<{ jobs: ApiJob[] }>().jobs.map((j) => j.id)).to.include.members([aliceJob.id, bobJob.id]);
      const failedTab = await new Client(web.base, adminToken).get('/api/jobs?tab=failed');
      expect(failedTab.json<{ jobs: ApiJob[] }>().jobs.map((j) => j.id)).to.deep.equal([bobJob.id]);
      expect((await new Client(web.base, adminToken).get('/api/jobs?tab=nope')).status).to.equal(400);
      expect((await new Client(web.base, adminToken).get('/api/jobs?limit=1000')).status).to.equal(400);
      // Pages of one job each, forwards by links.next and back by links.prev.
      type Listing = { jobs: ApiJob[]; links: { next: string | null; prev: string | null } };
      const admin = new Client(web.base, adminToken);
      const p1 = (await admin.get('/api/jobs?limit=1')).json<Listing>();
      expect(p1.links.prev).to.equal(null);
      const p2 = (await admin.get(p1.links.next!)).json<Listing>();
      expect(p2.jobs[0].id).to.be.below(p1.jobs[0].id);
      expect(p2.links.prev).to.equal(`/api/jobs?tab=all&before=${p2.jobs[0].id}&limit=1`);
      const back = (await admin.get(p2.links.prev!)).json<Listing>();
      expect(back.jobs.map((j) => j.id)).to.deep.equal(p1.jobs.map((j) => j.id));
      expect(back.links.prev).to.equal(null);
    });

    it('answers 404 for another user’s job on every API route', async () => {
      const alice = new Client(web.base, aliceToken);
      for (const path of ['', '/output', '/events', '/download']) {
        const r = await alice.get(`/api/jobs/${bobJob.id}${path}`);
        expect(r.status, path).to.equal(404);
        expect(r.json<{ error: { status: number } }>().error.status).to.equal(404);
      }
      for (const action of ['cancel', 'retry']) {
        expect((await alice.request('POST', `/api/jobs/${bobJob.id}/${action}`)).status, action).to.equal(404);
      }
      expect((await web.ctx.service.get(bobJob.id)).status).to.equal('failed');
      const own = await new Client(web.base, bobToken).get(`/api/jobs/${bobJob.id}`);
      expect(own.status).to.equal(200);
      expect(own.json<{ job: ApiJob }>().job).to.deep.include({ id: bobJob.id, status: 'failed', user: 'bob' });
    });

    it('creates a job with a token (202, Location) and no CSRF token; diagnostic tasks stay for administrators', async () => {
      const bob = new Client(web.base, bobToken);
      const r = await bob.request('POST', '/api/jobs', { json: { task: ECHO_TASK, params: { text: 'hi' }, priority: 'low' } });
      expect(r.status).to.equal(202);
      const { job } = r.json<{ job: ApiJob & { priority: string } }>();
      expect(r.location).to.equal(`/api/jobs/${job.id}`);
      expect(job).to.deep.include({ task: ECHO_TASK, status: 'queued', user: 'bob', origin: 'api', priority: 'low' });
      expect(job.params).to.deep.equal({ text: 'hi' });
      expect(r.headers.get('retry-after')).to.equal('5');

      const diag = await bob.request('POST', '/api/jobs', { json: { task: 'sleep', params: { seconds: 1 } } });
      expect(diag.status).to.equal(403);
      const adminDiag = await new Client(web.base, adminToken).request('POST', '/api/jobs', { json: { task: 'noop' } });
      expect(adminDiag.status).to.equal(202);
    });

    it('answers malformed or wrong requests with a JSON 400, and too large bodies with 413', async () => {
      const bob = new Client(web.base, bobToken);
      const broken = await bob.request('POST', '/api/jobs', { body: '{"task": "noop",', headers: { 'content-type': 'application/json' } });
      expect(broken.status).to.equal(400);
      expect(broken.json<{ error: { message: string } }>().error.message).to.match(/^The request body is not valid JSON/);
      const unknown = await bob.request('POST', '/api/jobs', { json: { task: 'no-such-task' } });
      expect(unknown.status).to.equal(400);
      expect(unknown.json<{ error: { message: string } }>().error.message).to.include('unknown task "no-such-task"');
      const badParams = await bob.request('POST', '/api/jobs', { json: { task: ECHO_TASK, params: { nope: 1 } } });
      expect(badParams.status).to.equal(400);
      expect(badParams.json<{ error: { message: string } }>().error.message).to.include('unknown parameter "nope"');
      const notObject = await bob.request('POST', '/api/jobs', { json: ['noop'] });
      expect(notObject.status).to.equal(400);
      const badPriority = await bob.request('POST', '/api/jobs', { json: { task: ECHO_TASK, priority: 'urgent' } });
      expect(badPriority.status).to.equal(400);
      const huge = await bob.request('POST', '/api/jobs', { json: { task: ECHO_TASK, params: { text: 'x'.repeat(200_000) } } });
      expect(huge.status).to.equal(413);
      expect((await bob.get('/api/nothing-here')).status).to.equal(404);
    });

    it('refuses a body announced larger than the limit at once, without reading it, and ends the connection', async () => {
      const { request } = await import('node:http');
      const url = new URL('/api/jobs', web.base);
      const gigabyte = 1024 ** 3;
      /** Announces 1 GB and sends `keepSending` ? until answered : one megabyte. */
      const upload = (keepSending: boolean) =>
        new Promise<{ status: number; body: string; sent: number; ended: Promise<void> }>((resolve, reject) => {
          let sent = 0;
          let answered = false;
          const req = request(
            url,
            {
              method: 'POST',
              headers: { authorization: `Bearer ${bobToken}`, 'content-type': 'application/json', 'content-length': String(gigabyte) },
            },
            (res) => {
              answered = true;
              // The server ends the connection after its answer.
              const ended = new Promise<void>((done) => req.socket!.once('close', () => done()));
              let body = '';
              res.on('data', (b: Buffer) => (body += b.toString()));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body, sent, ended }));
            },
          );
          req.on('error', (err) => (answered ? undefined : reject(err)));
          const piece = Buffer.alloc(64 * 1024, 0x20);
          const pump = (): void => {
            while (!answered && sent < gigabyte) {
              sent += piece.length;
              if (!req.write(piece)) return void req.once('drain', pump);
              if (!keepSending && sent >= 1 << 20) return;
            }
          };
          pump();
        });
      // A client that stops after a megabyte still gets its answer: none waits for the rest.
      const once = await upload(false);
      expect(once.status).to.equal(413);
      expect(JSON.parse(once.body).error.message).to.equal(`The request body is too large (${gigabyte} bytes; the limit is ${100 * 1024} bytes).`);
      await once.ended;
      // A client that goes on sending gets the answer too, not a reset connection, every time.
      for (let i = 0; i < 5; i++) {
        const r = await upload(true);
        expect(r.status, `attempt ${i + 1}`).to.equal(413);
        expect(r.sent, 'most of the gigabyte never sent').to.be.below(gigabyte / 2);
        await r.ended;
      }
    });

    it('lets a browser session use the API, with the CSRF token on writes', async () => {
      const alice = await loggedIn(web.base, 'alice');
      const list = await alice.get('/api/jobs');
      expect(list.status).to.equal(200);
      const noToken = await alice.request('POST', '/api/jobs', { json: { task: ECHO_TASK } });
      expect(noToken.status).to.equal(403);
      expect(noToken.json<{ error: { message: string } }>().error.message).to.include('expired or was sent from another site');
      const withToken = await alice.request('POST', '/api/jobs', { json: { task: ECHO_TASK }, headers: { 'x-csrf-token': alice.csrf } });
      expect(withToken.status).to.equal(202);
    });

    it('gives job reads an ETag (304 when unchanged) and Retry-After while the job is unfinished', async () => {
      const alice = new Client(web.base, aliceToken);
      const q = await queued(web.ctx, web.users.alice, ECHO_TASK);
      const first = await alice.get(`/api/jobs/${q.id}`);
      expect(first.status).to.equal(200);
      expect(first.headers.get('retry-after')).to.equal('5');
      const etag = first.headers.get('etag');
      expect(etag).to.be.a('string');
      const same = await alice.get(`/api/jobs/${q.id}`, { 'if-none-match': etag! });
      expect(same.status).to.equal(304);
      await web.ctx.service.claimMany([q.id], 'api-test-worker');
      const changed = await alice.get(`/api/jobs/${q.id}`, { 'if-none-match': etag! });
      expect(changed.status).to.equal(200);
      expect(changed.headers.get('retry-after')).to.equal('2');
      expect(changed.json<{ job: ApiJob }>().job.status).to.equal('running');
      const done = await alice.get(`/api/jobs/${aliceJob.id}`);
      expect(done.headers.get('retry-after')).to.equal(null);
      expect(done.headers.get('etag')).to.be.a('string');
    });

    it('cancels and retries through the API under the same policy', async () => {
      const bob = new Client(web.base, bobToken);
      const q = await queued(web.ctx, web.users.bob, ECHO_TASK);
      const c = await bob.request('POST', `/api/jobs/${q.id}/cancel`);
      expect(c.status).to.equal(200);
      expect(c.json<{ outcome: string; job: ApiJob }>()).to.deep.include({ outcome: 'cancelled' });
      expect((await bob.request('POST', `/api/jobs/${q.id}/cancel`)).status).to.equal(409);
      const rt = await bob.request('POST', `/api/jobs/${q.id}/retry`);
      expect(rt.status).to.equal(202);
      expect(rt.json<{ job: ApiJob }>().job.status).to.equal('queued');
      const r = await running(web.ctx, web.users.bob, ECHO_TASK);
      const stop = await bob.request('POST', `/api/jobs/${r.id}/cancel`);
      expect(stop.status).to.equal(202);
      expect(stop.json<{ outcome: string }>().outcome).to.equal('cancel-requested');
    });

    it('returns events and output as JSON, with a cursor for the output', async () => {
      const r = await running(web.ctx, web.users.alice, ECHO_TASK);
      await web.ctx.service.appendOutputParts(r, [{ stream: 'stdout', text: 'first\n', bytes: 6 }]);
      await web.ctx.service.appendOutputParts(r, [{ stream: 'stderr', text: 'second\n', bytes: 7 }]);
      const alice = new Client(web.base, aliceToken);
      const events = await alice.get(`/api/jobs/${r.id}/events`);
      expect(events.json<{ events: Array<{ type: string }> }>().events.map((e) => e.type)).to.deep.equal(['queued', 'started']);
      const out = await alice.get(`/api/jobs/${r.id}/output`);
      const body = out.json<{ chunks: Array<{ id: number; text: string; stream: string }>; next: number; done: boolean }>();
      expect(body.chunks.map((c) => [c.stream, c.text])).to.deep.equal([
        ['stdout', 'first\n'],
        ['stderr', 'second\n'],
      ]);
      expect(body.done).to.equal(false);
      expect(out.headers.get('retry-after')).to.equal('2');
      const rest = await alice.get(`/api/jobs/${r.id}/output?after=${body.next}`);
      expect(rest.json<{ chunks: unknown[] }>().chunks).to.deep.equal([]);
      const text = await alice.get(`/api/jobs/${r.id}/output?format=text`);
      expect(text.text).to.equal('first\nsecond\n');
      const dl = await alice.get(`/api/jobs/${aliceJob.id}/download`);
      expect(dl.status).to.equal(200);
      expect(dl.text).to.equal('the result\n');
    });

    it('streams a job’s output as server-sent events until the job ends, resuming after Last-Event-ID', async () => {
      const r = await running(web.ctx, web.users.alice, ECHO_TASK);
      await web.ctx.service.appendOutputParts(r, [{ stream: 'stdout', text: 'one\n', bytes: 4 }]);
      const alice = await loggedIn(web.base, 'alice');
      const cookie = [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const streamed = readEvents(`${web.base}/jobs/${r.id}/output`, { cookie });
      // Output written while the stream is open arrives, then the end of the job closes it.
      await new Promise((res) => setTimeout(res, 700));
      await web.ctx.service.appendOutputParts(r, [{ stream: 'stdout', text: '<script>two</script>\n', bytes: 20 }]);
      await new Promise((res) => setTimeout(res, 700));
      await web.ctx.service.completeMany([{ job: r, result: { summary: 'ok' } }], 'web-test-worker');
      const events = await streamed;
      const outputs = events.filter((e) => e.event === 'output').map((e) => JSON.parse(e.data) as { text: string; id: number });
      expect(outputs.map((o) => o.text)).to.deep.equal(['one\n', '<script>two</script>\n']);
      expect(events.filter((e) => e.event === 'output').every((e) => Number(e.id) > 0)).to.equal(true);
      const states = events.filter((e) => e.event === 'job').map((e) => (JSON.parse(e.data) as { status: string }).status);
      expect(states[0]).to.equal('running');
      expect(states[states.length - 1]).to.equal('completed');
      expect(events[events.length - 1].event).to.equal('end');

      const resumed = await readEvents(`${web.base}/jobs/${r.id}/output`, { cookie, 'last-event-id': String(outputs[0].id) });
      expect(resumed.filter((e) => e.event === 'output').map((e) => (JSON.parse(e.data) as { text: string }).text)).to.deep.equal([
        '<script>two</script>\n',
      ]);
      // Another archivist cannot open the stream.
      const bob = await loggedIn(web.base, 'bob');
      const other = await fetch(`${web.base}/jobs/${r.id}/output`, {
        headers: { accept: 'text/event-stream', cookie: [...bob.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      });
      expect(other.status).to.equal(404);
      await other.body?.cancel();
    });

    it('ends open streams when the web process shuts down, so that closing it does not wait for the job', async () => {
      const r = await running(web.ctx, web.users.alice, ECHO_TASK);
      const extra = await serve(web.ctx);
      const alice = await loggedIn(extra.base, 'alice');
      const res = await fetch(`${extra.base}/jobs/${r.id}/output`, {
        headers: { accept: 'text/event-stream', cookie: [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      });
      expect(res.status).to.equal(200);
      const body = res.text();
      const started = Date.now();
      // Not closeAllConnections(): only what an operator's SIGTERM does.
      await new Promise<void>((resolve) => extra.server.close(() => resolve()));
      expect(Date.now() - started).to.be.below(3000);
      expect(await body).to.include('event: job');
      expect((await web.ctx.service.get(r.id)).status).to.equal('running');
    });
  });
}
