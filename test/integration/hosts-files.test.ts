/**
 * Files across hosts that share nothing but MariaDB and RabbitMQ (test/hosts): a web
 * host, two worker hosts and a host for the command line, each with its own folders.
 * Uploads and results travel through the file store (DOCKET_FILE_STORE left to its
 * default, `database` on MySQL): a CSV uploaded to the web host is imported by a worker
 * host, a result written on a worker host downloads from the web host byte for byte, and
 * `docket run csv-import --file F` on a third host imports F, which only that host has.
 *
 * The 300 MB upload and result (memory flat in the web and worker processes) are slow:
 * they run with DOCKET_TEST_BIG_FILES=1, and print the peak resident memory.
 */
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, existsSync, openAsBlob, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from '../../app/context.js';
import { createToken } from '../../app/store/tokens.js';
import { createUser } from '../../app/store/users.js';
import { AMQP_URL, MYSQL_URL, makeTestEnv, requireService, waitUntil, type TestEnv } from '../helpers.js';
import { hostEnv, loopbackPort, requireTestHosts, runDocket, startDocket } from '../hosts/docket.js';
import { FILE_TASKS_MODULE, megabyte } from '../hosts/file-tasks.js';
import { TestNetwork } from '../hosts/network.js';
import type { HostProcess } from '../hosts/process.js';
import { Client } from './web-fixture.js';

interface ApiJob {
  id: number;
  status: string;
  error: string | null;
  resultSummary: string | null;
  params: Record<string, unknown>;
}

const WORKERS = ['w1', 'w2'] as const;
const WEB_PORT = 3000;
const IMPORT_ORDER = join(import.meta.dirname, '..', 'fixtures', 'atom', 'import_order.csv');
const BIG = process.env.DOCKET_TEST_BIG_FILES === '1';
const MB = 1024 * 1024;

/** Peak and current resident memory of a process, in MB (VmHWM, VmRSS). */
function memory(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peak: Math.round(kb('VmHWM') / 1024), now: Math.round(kb('VmRSS') / 1024) };
}

/** A worker's child processes (they run the jobs). */
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
}

