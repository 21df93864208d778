/**
 * Files through the file store, from the web side: a job sent to the API as
 * multipart/form-data (its file streamed into the store, the limit applied while it
 * streams), a stored result downloaded with its type, length and name, clearing that
 * removes a job's files, and a result of the results folder from before the store still
 * downloadable. On SQLite (folder store) and MariaDB (database store).
 */
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Context } from '../../app/context.js';
import { createToken } from '../../app/store/tokens.js';
import { createUser } from '../../app/store/users.js';
import type { Job } from '../../app/types.js';
import { Worker } from '../../workers/worker.js';
import { backends, exportEnv, makeTestEnv, requireService, type TestEnv, jobEnded } from '../helpers.js';
import { closeServer, loggedIn, PASSWORDS, serve } from './web-fixture.js';

const IMPORT_ORDER = join(import.meta.dirname, '..', 'fixtures', 'atom', 'import_order.csv');

const seen = new Set<string>();
const targets = backends().filter((b) => !seen.has(b.db) && seen.add(b.db));

for (const backend of targets) {
  describe(`files through the store on ${backend.name}`, function () {
    this.timeout(60_000);
    let env: TestEnv;
    let ctx: Context;
    let base: string;
    let server: Awaited<ReturnType<typeof serve>>['server'];
    let worker: Worker;
    let token: string;
    let aliceId: number;
    let restoreEnv: (() => void) | undefined;

    async function storedFiles(): Promise<number> {
      const [row] = (await ctx.db('files').count({ n: '*' })) as Array<{ n: number | string }>;
      return Number(row.n);
    }

    async function finished(id: number): Promise<Job> {
      return jobEnded(ctx.db, id, 30_000);
    }

    function multipart(fields: Record<string, string>, file: { body: BlobPart; name: string } | null): Promise<Response> {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.append(k, v);
      if (file) form.append('file', new Blob([file.body], { type: 'text/csv' }), file.name);
      return fetch(`${base}/api/jobs`, { method: 'POST', body: form, headers: { authorization: `Bearer ${token}` } });
    }

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      // A small limit, so that "too large" needs a megabyte, not half a gigabyte.
      env = await makeTestEnv(backend, { DOCKET_MAX_UPLOAD_MB: '1' });
      ctx = await env.context();
      restoreEnv = exportEnv(env.env, ['DATABASE_URL', 'DOCKET_RESULTS_DIR', 'DOCKET_JOB_LOG_DIR', 'DOCKET_FILE_STORE']);
      const alice = await createUser(ctx.db, 'alice', PASSWORDS.alice, 'archivist');
      aliceId = alice.id;
      token = await createToken(ctx.db, alice.id, 'tests');
      ({ server, base } = await serve(ctx));
      worker = new Worker(ctx.service, ctx.transport, { concurrency: 1 });
      await worker.start();
    });

    after(async () => {
      await worker?.stop(5000);
      if (server) await closeServer(server);
      await env?.cleanup();
      restoreEnv?.();
    });

    it('writes to the store its configuration names (database on MySQL, folder on SQLite)', () => {
      expect(ctx.files.kind).to.equal(backend.db === 'mysql' ? 'database' : 'folder');
    });

    it('imports a CSV sent to the API as multipart/form-data; the upload is the job\'s', async () => {
      const csv = readFileSync(IMPORT_ORDER);
      const r = await multipart({ task: 'csv-import', params: JSON.stringify({ onError: 'skip' }) }, { body: csv, name: 'import_order.csv' });
      expect(r.status, await r.clone().text()).to.equal(202);
      const body = (await r.json()) as { job: { id: number; params: { file: string } } };
      expect(body.job.params.file).to.match(/^f[0-9a-f]{32}$/);
      const job = await finished(body.job.id);
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(job.origin).to.equal('api');
      expect(job.resultSummary).to.equal('34 rows: 34 created, 0 updated, 0 skipped');
      const files = await ctx.files.list(job.id);
      expect(files.map((f) => [f.kind, f.name, f.size])).to.deep.equal([['upload', 'import_order.csv', csv.length]]);
    });

    it('answers 413 past the limit while streaming, and 400 for bad params or a missing file, leaving nothing in the store', async () => {
      const before = await storedFiles();
      const big = await multipart({ task: 'csv-import', params: '{}' }, { body: randomBytes(1024 * 1024 + 1), name: 'big.csv' });
      expect(big.status).to.equal(413);
      expect(((await big.json()) as { error: { message: string } }).error.message).to.equal('"big.csv" is larger than the limit of 1 MB');
      const badJson = await multipart({ task: 'csv-import', params: '{"update": ' }, { body: 'a,b\n', name: 'a.csv' });
      expect(badJson.status).to.equal(400);
      expect(((await badJson.json()) as { error: { message: string } }).error.message).to.match(/^the "params" field must hold a JSON object: /);
      const noFile = await multipart({ task: 'csv-import', params: '{}' }, null);
      expect(noFile.status).to.equal(400);
      expect(((await noFile.json()) as { error: { message: string } }).error.message).to.equal('task "csv-import" needs its file as a part named "file"');
      const noTask = await multipart({ task: 'sleep', params: '{}' }, { body: 'a,b\n', name: 'a.csv' });
      expect(noTask.status).to.equal(400);
      const badOption = await multipart({ task: 'csv-import', params: '{"update": "sometimes"}' }, { body: 'a,b\n', name: 'a.csv' });
      expect(badOption.status).to.equal(400);
      // A stored file named in a JSON request is refused: it would read somebody else's upload.
      const json = await fetch(`${base}/api/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ task: 'csv-import', params: { file: `f${'0'.repeat(32)}` } }),
      });
      expect(json.status).to.equal(400);
      expect(await storedFiles()).to.equal(before);
    });

    it('downloads a stored result with its type, length and name; another user gets a 404', async () => {
      const { job } = await ctx.service.enqueue({ task: 'csv-import', params: { file: IMPORT_ORDER }, origin: 'cli', user: null });
      expect((await finished(job.id)).status).to.equal('completed');
      const { job: exp } = await ctx.service.enqueue({ task: 'csv-export', params: { description: 'csv-import-order-fonds' }, origin: 'web', user: { id: aliceId, username: 'alice', role: 'archivist' } as never });
      const done = await finished(exp.id);
      expect(done.status, done.error ?? '').to.equal('completed');
      const stored = await ctx.files.get(done.resultFile!);
      const chunks: Buffer[] = [];
      for await (const c of stored.stream) chunks.push(c as Buffer);
      const bytes = Buffer.concat(chunks);
      const r = await fetch(`${base}/api/jobs/${done.id}/download`, { headers: { authorization: `Bearer ${token}` } });
      expect(r.status).to.equal(200);
      expect(r.headers.get('content-type')).to.match(/^text\/csv/);
      expect(r.headers.get('content-length')).to.equal(String(bytes.length));
      expect(r.headers.get('content-disposition')).to.equal('attachment; filename=csv-import-order-fonds.csv');
      expect(Buffer.from(await r.arrayBuffer()).equals(bytes)).to.equal(true);
      const bob = await createUser(ctx.db, `bob${Date.now()}`, 'bob-pass-123', 'archivist');
      const bobToken = await createToken(ctx.db, bob.id, 'tests');
      const other = await fetch(`${base}/api/jobs/${done.id}/download`, { headers: { authorization: `Bearer ${bobToken}` } });
      expect(other.status).to.equal(404);
    });

    it('still serves a result of the results folder from before the store', async () => {
      const { job } = await ctx.service.enqueue({ task: 'noop', params: {}, origin: 'cli', user: null });
      await finished(job.id);
      mkdirSync(env.config.resultsDir, { recursive: true });
      writeFileSync(join(env.config.resultsDir, 'abcdef0123456789.csv'), 'legacyId,title\n1,Old\n');
      await ctx.db('jobs').where({ id: job.id }).update({ result_file: 'abcdef0123456789.csv', result_name: 'old-export.csv', user_id: aliceId });
      const r = await fetch(`${base}/api/jobs/${job.id}/download`, { headers: { authorization: `Bearer ${token}` } });
      expect(r.status).to.equal(200);
      expect(r.headers.get('content-disposition')).to.equal('attachment; filename=old-export.csv');
      expect(await r.text()).to.equal('legacyId,title\n1,Old\n');
    });

    it('removes a job\'s files, upload and result, when its job is cleared', async () => {
      const r = await multipart({ task: 'csv-import', params: '{}' }, { body: readFileSync(IMPORT_ORDER), name: 'again.csv' });
      const id = ((await r.json()) as { job: { id: number } }).job.id;
      await finished(id);
      const { job: exp } = await ctx.service.enqueue({ task: 'csv-export', params: { description: 'csv-import-order-fonds' }, origin: 'api', user: { id: aliceId, username: 'alice', role: 'archivist' } as never });
      const done = await finished(exp.id);
      expect(await ctx.files.exists(done.resultFile!)).to.equal(true);
      expect(await storedFiles()).to.be.greaterThan(1);
      const cleared = await ctx.service.cleanup.clearInactive({ userId: null, includeCommandLine: true });
      expect(cleared).to.be.greaterThan(2);
      expect(await ctx.files.exists(done.resultFile!)).to.equal(false);
      expect(await storedFiles()).to.equal(0);
    });

    it('names the finding aid a clear removes; after it, the list and the description page agree and link to nothing', async () => {
      const { job: imp } = await ctx.service.enqueue({ task: 'csv-import', params: { file: IMPORT_ORDER }, origin: 'cli', user: null });
      await finished(imp.id);
      const slug = 'csv-import-order-fonds';
      const alice = { id: aliceId, username: 'alice', role: 'archivist' } as never;
      const { job } = await ctx.service.enqueue({ task: 'finding-aid', params: { description: slug, format: 'rtf' }, origin: 'web', user: alice });
      expect((await finished(job.id)).status).to.equal('completed');
      const browser = await loggedIn(base, 'alice');
      const row = (html: string) => new RegExp(`href="/descriptions/${slug}">[^<]*</a></td>(?:\\s*<td>[^<]*</td>){4}\\s*<td>([^<]*)</td>`).exec(html)?.[1];
      expect(row((await browser.get('/descriptions')).text)).to.equal('Generated');
      const page = (await browser.get(`/descriptions/${slug}`)).text;
      expect(page).to.include(`href="/descriptions/${slug}/finding-aid"`);
      expect((await browser.get(`/descriptions/${slug}/finding-aid`)).status).to.equal(200);
      const dialog = (await browser.get('/jobs/clear-inactive')).text;
      expect(dialog).to.include(`Finding aid ${slug}.rtf (job ${job.id})`);
      expect((await browser.post('/jobs/clear-inactive', { confirm: 'yes' })).status).to.equal(303);
      expect(row((await browser.get('/descriptions')).text)).to.equal('Removed');
      const after = (await browser.get(`/descriptions/${slug}`)).text;
      expect(after).to.include('Removed');
      expect(after).to.not.include(`href="/descriptions/${slug}/finding-aid"`);
      expect((await browser.get(`/descriptions/${slug}/finding-aid`)).status).to.equal(404);
      const empty = (await browser.get('/jobs/clear-inactive')).text;
      expect(empty).to.include('There are no completed, failed or cancelled jobs to clear');
      expect(empty).to.not.include('Finding aid ');
    });

    it('keeps an abandoned upload only until the sweep', async () => {
      const orphan = await ctx.files.put(Readable.from([Buffer.from('a,b\n')]), { jobId: null, kind: 'upload', name: 'o.csv', contentType: 'text/csv', maxBytes: 100 });
      expect(await ctx.files.sweepAbandoned({ olderThanMs: 0, now: Date.now() + 1000 })).to.equal(1);
      expect(await ctx.files.exists(orphan.id)).to.equal(false);
    });
  });
}
