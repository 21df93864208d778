/**
 * Duplicate finding-aid requests: a request joins an unfinished job only when it asks for
 * the same output (description, format, model, public) and comes from the job's owner, so
 * a join never shows one user another's job (ADR 0005). No worker runs here: every job
 * stays queued, which is the window in which a duplicate request arrives.
 */
import { expect } from 'chai';
import { getDescriptionBySlug, setFindingAid } from '../../app/archive/descriptions.js';
import { seedDemoData } from '../../app/archive/seed.js';
import { claimJob, listEvents } from '../../app/store/jobs.js';
import { createToken } from '../../app/store/tokens.js';
import type { Description } from '../../app/archive/types.js';
import { backends, requireService } from '../helpers.js';
import { Client, loggedIn, startWeb, type Web } from './web-fixture.js';

const FONDS = 'harbour-commission-fonds';

const seen = new Set<string>();
const targets = backends().filter((b) => !seen.has(b.db) && seen.add(b.db));

interface Posted {
  status: number;
  body: { job: { id: number; user: string | null; params: Record<string, unknown> }; joined: boolean };
  text: string;
}

for (const backend of targets) {
  describe(`duplicate finding-aid requests on ${backend.name}`, function () {
    this.timeout(60_000);
    let web: Web;
    let fonds: Description;
    const api: Record<'alice' | 'bob' | 'admin', Client> = {} as never;

    async function request(who: keyof typeof api, params: Record<string, unknown>): Promise<Posted> {
      const r = await api[who].request('POST', '/api/jobs', { json: { task: 'finding-aid', params } });
      return { status: r.status, body: r.json(), text: r.text };
    }

    /** Each test starts with no unfinished finding-aid job. */
    async function clearQueue(): Promise<void> {
      await web.ctx.service.clearQueue('test');
    }

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      web = await startWeb(backend);
      await seedDemoData(web.ctx.db);
      fonds = (await getDescriptionBySlug(web.ctx.db, FONDS))!;
      for (const who of ['alice', 'bob', 'admin'] as const) {
        api[who] = new Client(web.base, await createToken(web.ctx.db, web.users[who].id, 'tests'));
      }
    });

    after(async () => {
      await web?.close();
    });

    beforeEach(clearQueue);

    it("gives bob a job of his own for the description alice's queued job is making, and tells him nothing of hers", async () => {
      const hers = await request('alice', { description: FONDS });
      expect(hers.status).to.equal(202);
      const his = await request('bob', { description: FONDS });
      expect(his.status).to.equal(202);
      expect(his.body.joined).to.equal(false);
      expect(his.body.job.id).to.not.equal(hers.body.job.id);
      expect(his.body.job.user).to.equal('bob');
      expect(his.text).to.not.include('alice');
      // Alice's history does not learn of bob's request.
      const events = await listEvents(web.ctx.db, hers.body.job.id);
      expect(events.map((e) => e.type)).to.deep.equal(['queued']);
      expect(JSON.stringify(events)).to.not.include('bob');
      // The README's promise holds both ways: another user's job is a 404.
      expect((await api.bob.get(`/api/jobs/${hers.body.job.id}`)).status).to.equal(404);
      expect((await api.alice.get(`/api/jobs/${his.body.job.id}`)).status).to.equal(404);
      expect((await api.bob.get(`/api/jobs/${his.body.job.id}`)).status).to.equal(200);
    });

    it('joins a second identical request of the same user, by slug or by id', async () => {
      const first = await request('alice', { description: FONDS });
      const again = await request('alice', { description: String(fonds.id), format: 'pdf', model: 'inventory-summary', public: true });
      expect(again.body.joined).to.equal(true);
      expect(again.body.job.id).to.equal(first.body.job.id);
      const events = await listEvents(web.ctx.db, first.body.job.id);
      expect(events.map((e) => e.type)).to.deep.equal(['queued', 'joined']);
    });

    it('makes requests that differ in format, model or public different jobs', async () => {
      const pdf = await request('alice', { description: FONDS });
      const rtf = await request('alice', { description: FONDS, format: 'rtf' });
      const full = await request('alice', { description: FONDS, model: 'full-details' });
      // Public is the default: the full one is another document.
      const pub = await request('alice', { description: FONDS, public: false });
      const ids = [pdf, rtf, full, pub].map((p) => p.body.job.id);
      expect(new Set(ids).size).to.equal(4);
      expect([rtf, full, pub].map((p) => p.body.joined)).to.deep.equal([false, false, false]);
      expect(rtf.body.job.params.format).to.equal('rtf');
    });

    it("gives an administrator's request its own job, and an archivist's after it too", async () => {
      const hers = await request('alice', { description: FONDS });
      const admins = await request('admin', { description: FONDS });
      expect(admins.body.joined).to.equal(false);
      expect(admins.body.job.id).to.not.equal(hers.body.job.id);
      expect(admins.body.job.user).to.equal('admin');
      const bobs = await request('bob', { description: FONDS, format: 'rtf' });
      const adminRtf = await request('admin', { description: FONDS, format: 'rtf' });
      expect(adminRtf.body.joined).to.equal(false);
      expect(adminRtf.body.job.id).to.not.equal(bobs.body.job.id);
      // An administrator's repeated request joins their own job.
      const adminAgain = await request('admin', { description: String(fonds.id) });
      expect(adminAgain.body).to.deep.include({ joined: true });
      expect(adminAgain.body.job.id).to.equal(admins.body.job.id);
    });

    it('joins command-line requests with each other, and with the named user only', async () => {
      const enqueue = (user: 'alice' | null, description: string) =>
        web.ctx.service.enqueue({ task: 'finding-aid', params: { description }, user: user ? web.users[user] : null, origin: 'cli' });
      const cli = await enqueue(null, FONDS);
      const cliAgain = await enqueue(null, String(fonds.id));
      expect(cliAgain.joined).to.equal(true);
      expect(cliAgain.job.id).to.equal(cli.job.id);
      const hers = await request('alice', { description: FONDS });
      expect(hers.body.joined).to.equal(false);
      expect(hers.body.job.id).to.not.equal(cli.job.id);
      // `docket run --user alice` acts as alice: it joins her job, not the command line's.
      const asAlice = await enqueue('alice', FONDS);
      expect(asAlice.joined).to.equal(true);
      expect(asAlice.job.id).to.equal(hers.body.job.id);
    });

    it("sends bob's form to a job page he may see, and shows each user the status of the jobs they may see only", async () => {
      const alice = await loggedIn(web.base, 'alice');
      const bob = await loggedIn(web.base, 'bob');
      const admin = await loggedIn(web.base, 'admin');
      await alice.get(`/descriptions/${FONDS}`);
      const hers = await alice.post(`/descriptions/${FONDS}/finding-aid`, { format: 'pdf', model: 'inventory-summary' });
      expect(hers.status).to.equal(303);
      const herId = Number(/^\/jobs\/(\d+)$/.exec(hers.location ?? '')![1]);

      // Bob's page says nothing of alice's queued job.
      let page = await bob.get(`/descriptions/${FONDS}`);
      expect(page.status).to.equal(200);
      expect(page.text).to.not.include(`/jobs/${herId}`);
      expect(page.text).to.not.include(`Job ${herId}`);
      expect(page.text).to.not.match(/<strong>Queued<\/strong>/);
      // Alice's and the administrator's do.
      expect((await alice.get(`/descriptions/${FONDS}`)).text).to.include(`Job ${herId}`);
      expect((await admin.get(`/descriptions/${FONDS}`)).text).to.include(`Job ${herId}`);

      const his = await bob.post(`/descriptions/${FONDS}/finding-aid`, { format: 'pdf', model: 'inventory-summary' });
      expect(his.status).to.equal(303);
      expect(his.location).to.match(/^\/jobs\/\d+$/);
      expect(his.location).to.not.equal(`/jobs/${herId}`);
      const hisPage = await bob.get(his.location!);
      expect(hisPage.status).to.equal(200);
      expect(hisPage.text).to.include('is queued');
      const hisId = Number(his.location!.split('/')[2]);
      // Each sees their own job on the description page, never the other's.
      page = await bob.get(`/descriptions/${FONDS}`);
      expect(page.text).to.include(`Job ${hisId}`).and.not.include(`Job ${herId}`);
      page = await alice.get(`/descriptions/${FONDS}`);
      expect(page.text).to.include(`Job ${herId}`).and.not.include(`Job ${hisId}`);
      // Another user's job page stays a 404.
      expect((await bob.get(`/jobs/${herId}`)).status).to.equal(404);
      expect((await alice.get(`/jobs/${hisId}`)).status).to.equal(404);
    });

    it("shows bob the description's finding aid in progress for alice's running job, without her job", async () => {
      const hers = await request('alice', { description: FONDS });
      const id = hers.body.job.id;
      expect(await claimJob(web.ctx.db, id, 'test-worker', Date.now(), 60_000)).to.not.equal(null);
      // What the worker writes when it starts.
      await setFindingAid(web.ctx.db, fonds.id, { status: 'generating', jobId: id, error: null, at: Date.now() });
      const bob = await loggedIn(web.base, 'bob');
      const page = await bob.get(`/descriptions/${FONDS}`);
      expect(page.text).to.match(/<strong>In progress<\/strong>/);
      expect(page.text).to.not.include(`Job ${id}`);
      const alice = await loggedIn(web.base, 'alice');
      const hersPage = await alice.get(`/descriptions/${FONDS}`);
      expect(hersPage.text).to.match(/<strong>In progress<\/strong>/);
      expect(hersPage.text).to.include(`Job ${id}`);
      await web.ctx.service.fail({ id, attempt: 1 }, 'test', { message: 'stopped by the test', unrecoverable: true });
      await setFindingAid(web.ctx.db, fonds.id, { status: 'error', jobId: id, error: 'stopped by the test', at: Date.now() });
    });
  });
}
