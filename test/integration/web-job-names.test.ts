/**
 * What the jobs pages say about each job and the form that starts one: an import's file
 * name and a description's title instead of "Description 56"; running jobs' steps not
 * repeated; a job found by its number; the task filter and the form offering only the
 * tasks one may run, with parameters in words; a description that does not exist refused
 * on the form; the clear confirmation naming how many jobs go.
 */
import { expect } from 'chai';
import { seedDemoData } from '../../app/archive/seed.js';
import type { Job } from '../../app/types.js';
import { backends, requireService } from '../helpers.js';
import { Client, completed, failed, loggedIn, queued, running, startWeb, type Web } from './web-fixture.js';

for (const backend of backends()) {
  describe(`web: naming jobs and the job form on ${backend.name}`, function () {
    this.timeout(60_000);
    let web: Web;
    let alice: Client;
    let admin: Client;
    let top: { id: number; slug: string; title: string };
    const jobs: Record<string, Job> = {};

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      if (backend.transport === 'amqp') await requireService(this, 'amqp');
      web = await startWeb(backend);
      const { ctx, users } = web;
      await seedDemoData(ctx.db);
      top = (await ctx.db('descriptions').whereNull('parent_id').orderBy('id').first('id', 'slug', 'title')) as typeof top;
      top.id = Number(top.id);
      // An upload stored under a random name, with its own name in the parameters.
      jobs.importPath = await queued(ctx, users.alice, 'csv-import', { file: '/var/docket/uploads/9f2c1a.csv', sourceName: 'Harbour accession 2024.csv' });
      // The file store's form: a stored file with its name.
      jobs.importStored = await queued(ctx, users.alice, 'csv-import', { file: '/tmp/x.csv' });
      await ctx.db('jobs').where('id', jobs.importStored.id).update({ params: JSON.stringify({ file: { id: 'f-41', name: 'Parish registers.csv' } }) });
      jobs.exportById = await queued(ctx, users.alice, 'csv-export', { description: String(top.id) });
      jobs.exportMissing = await queued(ctx, users.alice, 'csv-export', { description: 'no-such-fonds' });
      jobs.running = await running(ctx, users.alice);
      await ctx.service.progress(jobs.running, 3, 10, 'checking the file');
      jobs.failed = await failed(ctx, users.alice, 'row 4 is bad');
      jobs.done = await completed(ctx, users.alice, { summary: '4 rows imported' });
      alice = await loggedIn(web.base, 'alice');
      admin = await loggedIn(web.base, 'admin');
    });

    after(async () => {
      await web?.close();
    });

    const rowOf = (html: string, id: number): string => {
      const m = new RegExp(`<tr data-job-id="${id}"[\\s\\S]*?</tr>`).exec(html);
      expect(m, `row of job ${id}`).not.to.equal(null);
      return m![0];
    };

    it('names imports by their file and description jobs by the description’s title, keeping the reference', async () => {
      const page = (await alice.get('/jobs')).text;
      expect(rowOf(page, jobs.importPath.id)).to.include('Harbour accession 2024.csv');
      expect(rowOf(page, jobs.importPath.id)).not.to.include('9f2c1a');
      expect(rowOf(page, jobs.importStored.id)).to.include('Parish registers.csv');
      const exp = rowOf(page, jobs.exportById.id);
      expect(exp).to.include(`>${top.title}</a>`);
      expect(exp).to.include(`(description ${top.id})`);
      expect(exp).to.include(`href="/descriptions/${top.id}"`);
      // No title known: the reference as before.
      expect(rowOf(page, jobs.exportMissing.id)).to.include('Description no-such-fonds');
      // The row link says which job it is.
      expect(exp).to.match(/Export CSV<span class="visually-hidden">, job \d+<\/span><\/a>/);
      const one = (await alice.get(`/jobs/${jobs.importPath.id}`)).text;
      expect(one).to.include('id="job-file">Harbour accession 2024.csv</dd>');
    });

    it('shows dates as “… ago” with the exact UTC time in a title, and a running job’s step once', async () => {
      const row = rowOf((await alice.get('/jobs')).text, jobs.running.id);
      expect(row).to.match(/<time datetime="[^"]+" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">(just now|\d+ s ago)<\/time>/);
      expect(row.match(/checking the file/g)?.length, 'in the progress only').to.equal(1);
      expect(row).to.match(/<td class="c-info info"><\/td>/);
      // Over: the step it was on is no longer shown as progress.
      await web.ctx.service.progress(jobs.failed, 1, null, 'checking the file').catch(() => false);
      const failedRow = rowOf((await alice.get('/jobs')).text, jobs.failed.id);
      expect(failedRow).not.to.include('checking the file');
    });

    it('finds a job by its number, and says so when there is none to see', async () => {
      const found = await alice.get(`/jobs/find?id=%23${jobs.done.id}`);
      expect(found.status).to.equal(303);
      expect(found.location).to.equal(`/jobs/${jobs.done.id}`);
      const adminJob = await queued(web.ctx, web.users.admin);
      const hidden = await alice.get(`/jobs/find?id=${adminJob.id}`);
      expect(hidden.location).to.equal('/jobs');
      expect((await alice.get('/jobs')).text).to.include(`There is no job ${adminJob.id} among your jobs.`);
      await alice.get('/jobs/find?id=abc');
      expect((await alice.get('/jobs')).text).to.include('Type a job number, such as 12, to find that job.');
    });

    it('offers archivists only the tasks they may run in the filter', async () => {
      const filter = /<select id="filter-task"[\s\S]*?<\/select>/;
      const forAlice = filter.exec((await alice.get('/jobs')).text)![0];
      expect(forAlice).to.include('value="csv-export"');
      expect(forAlice).not.to.include('value="sleep"');
      expect(filter.exec((await admin.get('/jobs')).text)![0]).to.include('value="sleep"');
    });

    it('lists archival tasks first and diagnostic ones apart, with parameters in words', async () => {
      const choose = (await admin.get('/jobs/new')).text;
      expect(choose.indexOf('task-group-archival')).to.be.greaterThan(0);
      expect(choose.indexOf('task-group-archival')).to.be.lessThan(choose.indexOf('task-group-diagnostic'));
      expect(/id="task-group-diagnostic"[\s\S]*?<\/fieldset>/.exec(choose)![0]).to.include('value="sleep"');
      expect((await alice.get('/jobs/new')).text).not.to.include('task-group-diagnostic');
      const form = (await alice.get('/jobs/new?task=finding-aid')).text;
      expect(form).to.include('Finding aid model');
      expect(form).to.include('>Inventory summary</option>');
      expect(form).to.include('>PDF</option>');
      expect(form).to.match(/<label for="param-public">Published descriptions only<\/label>/);
      expect(form).to.include('list="description-choices"');
      expect(form).to.include(`<option value="${top.slug}">${top.title}</option>`);
      expect(form).to.include('>Normal</option>');
    });

    it('refuses a description that does not exist on the form, creating no job', async () => {
      await alice.get('/jobs/new?task=csv-export');
      const before = Number(((await web.ctx.db('jobs').count({ n: '*' }).first()) as { n: number }).n);
      const r = await alice.post('/jobs', { task: 'csv-export', 'param.description': 'not-a-fonds' });
      expect(r.status).to.equal(400);
      expect(r.text).to.include('There is no description &#34;not-a-fonds&#34;');
      expect(r.text).to.include('value="not-a-fonds"');
      expect(r.text).to.include('id="new-job-form"');
      const after = Number(((await web.ctx.db('jobs').count({ n: '*' }).first()) as { n: number }).n);
      expect(after).to.equal(before);
      const ok = await alice.post('/jobs', { task: 'csv-export', 'param.description': top.slug });
      expect(ok.status).to.equal(303);
    });

    it('names how many jobs clearing removes', async () => {
      const page = (await alice.get('/jobs')).text;
      // alice's finished jobs: the failed and the completed one.
      expect(page).to.include('This removes <strong>2 jobs</strong>');
      expect(page).to.match(/id="clear-keep" autofocus>Keep them<\/button>/);
      expect(page).to.include('>Clear 2 jobs</button>');
      expect((await alice.get('/jobs/clear-inactive')).text).to.include('This removes <strong>2 jobs</strong>');
    });
  });
}
