/**
 * The archival pages: browse and show descriptions, and every task form enqueuing a job
 * as the signed-in user, run by a real worker, with its result where the page says.
 */
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getDescriptionBySlug, listChildren, setFindingAid } from '../../app/archive/descriptions.js';
import { seedDemoData } from '../../app/archive/seed.js';
import { saveTranslation } from '../../app/archive/translations.js';
import { getJob } from '../../app/store/jobs.js';
import type { Job } from '../../app/types.js';
import { uploadsDir } from '../../app/tasks/uploads.js';
import { Worker } from '../../workers/worker.js';
import { backends, exportEnv, requireService, waitUntil, jobEnded } from '../helpers.js';
import { createToken } from '../../app/store/tokens.js';
import { Client as ClientClass, loggedIn, startWeb, type Client, type Web } from './web-fixture.js';

const IMPORT_ORDER = join(import.meta.dirname, '..', 'fixtures', 'atom', 'import_order.csv');

const seen = new Set<string>();
const targets = backends().filter((b) => !seen.has(b.db) && seen.add(b.db));

for (const backend of targets) {
  describe(`archival pages on ${backend.name}`, function () {
    this.timeout(60_000);
    let web: Web;
    let worker: Worker;
    let alice: Client;
    let restoreEnv: (() => void) | undefined;

    /** Every file the store holds, complete or not. */
    async function storedFiles(): Promise<number> {
      const [row] = (await web.ctx.db('files').count({ n: '*' })) as Array<{ n: number | string }>;
      return Number(row.n);
    }

    async function finished(id: number): Promise<Job> {
      return jobEnded(web.ctx.db, id, 30_000);
    }

    /** Posts a form and follows to the job it started; returns the finished job. */
    async function submit(path: string, form: Record<string, string>): Promise<Job> {
      await alice.get(path.replace(/\/[a-z-]+$/, ''));
      const r = await alice.post(path, form);
      expect(r.status, r.text.slice(0, 300)).to.equal(303);
      const m = /^\/jobs\/(\d+)$/.exec(r.location ?? '');
      expect(m, `redirect to a job page, not ${r.location}`).to.not.equal(null);
      return finished(Number(m![1]));
    }

    /** Uploads a CSV through the import form (multipart, token in the query) as alice. */
    async function uploadImport(csv: BlobPart, name: string, withToken = true): Promise<Response> {
      const form = new FormData();
      form.append('file', new Blob([csv], { type: 'text/csv' }), name);
      form.append('update', 'none');
      form.append('onError', 'skip');
      await alice.get('/descriptions/import');
      const cookie = [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const query = withToken ? `?_csrf=${encodeURIComponent(alice.csrf)}` : '';
      return fetch(`${web.base}/descriptions/import${query}`, { method: 'POST', body: form, headers: { cookie }, redirect: 'manual' });
    }

    /** The job an upload started, once finished. */
    async function importJob(r: Response): Promise<Job> {
      expect(r.status, await r.text()).to.equal(303);
      return finished(Number(/^\/jobs\/(\d+)$/.exec(r.headers.get('location') ?? '')![1]));
    }

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      web = await startWeb(backend);
      restoreEnv = exportEnv(web.env.env, ['DATABASE_URL', 'DOCKET_RESULTS_DIR', 'DOCKET_JOB_LOG_DIR']);
      worker = new Worker(web.ctx.service, web.ctx.transport, { concurrency: 1 });
      await worker.start();
      alice = await loggedIn(web.base, 'alice');
    });

    after(async () => {
      await worker?.stop(5000);
      await web?.close();
      restoreEnv?.();
    });

    it('seeds the demo data once, and lists the top-level descriptions', async () => {
      const empty = await alice.get('/descriptions');
      expect(empty.status).to.equal(200);
      expect(empty.text).to.include('There are no descriptions yet');
      const n = await seedDemoData(web.ctx.db);
      expect(n).to.equal(17);
      expect(await seedDemoData(web.ctx.db)).to.equal(0);
      const page = await alice.get('/descriptions');
      expect(page.text).to.include('Harbour Commission fonds');
      expect(page.text).to.include('Ferry Company records');
      expect(page.text).to.match(/href="\/descriptions\/harbour-commission-fonds"/);
    });

    it('shows a description with its fields, lower levels and status; ids redirect to the slug', async () => {
      const d = (await getDescriptionBySlug(web.ctx.db, 'harbour-commission-fonds'))!;
      const byId = await alice.get(`/descriptions/${d.id}`);
      expect(byId.status).to.equal(301);
      expect(byId.location).to.equal('/descriptions/harbour-commission-fonds');
      const page = await alice.get('/descriptions/harbour-commission-fonds');
      expect(page.status).to.equal(200);
      expect(page.text).to.include('Fonds: Harbour Commission fonds');
      expect(page.text).to.include('Scope and content');
      expect(page.text).to.include('Records of the commission that built and ran the harbour');
      // A repeatable field is a list on the page, one item each.
      expect(page.text).to.include('Language of material</dt><dd style="white-space: pre-wrap"><ul class="field-list"><li>en</li><li>fr</li></ul></dd>');
      expect(page.text).to.include('Subject access points</dt><dd style="white-space: pre-wrap"><ul class="field-list"><li>Harbours</li><li>Public works</li></ul></dd>');
      expect(page.text).to.include('Creators and other actors</dt><dd style="white-space: pre-wrap"><ul class="field-list"><li>Harbour Commission</li></ul></dd>');
      expect(page.text).to.include('Dates</dt><dd style="white-space: pre-wrap"><ul class="field-list"><li>1890-1952</li></ul></dd>');
      for (const child of ['Minutes', 'Correspondence', 'Photographs']) expect(page.text).to.include(`>${child}</a>`);
      expect(page.text).to.include('None generated yet.');
      const item = await alice.get('/descriptions/letter-about-the-new-breakwater');
      expect(item.text).to.include('HC-02-01-001');
      expect((await alice.get('/descriptions/no-such-thing')).status).to.equal(404);
    });

    it('generates a finding aid from the page, shows it generated and serves it', async () => {
      const job = await submit('/descriptions/harbour-commission-fonds/finding-aid', {
        format: 'rtf',
        model: 'full-details',
        public: 'true',
      });
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(job.origin).to.equal('web');
      expect(job.username).to.equal('alice');
      const page = await alice.get('/descriptions/harbour-commission-fonds');
      expect(page.text).to.include('<strong>Generated</strong>');
      expect(page.text).to.include('href="/descriptions/harbour-commission-fonds/finding-aid"');
      const file = await alice.get('/descriptions/harbour-commission-fonds/finding-aid');
      expect(file.status).to.equal(200);
      expect(file.headers.get('content-disposition')).to.include('harbour-commission-fonds.rtf');
      expect(file.text.startsWith('{\\rtf1')).to.equal(true);
      // Public: the draft series is not in it.
      expect(file.text).to.include('Letter about the new breakwater');
      expect(file.text).to.not.include('The harbour in winter');
      // The jobs page links the job to the description.
      const d = (await getDescriptionBySlug(web.ctx.db, 'harbour-commission-fonds'))!;
      expect((await alice.get('/jobs')).text).to.include(`href="/descriptions/${d.id}"`);
    });

    it('shows an error, not "in progress", when the finding aid\'s job ended without finishing it', async () => {
      const d = (await getDescriptionBySlug(web.ctx.db, 'ferry-company-records'))!;
      const { job } = await web.ctx.service.enqueue({ task: 'noop', params: {}, origin: 'cli' });
      await finished(job.id);
      await setFindingAid(web.ctx.db, d.id, { status: 'generating', jobId: job.id });
      const page = await alice.get('/descriptions/ferry-company-records');
      expect(page.text).to.include('<strong>Error</strong>');
      expect(page.text).to.include('Its job ended before it was written.');
    });

    it('imports an uploaded CSV as the user, the upload kept in the file store as the job\'s', async () => {
      const refused = await uploadImport(readFileSync(IMPORT_ORDER), 'import_order.csv', false);
      expect(refused.status, 'an upload without the CSRF token').to.equal(403);
      const job = await importJob(await uploadImport(readFileSync(IMPORT_ORDER), 'import_order.csv'));
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(job.username).to.equal('alice');
      expect(job.resultSummary).to.equal('34 rows: 34 created, 0 updated, 0 skipped');
      const params = job.params as { file: string; sourceName: string };
      expect(params.sourceName).to.equal('import_order.csv');
      expect(params.file).to.match(/^f[0-9a-f]{32}$/);
      const files = await web.ctx.files.list(job.id);
      expect(files.map((f) => [f.id, f.kind, f.name, f.size])).to.deep.equal([[params.file, 'upload', 'import_order.csv', readFileSync(IMPORT_ORDER).length]]);
      expect(existsSync(uploadsDir(web.env.config.resultsDir)), 'nothing written to the old uploads folder').to.equal(false);
      const fonds = (await getDescriptionBySlug(web.ctx.db, 'csv-import-order-fonds'))!;
      expect((await listChildren(web.ctx.db, fonds.id)).items.map((d) => d.title)).to.deep.equal([
        'Series A',
        'Series B',
        'Series C',
      ]);
    });

    it('keeps the upload of a failed import for a retry, and removes it when the job is cleared', async () => {
      const job = await importJob(await uploadImport('nonsense,columns\n1,2\n', 'wrong.csv'));
      expect(job.status).to.equal('failed');
      expect(job.error).to.match(/^The file was not imported: /);
      const file = (job.params as { file: string }).file;
      expect((await web.ctx.files.list(job.id)).map((f) => f.id)).to.deep.equal([file]);
      await alice.get('/jobs/clear-inactive');
      const cleared = await alice.post('/jobs/clear-inactive', { confirm: 'yes' });
      expect(cleared.status).to.equal(303);
      expect(await getJob(web.ctx.db, job.id)).to.equal(null);
      expect(await web.ctx.files.exists(file)).to.equal(false);
      expect(await storedFiles()).to.equal(0);
    });

    it('asks again, with the reason, for an import form without a file or with options that do not go together', async () => {
      await alice.get('/descriptions/import');
      const form = new FormData();
      form.append('update', 'none');
      form.append('skipUnmatched', 'true');
      form.append('file', new Blob(['legacyId,title\n1,A\n']), 'a.csv');
      const cookie = [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const r = await fetch(`${web.base}/descriptions/import?_csrf=${encodeURIComponent(alice.csrf)}`, {
        method: 'POST',
        body: form,
        headers: { cookie },
        redirect: 'manual',
      });
      expect(r.status).to.equal(400);
      expect(await r.text()).to.include('applies only when updating');
      expect(await storedFiles(), 'the refused upload left nothing in the store').to.equal(0);
    });

    it("takes AtoM's --roundtrip, default parent and --skip-rows on the import form, refusing what does not go together", async () => {
      const post = async (fields: Record<string, string>, csv = 'legacyId,parentId,title\n1,,Skipped here\n2,,Under the default\n') => {
        await alice.get('/descriptions/import');
        const form = new FormData();
        form.append('file', new Blob([csv], { type: 'text/csv' }), 'opts.csv');
        for (const [k, v] of Object.entries(fields)) form.append(k, v);
        const cookie = [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
        return fetch(`${web.base}/descriptions/import?_csrf=${encodeURIComponent(alice.csrf)}`, { method: 'POST', body: form, headers: { cookie }, redirect: 'manual' });
      };
      const page = await alice.get('/descriptions/import');
      for (const id of ['roundtrip', 'defaultParentSlug', 'defaultLegacyParentId', 'skipRows']) expect(page.text).to.include(`id="${id}"`);
      const cases: Array<[Record<string, string>, string]> = [
        [{ update: 'none', roundtrip: 'true' }, '&#34;Round trip&#34; matches rows on their legacyId'],
        [{ update: 'none', defaultParentSlug: 'a', defaultLegacyParentId: 'b' }, 'not both'],
        [{ update: 'none', skipRows: 'two' }, '&#34;Skip rows&#34; must be a whole number of rows'],
      ];
      for (const [fields, message] of cases) {
        const r = await post(fields);
        expect(r.status).to.equal(400);
        expect(await r.text()).to.include(message);
      }
      expect(await storedFiles(), 'the refused uploads left nothing in the store').to.equal(0);
      const job = await importJob(await post({ update: 'none', onError: 'skip', defaultParentSlug: 'ferry-company-records', skipRows: '1' }));
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(job.params).to.include({ defaultParentSlug: 'ferry-company-records', skipRows: 1 });
      expect(job.resultSummary).to.equal('1 rows: 1 created, 0 updated, 0 skipped');
      const ferry = (await getDescriptionBySlug(web.ctx.db, 'ferry-company-records'))!;
      expect((await getDescriptionBySlug(web.ctx.db, 'under-the-default'))!.parentId).to.equal(ferry.id);
      expect(await getDescriptionBySlug(web.ctx.db, 'skipped-here')).to.equal(null);
      // The tests after this one count the demo fonds' descriptions.
      await web.ctx.db('description_keymap').where({ source_name: 'opts.csv' }).del();
      await web.ctx.db('descriptions').where({ slug: 'under-the-default' }).del();
    });

    it('updates publication status, exports and moves from the page', async () => {
      const status = await submit('/descriptions/ferry-company-records/publication-status', {
        status: 'published',
        descendants: 'true',
      });
      expect(status.status, status.error ?? '').to.equal('completed');
      expect(status.resultSummary).to.equal('4 descriptions changed to Published (4 in all)');

      const exp = await submit('/descriptions/minutes/export', {});
      expect(exp.status, exp.error ?? '').to.equal('completed');
      const csv = await alice.get(`/jobs/${exp.id}/download`);
      expect(csv.status).to.equal(200);
      expect(csv.headers.get('content-disposition')).to.include('minutes.csv');
      expect(csv.text).to.include('Minutes of the first meeting');
      expect(csv.text.split('\n')[1]).to.include(',harbour-commission-fonds,');

      const refused = await submit('/descriptions/harbour-commission-fonds/move', { parent: 'minutes' });
      expect(refused.status).to.equal('failed');
      expect(refused.error).to.include('is one of its own descendants');
      const moved = await submit('/descriptions/photographs/move', { parent: 'ferry-company-records' });
      expect(moved.status, moved.error ?? '').to.equal('completed');
      const ferry = (await getDescriptionBySlug(web.ctx.db, 'ferry-company-records'))!;
      expect((await getDescriptionBySlug(web.ctx.db, 'photographs'))!.parentId).to.equal(ferry.id);

      await alice.get('/descriptions/photographs');
      const nowhere = await alice.post('/descriptions/photographs/move', { parent: 'no-such-parent' });
      expect(nowhere.status).to.equal(303);
      expect(nowhere.location).to.equal('/descriptions/photographs');
      expect((await alice.get('/descriptions/photographs')).text).to.include('No description has the slug or id');
    });

    it("shows a description in the reader's language: ?culture= remembered in the session, else Accept-Language, else the source", async () => {
      const d = (await getDescriptionBySlug(web.ctx.db, 'harbour-commission-fonds'))!;
      // A French translation of the title only: the rest falls back to the source, field by field.
      await saveTranslation(web.ctx.db, d.id, { culture: 'fr', fields: { title: 'Fonds de la Commission du port' } });
      const reader = await loggedIn(web.base, 'alice');
      const source = await reader.get('/descriptions/harbour-commission-fonds');
      expect(source.text).to.include('Fonds: Harbour Commission fonds');
      expect(source.text).to.include('aria-current="true">English (source)</a>');
      expect(source.text).to.include('href="/descriptions/harbour-commission-fonds?culture=fr" lang="fr">Français</a>');
      // The browser's language, when the description has it.
      const browser = await reader.get('/descriptions/harbour-commission-fonds', { 'accept-language': 'fr-CA,fr;q=0.9,en;q=0.5' });
      expect(browser.text).to.include('Fonds: Fonds de la Commission du port');
      expect(browser.text).to.include('<dd style="white-space: pre-wrap" lang="en" class="fallback">Records of the commission that built and ran the harbour');
      // A choice on the page beats the browser and is remembered for the next pages.
      const chosen = await reader.get('/descriptions/harbour-commission-fonds?culture=en', { 'accept-language': 'fr' });
      expect(chosen.text).to.include('Fonds: Harbour Commission fonds');
      const next = await reader.get('/descriptions/harbour-commission-fonds', { 'accept-language': 'fr' });
      expect(next.text).to.include('Fonds: Harbour Commission fonds');
      await reader.get('/descriptions/harbour-commission-fonds?culture=fr');
      const again = await reader.get('/descriptions/harbour-commission-fonds');
      expect(again.text).to.include('Fonds: Fonds de la Commission du port');
      expect(again.text).to.include('<option value="fr" selected>Français</option>');
      // A language the description lacks: the source, said so.
      const german = await reader.get('/descriptions/harbour-commission-fonds?culture=de');
      expect(german.text).to.include('Fonds: Harbour Commission fonds');
      expect(german.text).to.include('No translation in Deutsch: shown in the source language.');
      const bad = await reader.get('/descriptions/harbour-commission-fonds?culture=%3Cscript%3E');
      expect(bad.status).to.equal(400);
      expect(bad.text).to.include('is not a culture code');
      // The finding-aid form's language goes to the job.
      const job = await submit('/descriptions/harbour-commission-fonds/finding-aid', { format: 'rtf', model: 'inventory-summary', culture: 'fr' });
      expect(job.status, job.error ?? '').to.equal('completed');
      expect(job.resultName).to.equal('harbour-commission-fonds-fr.rtf');
    });

    interface GroupJson {
      id: number;
      name: string;
      chain: boolean;
      status: string;
      complete: boolean;
      jobs: Array<{ id: number; task: string }>;
    }

    /** The envelope's page linked from the flash of the job page a chain form went to. */
    async function envelopeFrom(jobPage: string): Promise<GroupJson> {
      const page = await alice.get(jobPage);
      const m = /Envelope (\d+) is queued: [^<]*<a href="\/groups\/(\d+)">Follow envelope \d+<\/a>/.exec(page.text);
      expect(m, 'a flash linking the envelope').to.not.equal(null);
      expect(m![1]).to.equal(m![2]);
      expect((await alice.get(`/groups/${m![2]}`)).status).to.equal(200);
      return (await alice.get(`/api/groups/${m![2]}`)).json<{ group: GroupJson }>().group;
    }

    async function complete(id: number): Promise<GroupJson> {
      return waitUntil(
        async () => {
          const g = (await alice.get(`/api/groups/${id}`)).json<{ group: GroupJson }>().group;
          return g.complete ? g : null;
        },
        45_000,
        `envelope ${id}`,
      );
    }

    it('imports, then generates the finding aid of the imported fonds: a chain of two, to Success', async () => {
      const form = new FormData();
      form.append('file', new Blob([readFileSync(IMPORT_ORDER)], { type: 'text/csv' }), 'import_order.csv');
      form.append('update', 'none');
      form.append('onError', 'skip');
      form.append('thenFindingAid', 'true');
      await alice.get('/descriptions/import');
      expect((await alice.get('/descriptions/import')).text).to.include('Then generate the finding aid');
      const cookie = [...alice.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const r = await fetch(`${web.base}/descriptions/import?_csrf=${encodeURIComponent(alice.csrf)}`, { method: 'POST', body: form, headers: { cookie }, redirect: 'manual' });
      expect(r.status, await r.text()).to.equal(303);
      const location = r.headers.get('location') ?? '';
      const g = await envelopeFrom(location);
      expect(g.chain).to.equal(true);
      expect(g.name).to.equal('Import import_order.csv, then finding aid');
      expect(g.jobs.map((j) => j.task)).to.deep.equal(['csv-import', 'finding-aid']);
      expect(location).to.equal(`/jobs/${g.jobs[0].id}`);
      const held = (await getJob(web.ctx.db, g.jobs[1].id))!;
      expect(held.params).to.include({ description: '@previous', format: 'pdf', model: 'inventory-summary' });
      // The upload is the import's, as for an import on its own.
      const upload = ((await getJob(web.ctx.db, g.jobs[0].id))!.params as { file: string }).file;
      expect((await web.ctx.files.list(g.jobs[0].id)).map((f) => f.id)).to.deep.equal([upload]);

      const done = await complete(g.id);
      expect(done.status).to.equal('Success');
      const [imp, aid] = await Promise.all(g.jobs.map(async (j) => (await getJob(web.ctx.db, j.id))!));
      expect(imp.objectRef).to.match(/^description:\d+$/);
      const fondsId = Number(imp.objectRef!.split(':')[1]);
      expect(aid.params).to.include({ description: String(fondsId) });
      expect(aid.objectRef).to.equal(`description:${fondsId}`);
      expect(aid.startedAt as number).to.be.at.least(imp.finishedAt as number);
      const fonds = (await web.ctx.db('descriptions').where({ id: fondsId }).first()) as { finding_aid_status: string; parent_id: number | null };
      expect(fonds.parent_id).to.equal(null);
      expect(fonds.finding_aid_status).to.equal('generated');
    });

    it('exports a whole fonds, then generates its finding aid: a chain of two, to Success', async () => {
      const page = await alice.get('/descriptions/harbour-commission-fonds');
      expect(page.text).to.include('Export, then finding aid');
      const r = await alice.post('/descriptions/harbour-commission-fonds/export-finding-aid', { format: 'rtf', model: 'full-details' });
      expect(r.status, r.text.slice(0, 300)).to.equal(303);
      const g = await envelopeFrom(r.location ?? '');
      const fonds = (await getDescriptionBySlug(web.ctx.db, 'harbour-commission-fonds'))!;
      expect(g.name).to.equal(`Export, then finding aid: ${fonds.title}`);
      expect(g.jobs.map((j) => j.task)).to.deep.equal(['csv-export', 'finding-aid']);
      const done = await complete(g.id);
      expect(done.status).to.equal('Success');
      const [exp, aid] = await Promise.all(g.jobs.map(async (j) => (await getJob(web.ctx.db, j.id))!));
      expect(exp.params).to.include({ description: String(fonds.id), public: false });
      expect(aid.params).to.include({ description: String(fonds.id), format: 'rtf', model: 'full-details' });
      expect(aid.startedAt as number).to.be.at.least(exp.finishedAt as number);
      expect((await alice.get(`/jobs/${exp.id}/download`)).text).to.include('Harbour');

      // A lower level is no fonds: back to its page with the reason, no envelope made.
      const groupsBefore = Number(((await web.ctx.db('job_groups').count({ n: '*' })) as Array<{ n: number | string }>)[0].n);
      await alice.get('/descriptions/minutes');
      const refused = await alice.post('/descriptions/minutes/export-finding-aid', {});
      expect(refused.status).to.equal(303);
      expect(refused.location).to.equal('/descriptions/minutes');
      expect((await alice.get('/descriptions/minutes')).text).to.include('is for a whole fonds');
      expect(Number(((await web.ctx.db('job_groups').count({ n: '*' })) as Array<{ n: number | string }>)[0].n)).to.equal(groupsBefore);
    });

    it('refuses "@previous" outside a chain\'s later steps, and fails a step whose previous job named no description', async () => {
      const api = new ClientClass(web.base, await createToken(web.ctx.db, web.users.alice.id, 'tests'));
      const first = await api.request('POST', '/api/groups', { json: { name: 'x', chain: true, jobs: [{ task: 'csv-export', params: { description: '@previous' } }] } });
      expect(first.status).to.equal(400);
      expect(first.json<{ error: { message: string } }>().error.message).to.include('jobs[0].params.description: "@previous"');
      const notChain = await api.request('POST', '/api/groups', {
        json: { name: 'x', jobs: [{ task: 'csv-export', params: { description: 'minutes' } }, { task: 'finding-aid', params: { description: '@previous' } }] },
      });
      expect(notChain.status).to.equal(400);
      // A noop names no description as its result: the finding aid has none to take.
      const admin = new ClientClass(web.base, await createToken(web.ctx.db, web.users.admin.id, 'tests'));
      const r = await admin.request('POST', '/api/groups', {
        json: {
          name: 'nothing to take',
          chain: true,
          jobs: [
            { task: 'noop' },
            { task: 'finding-aid', params: { description: '@previous' } },
            { task: 'csv-export', params: { description: '@previous' } },
          ],
        },
      });
      expect(r.status, r.text).to.equal(202);
      const g = r.json<{ group: GroupJson }>().group;
      const done = await waitUntil(
        async () => {
          const x = (await admin.get(`/api/groups/${g.id}`)).json<{ group: GroupJson }>().group;
          return x.complete ? x : null;
        },
        30_000,
        'the envelope',
      );
      expect(done.status).to.equal('Errors');
      const [noop, aid, exp] = await Promise.all(g.jobs.map(async (j) => (await getJob(web.ctx.db, j.id))!));
      expect(noop.status).to.equal('completed');
      expect(aid.status).to.equal('failed');
      expect(aid.error).to.equal(`job ${noop.id} named no description for "description" to take`);
      expect(aid.startedAt).to.equal(null);
      expect(exp.status).to.equal('cancelled');
    });

    it('sends anonymous visitors to the login page', async () => {
      const r = await fetch(`${web.base}/descriptions`, { redirect: 'manual' });
      expect(r.status).to.equal(303);
      expect(r.headers.get('location')).to.match(/^\/login/);
    });
  });
}
