/**
 * GET /metrics: who may read it, that every line is valid Prometheus text exposition,
 * and that its figures match the jobs table.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { Context } from '../../app/context.js';
import { createToken } from '../../app/store/tokens.js';
import { createUser } from '../../app/store/users.js';
import { Worker } from '../../workers/worker.js';
import { backends, makeTestEnv, requireService, waitUntil, type TestEnv } from '../helpers.js';
import { Client, closeServer, failed, loggedIn, PASSWORDS, queued, serve } from './web-fixture.js';

const METRICS_TOKEN = 'scraper-token-0123456789';

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = '[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(${LABEL}(?:,${LABEL})*)?\\})? (-?[0-9]+(?:\\.[0-9]+)?(?:e[+-]?[0-9]+)?|NaN|\\+Inf|-Inf)$`);
const COMMENT = new RegExp(`^# (HELP|TYPE) (${NAME})(?: (.*))?$`);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reading of the text format; throws on any line that is not valid. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  expect(text.endsWith('\n'), 'ends with a newline').to.equal(true);
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.slice(0, -1).split('\n')) {
    // The format ignores empty lines (prom-client writes one between families).
    if (line === '') continue;
    const c = COMMENT.exec(line);
    if (c) {
      if (c[1] === 'TYPE') {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped'], line).to.include(c[3]);
        expect(types.has(c[2]), `one TYPE for ${c[2]}`).to.equal(false);
        types.set(c[2], c[3]);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`not a valid exposition line: ${JSON.stringify(line)}`);
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    expect(types.has(m[1]) || types.has(family), `TYPE before ${m[1]}`).to.equal(true);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: m[3] === '+Inf' ? Infinity : Number(m[3]) });
  }
  return { samples, types };
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

for (const backend of backends().filter((b) => b.transport === 'db')) {
  describe(`GET /metrics on ${backend.name}`, function () {
    this.timeout(60_000);
    let env: TestEnv;
    let ctx: Context;
    let server: Server;
    let base: string;
    let adminToken: string;
    let aliceToken: string;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      env = await makeTestEnv(backend, { DOCKET_METRICS_TOKEN: METRICS_TOKEN });
      ctx = await env.context();
      const admin = await createUser(ctx.db, 'admin', PASSWORDS.admin, 'admin');
      const alice = await createUser(ctx.db, 'alice', PASSWORDS.alice, 'archivist');
      adminToken = await createToken(ctx.db, admin.id, 'tests');
      aliceToken = await createToken(ctx.db, alice.id, 'tests');
      ({ server, base } = await serve(ctx));
    });

    after(async () => {
      if (server) await closeServer(server);
      await env?.cleanup();
    });

    it('is read with the metrics token, an administrator token or session, and no other way', async () => {
      expect((await new Client(base).get('/metrics')).status).to.equal(401);
      expect((await new Client(base, 'not-a-token-at-all').get('/metrics')).status).to.equal(401);
      expect((await new Client(base, aliceToken).get('/metrics')).status).to.equal(403);
      expect((await (await loggedIn(base, 'alice')).get('/metrics')).status).to.equal(403);
      for (const c of [new Client(base, METRICS_TOKEN), new Client(base, adminToken), await loggedIn(base, 'admin')]) {
        const r = await c.get('/metrics');
        expect(r.status, r.text).to.equal(200);
        expect(r.headers.get('content-type')).to.match(/^text\/plain; version=0\.0\.4/);
      }
    });

    it('parses as Prometheus text, and its figures match the jobs table', async () => {
      const worker = new Worker(ctx.service, ctx.transport, { concurrency: 2, cancelGraceMs: 1000 });
      await worker.start();
      const ids: number[] = [];
      for (let i = 0; i < 5; i++) ids.push((await queued(ctx, null, 'print', { lines: 3 })).id);
      await waitUntil(async () => (await ctx.db('jobs').whereIn('id', ids).where({ status: 'completed' }).count({ n: '*' }).first())?.n == 5, 20_000, 'five print jobs');
      await worker.stop(2000);
      await failed(ctx, null, 'it broke');
      for (let i = 0; i < 3; i++) await queued(ctx, null, 'noop');
      const r = await new Client(base, METRICS_TOKEN).get('/metrics');
      expect(r.status).to.equal(200);
      const { samples, types } = parseExposition(r.text);
      expect(types.get('docket_job_run_seconds')).to.equal('histogram');
      expect(types.get('docket_jobs_finished_total')).to.equal('counter');

      const active = (await ctx.db('jobs').select('task', 'status').count({ n: '*' }).whereIn('status', ['queued', 'running']).groupBy('task', 'status')) as Array<{ task: string; status: string; n: number }>;
      expect(active.length).to.be.greaterThan(0);
      for (const a of active) expect(value(samples, 'docket_jobs', { task: a.task, status: a.status }), `${a.task} ${a.status}`).to.equal(Number(a.n));
      expect(samples.filter((s) => s.name === 'docket_jobs').length).to.equal(active.length);

      const ended = (await ctx.db('jobs').select('task', 'status').count({ n: '*' }).sum({ bytes: 'output_bytes' }).whereIn('status', ['completed', 'failed', 'cancelled']).groupBy('task', 'status')) as Array<{ task: string; status: string; n: number; bytes: number }>;
      for (const e of ended) {
        expect(value(samples, 'docket_jobs_finished_total', { task: e.task, status: e.status }), `${e.task} ${e.status}`).to.equal(Number(e.n));
      }
      expect(value(samples, 'docket_jobs_finished_total', { task: 'print', status: 'completed' })).to.equal(5);
      expect(value(samples, 'docket_jobs_finished_total', { task: 'sleep', status: 'failed' })).to.equal(1);
      const printBytes = ended.find((e) => e.task === 'print')?.bytes;
      expect(Number(printBytes)).to.be.greaterThan(0);
      expect(value(samples, 'docket_job_output_bytes_total', { task: 'print' })).to.equal(Number(printBytes));
      expect(value(samples, 'docket_job_run_seconds_count', { task: 'print' })).to.equal(5);
      expect(value(samples, 'docket_job_run_seconds_bucket', { task: 'print', le: '+Inf' })).to.equal(5);
      expect(value(samples, 'docket_job_wait_seconds_count', { task: 'print' })).to.equal(5);
      // Buckets are cumulative.
      const buckets = samples.filter((s) => s.name === 'docket_job_run_seconds_bucket' && s.labels.task === 'print').map((s) => s.value);
      expect([...buckets].sort((a, b) => a - b)).to.deep.equal(buckets);

      const oldest = (await ctx.db('jobs').where({ status: 'queued', task: 'noop' }).min({ q: 'queued_at' }).first()) as { q: number };
      const age = value(samples, 'docket_queue_oldest_age_seconds', { task: 'noop' }) as number;
      expect(age).to.be.at.least(0);
      expect(Math.abs(age - (Date.now() - Number(oldest.q)) / 1000)).to.be.below(5);
      expect(value(samples, 'docket_workers', { state: 'stopped' })).to.equal(1);
      expect(value(samples, 'docket_workers', { state: 'active' })).to.equal(0);
      expect(value(samples, 'docket_queue_paused', {})).to.equal(0);
      expect(value(samples, 'docket_dispatch_republished_total', {})).to.equal(ctx.service.dispatcher.republished);
      expect(types.get('docket_notifications')).to.equal('gauge');
      // Every figure the Grafana dashboard reads is one of these.
      const dashboard = JSON.parse(readFileSync(new URL('../../docs/grafana-docket.json', import.meta.url), 'utf8')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
      const used = new Set(dashboard.panels.flatMap((p) => p.targets.flatMap((t) => t.expr.match(/docket_[a-z_]+/g) ?? [])));
      expect(used.has('docket_http_request_duration_seconds_bucket')).to.equal(true);
      for (const name of used) expect(types.has(name.replace(/_(bucket|count|sum)$/, '')), name).to.equal(true);
    });

    it('ages the oldest queued job that may start now: not one in backoff, not a held chain step', async () => {
      const now = Date.now();
      const insert = (queuedAt: number, runAfter: number | null) =>
        ctx.db('jobs').insert({ task: 'print', params: '{}', status: 'queued', priority: 2, origin: 'cli', queued_at: queuedAt, attempt: 0, max_attempts: 3, run_after: runAfter });
      await insert(now - 3_600_000, now + 600_000); // backoff not over
      await insert(now - 7_200_000, Number.MAX_SAFE_INTEGER); // a held chain step
      await insert(now - 60_000, null);
      const age = async () => value(parseExposition((await new Client(base, METRICS_TOKEN).get('/metrics')).text).samples, 'docket_queue_oldest_age_seconds', { task: 'print' }) as number;
      expect(await age()).to.be.within(59, 70);
      await insert(now - 1_800_000, now - 1000); // backoff over: may start now
      expect(await age()).to.be.within(1799, 1810);
      await ctx.db('jobs').where({ task: 'print', status: 'queued' }).del();
    });

    it('times HTTP requests by method, route pattern and status class', async () => {
      const admin = new Client(base, adminToken);
      const job = await queued(ctx, null, 'noop');
      for (let i = 0; i < 3; i++) expect((await admin.get(`/api/jobs/${job.id}`)).status).to.equal(200);
      expect((await admin.get('/api/jobs/999999999')).status).to.equal(404);
      expect((await admin.get('/no/such/page')).status).to.equal(404);
      const r = await new Client(base, METRICS_TOKEN).get('/metrics');
      const { samples, types } = parseExposition(r.text);
      expect(types.get('docket_http_request_duration_seconds')).to.equal('histogram');
      const count = (labels: Record<string, string>) => value(samples, 'docket_http_request_duration_seconds_count', labels);
      expect(count({ method: 'GET', route: '/api/jobs/:id', status_class: '2xx' })).to.equal(3);
      // The error answered through the error handler keeps the router's mount point.
      expect(count({ method: 'GET', route: '/api/jobs/:id', status_class: '4xx' })).to.equal(1);
      expect(count({ method: 'GET', route: 'unmatched', status_class: '4xx' })).to.be.at.least(1);
      expect(value(samples, 'docket_http_request_duration_seconds_bucket', { route: '/api/jobs/:id', status_class: '2xx', le: '+Inf' })).to.equal(3);
      // No raw URL becomes a label.
      const routes = new Set(samples.filter((s) => s.name.startsWith('docket_http_')).map((s) => s.labels.route));
      expect([...routes].some((x) => /\d/.test(x))).to.equal(false);
      const sum = value(samples, 'docket_http_request_duration_seconds_sum', { route: '/api/jobs/:id', status_class: '2xx' }) as number;
      expect(sum).to.be.greaterThan(0).and.below(30);
    });
  });
}