describe('across hosts: files through the store, with no shared disk (MariaDB + RabbitMQ)', function () {
  this.timeout(180_000);
  let net: TestNetwork | null = null;
  let env: TestEnv | null = null;
  let ctx: Context;
  let token: string;
  let base: string;
  let web: HostProcess;
  const workers: HostProcess[] = [];
  const workerIds = new Map<string, string>();

  const auth = () => ({ authorization: `Bearer ${token}` });
  async function getJob(id: number): Promise<ApiJob> {
    const r = await fetch(`${base}/api/jobs/${id}`, { headers: auth() });
    return ((await r.json()) as { job: ApiJob }).job;
  }
  async function finished(id: number, ms = 60_000): Promise<ApiJob> {
    return waitUntil(async () => {
      const j = await getJob(id);
      return ['completed', 'failed', 'cancelled'].includes(j.status) ? j : null;
    }, ms, `job ${id} to end`);
  }
  /** The worker host whose worker started the job. */
  async function ranOn(id: number): Promise<string> {
    const r = await fetch(`${base}/api/jobs/${id}/events`, { headers: auth() });
    const started = ((await r.json()) as { events: Array<{ type: string; actor: string }> }).events.filter((e) => e.type === 'started');
    expect(started).to.have.length(1);
    const host = workerIds.get(started[0].actor);
    expect(host, `started by ${started[0].actor}`).to.not.equal(undefined);
    return host!;
  }
  async function submitJson(task: string, params: Record<string, unknown>): Promise<number> {
    const r = await fetch(`${base}/api/jobs`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ task, params }) });
    const body = (await r.json()) as { job: ApiJob };
    expect(r.status, JSON.stringify(body)).to.equal(202);
    return body.job.id;
  }
  async function submitFile(task: string, params: Record<string, unknown>, file: Blob, name: string): Promise<number> {
    const form = new FormData();
    form.append('task', task);
    form.append('params', JSON.stringify(params));
    form.append('file', file, name);
    const r = await fetch(`${base}/api/jobs`, { method: 'POST', headers: auth(), body: form });
    const body = (await r.json()) as { job: ApiJob };
    expect(r.status, JSON.stringify(body)).to.equal(202);
    return body.job.id;
  }
  /** Downloads a job's result from the web host: its bytes' SHA-256, size and headers. */
  async function download(id: number): Promise<{ sha: string; size: number; type: string | null; length: string | null; name: string | null }> {
    const r = await fetch(`${base}/api/jobs/${id}/download`, { headers: auth() });
    expect(r.status).to.equal(200);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of r.body!) {
      hash.update(chunk);
      size += chunk.length;
    }
    return { sha: hash.digest('hex'), size, type: r.headers.get('content-type'), length: r.headers.get('content-length'), name: r.headers.get('content-disposition') };
  }
  /** What the store holds for a file, read by this process from the database. */
  async function stored(id: string): Promise<{ sha: string; size: number }> {
    const file = await ctx.files.get(id);
    const hash = createHash('sha256');
    let size = 0;
    for await (const chunk of file.stream) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
    return { sha: hash.digest('hex'), size };
  }
  const uploadsOn = (host: string): string[] => {
    const dir = join(net!.host(host).dir, 'results', 'uploads');
    return existsSync(dir) ? readdirSync(dir) : [];
  };

  before(async function () {
    requireTestHosts(this);
    await requireService(this, 'mysql');
    await requireService(this, 'amqp');
    env = await makeTestEnv({ db: 'mysql', transport: 'amqp' }, { LOG_LEVEL: 'info', DOCKET_EXTRA_TASKS: FILE_TASKS_MODULE });
    // The store is left to its default: the database, on MySQL.
    delete env.env.DOCKET_FILE_STORE;
    ctx = await env.context();
    expect(ctx.files.kind).to.equal('database');
    const admin = await createUser(ctx.db, 'ops', 'ops-password-1', 'admin');
    token = await createToken(ctx.db, admin.id, 'test hosts');
    net = await TestNetwork.create(['web', ...WORKERS, 'cli'], {
      forward: [loopbackPort(MYSQL_URL!, 3306), loopbackPort(AMQP_URL!, 5672)],
    });
    const webHost = net.host('web');
    web = startDocket(net, 'web', ['web'], hostEnv(net, 'web', env.env, { HOST: webHost.address, PORT: String(WEB_PORT) }));
    base = `http://${webHost.address}:${WEB_PORT}`;
    const starting = WORKERS.map((w) => startDocket(net!, w, ['worker', '--concurrency', '1'], hostEnv(net!, w, env!.env)));
    await web.waitFor(/Docket is listening on http:\/\//, 60_000);
    for (const [i, w] of WORKERS.entries()) {
      const m = await starting[i].waitFor(/worker (\S+) is taking/, 60_000);
      workers.push(starting[i]);
      workerIds.set(m[1], w);
    }
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && net) process.stderr.write(`\n${net.transcript()}\n`);
  });

  after(async () => {
    await net?.destroy();
    await env?.cleanup();
  });

  it('imports on a worker host a CSV uploaded through the web host\'s form, and another through the API', async () => {
    const csv = readFileSync(IMPORT_ORDER);
    // The form, as a browser sends it: a session, the CSRF token in the query string.
    const browser = new Client(base);
    expect((await browser.login('ops', 'ops-password-1')).status).to.equal(303);
    await browser.get('/descriptions/import');
    const form = new FormData();
    form.append('update', 'none');
    form.append('file', new Blob([csv], { type: 'text/csv' }), 'import_order.csv');
    const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const posted = await fetch(`${base}/descriptions/import?_csrf=${encodeURIComponent(browser.csrf)}`, { method: 'POST', body: form, headers: { cookie }, redirect: 'manual' });
    expect(posted.status, await posted.clone().text()).to.equal(303);
    const formJob = Number(/^\/jobs\/(\d+)$/.exec(posted.headers.get('location') ?? '')?.[1]);
    // One after the other: two imports of one file at once race for the same slugs.
    await finished(formJob);
    const apiJob = await submitFile('csv-import', { update: 'none' }, new Blob([csv]), 'import_order.csv');
    for (const [how, id] of [['form', formJob], ['API', apiJob]] as const) {
      const job = await finished(id);
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(job.resultSummary).to.equal('34 rows: 34 created, 0 updated, 0 skipped');
      expect(job.params.file).to.match(/^f[0-9a-f]{32}$/);
      process.stdout.write(`      ${how} upload: received by web (${net!.host('web').address}), job ${id} imported on ${await ranOn(id)}\n`);
    }
    // Nothing went through a disk: no host has an uploads folder with anything in it.
    for (const host of ['web', ...WORKERS]) expect(uploadsOn(host), host).to.deep.equal([]);
  });

  it('serves from the web host, byte for byte, a finding aid and a CSV export made on a worker host', async () => {
    for (const [task, params, type] of [
      ['finding-aid', { description: 'csv-import-order-fonds', format: 'pdf' }, 'application/pdf'],
      ['csv-export', { description: 'csv-import-order-fonds' }, 'text/csv'],
    ] as const) {
      const id = await submitJson(task, params);
      const job = await finished(id);
      expect(job.status, job.error ?? '').to.equal('completed');
      const host = await ranOn(id);
      const row = await ctx.db('jobs').where({ id }).first('result_file');
      const fileId = row.result_file as string;
      expect(fileId).to.match(/^f[0-9a-f]{32}$/);
      // The worker logged what it stored; the store holds it; the web host serves it.
      const out = await fetch(`${base}/api/jobs/${id}/output`, { headers: auth() });
      const text = ((await out.json()) as { chunks: Array<{ text: string }> }).chunks.map((c) => c.text).join('');
      const logged = Number(new RegExp(`\\((\\d+) bytes, stored as ${fileId}\\)`).exec(text)?.[1]);
      const inStore = await stored(fileId);
      const got = await download(id);
      expect(got.size).to.equal(logged);
      expect(got.sha).to.equal(inStore.sha);
      expect(got.size).to.equal(inStore.size);
      expect(got.length).to.equal(String(inStore.size));
      expect(got.type).to.match(new RegExp(`^${type}`));
      expect(got.name).to.equal(`attachment; filename=csv-import-order-fonds.${task === 'csv-export' ? 'csv' : 'pdf'}`);
      // No host's results folder holds it: the worker wrote nothing to its own disk.
      for (const h of ['web', ...WORKERS]) {
        const dir = join(net!.host(h).dir, 'results');
        expect(existsSync(dir) ? readdirSync(dir).filter((f) => f !== 'uploads') : [], h).to.deep.equal([]);
      }
      process.stdout.write(`      ${task}: made on ${host}, ${got.size} bytes downloaded from web, sha256 ${got.sha.slice(0, 16)}… as stored\n`);
    }
  });

  it('imports a file that exists only on the host where `docket run csv-import --file F` runs', async () => {
    const dir = net!.host('cli').dir;
    const f = join(dir, 'only-here.csv');
    writeFileSync(f, readFileSync(IMPORT_ORDER));
    for (const h of ['web', ...WORKERS]) expect(existsSync(join(net!.host(h).dir, 'only-here.csv'))).to.equal(false);
    const run = await runDocket(net!, 'cli', ['run', 'csv-import', '--file', f, '--wait'], hostEnv(net!, 'cli', env!.env));
    expect(run.code, run.output).to.equal(0);
    const id = Number(/job (\d+) queued/.exec(run.output)?.[1]);
    const job = await getJob(id);
    expect(job.status).to.equal('completed');
    expect(job.resultSummary).to.equal('34 rows: 34 created, 0 updated, 0 skipped');
    expect(job.params.sourceName ?? null).to.equal(null);
    const files = await ctx.files.list(id);
    expect(files.map((x) => [x.kind, x.name, x.size])).to.deep.equal([['upload', 'only-here.csv', readFileSync(f).length]]);
    process.stdout.write(`      docket run on cli (${net!.host('cli').address}): job ${id} imported on ${await ranOn(id)}\n`);
  });

  // Defined only when asked for (not skipped otherwise): it takes minutes.
  if (BIG) it('moves a 300 MB upload and a 300 MB result with the web and worker processes\' memory flat', async function () {
    this.timeout(900_000);
    const size = 300;
    // A CSV of 300 MB: a header, a row, and blank lines (read and skipped, both passes).
    const path = join(net!.host('cli').dir, 'big.csv');
    const out = createWriteStream(path);
    out.write('legacyId,title,levelOfDescription\nbig-1,Big upload fonds,Fonds\n');
    const blank = Buffer.alloc(MB, '\n');
    for (let i = 0; i < size; i++) if (!out.write(blank)) await once(out, 'drain');
    out.end();
    await once(out, 'finish');
    const pids = () => ({ web: web.pid, ...Object.fromEntries(workers.flatMap((w, i) => [[`w${i + 1}`, w.pid], ...childrenOf(w.pid).map((c, j) => [`w${i + 1} child ${j + 1}`, c])])) });
    const before = Object.fromEntries(Object.entries(pids()).map(([k, pid]) => [k, memory(pid as number)]));
    let t = Date.now();
    const up = await submitFile('csv-import', {}, await openAsBlob(path), 'big.csv');
    const uploadSecs = (Date.now() - t) / 1000;
    const imported = await finished(up, 600_000);
    expect(imported.status, imported.error ?? '').to.equal('completed');
    expect(imported.resultSummary).to.equal('1 rows: 1 created, 0 updated, 0 skipped');
    t = Date.now();
    const made = await submitJson('big-result', { mb: size });
    const result = await finished(made, 600_000);
    expect(result.status, result.error ?? '').to.equal('completed');
    const writeSecs = (Date.now() - t) / 1000;
    t = Date.now();
    const got = await download(made);
    const downloadSecs = (Date.now() - t) / 1000;
    const hash = createHash('sha256');
    for (let i = 0; i < size; i++) hash.update(megabyte(i));
    expect(got.size).to.equal(size * MB);
    expect(got.sha).to.equal(hash.digest('hex'));
    const after = Object.fromEntries(Object.entries(pids()).map(([k, pid]) => [k, memory(pid as number)]));
    process.stdout.write(
      `      ${size} MB upload through web in ${uploadSecs.toFixed(1)} s (${(size / uploadSecs).toFixed(0)} MB/s), imported on ${await ranOn(up)}; ` +
        `${size} MB result written on ${await ranOn(made)} in ${writeSecs.toFixed(1)} s, downloaded from web in ${downloadSecs.toFixed(1)} s (${(size / downloadSecs).toFixed(0)} MB/s)\n`,
    );
    for (const [k, m] of Object.entries(after)) {
      const b = before[k];
      process.stdout.write(`      peak RSS ${k}: ${b ? `${b.peak} MB before, ` : ''}${m.peak} MB after (now ${m.now} MB)\n`);
      // Flat: far below the 300 MB that went through.
      expect(m.peak - (b?.peak ?? 0), `${k}'s peak grew`).to.be.below(150);
    }
  });
});
