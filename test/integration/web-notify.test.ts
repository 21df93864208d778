import { expect } from 'chai';
import { listSubscriptions } from '../../app/store/job-subscriptions.js';
import { getProfile } from '../../app/store/user-profile.js';
import { backends } from '../helpers.js';
import { ECHO_TASK, loggedIn, startWeb, type Web } from './web-fixture.js';

for (const backend of backends().filter((b) => b.transport === 'db')) {
  describe(`notification settings on the web (${backend.name})`, function () {
    this.timeout(60_000);
    let web: Web;

    before(async () => {
      web = await startWeb(backend);
    });
    after(async () => {
      await web?.close();
    });

    it('a user sets their email and default on /profile; the new-job form starts with the bell as the default', async () => {
      const alice = await loggedIn(web.base, 'alice');
      expect((await alice.get(`/jobs/new?task=${ECHO_TASK}`)).text).not.to.match(/name="notify" value="true" checked/);
      await alice.get('/profile');
      const bad = await alice.post('/profile', { email: 'not an address', notify_default: ['false', 'true'] });
      expect(bad.status).to.equal(400);
      expect(bad.text).to.include('is not an email address');
      const ok = await alice.post('/profile', { email: 'alice@example.org', notify_default: ['false', 'true'] });
      expect(ok.status).to.equal(303);
      expect(await getProfile(web.ctx.db, web.users.alice.id)).to.deep.equal({ email: 'alice@example.org', notifyDefault: true });
      expect((await alice.get(`/jobs/new?task=${ECHO_TASK}`)).text).to.match(/name="notify" value="true" checked/);
    });

    it('POST /api/jobs takes notify and webhooks, refuses bad ones with 400; the bell turns the mail off', async () => {
      const bob = await loggedIn(web.base, 'bob');
      await bob.get('/jobs/new');
      const headers = { 'x-csrf-token': bob.csrf };
      const noMail = await bob.request('POST', '/api/jobs', { json: { task: ECHO_TASK, notify: true }, headers });
      expect(noMail.status).to.equal(400);
      expect(noMail.json<{ error: { message: string } }>().error.message).to.include('bob has no email address');
      const badHook = await bob.request('POST', '/api/jobs', { json: { task: ECHO_TASK, webhooks: [{ url: 'file:///etc/passwd' }] }, headers });
      expect(badHook.status).to.equal(400);
      expect(badHook.json<{ error: { message: string } }>().error.message).to.include('http or https');
      await web.ctx.db('users').where({ id: web.users.bob.id }).update({ email: 'bob@example.org' });
      const res = await bob.request('POST', '/api/jobs', {
        json: { task: ECHO_TASK, notify: true, webhooks: [{ url: 'https://hooks.example.org/${JOB_ID}', events: ['*'] }] },
        headers,
      });
      expect(res.status).to.equal(202);
      const id = res.json<{ job: { id: number } }>().job.id;
      const subs = await listSubscriptions(web.ctx.db, id);
      expect(subs.map((s) => `${s.kind}:${s.event}:${s.target}`)).to.have.members([
        'mail:completed:null',
        'mail:failed:null',
        'mail:cancelled:null',
        'webhook:*:https://hooks.example.org/${JOB_ID}',
      ]);
      const page = await bob.get(`/jobs/${id}`);
      expect(page.text).to.include('You will be mailed when this job ends');
      const off = await bob.post(`/jobs/${id}/notify`, { on: 'false' });
      expect(off.status).to.equal(303);
      expect((await listSubscriptions(web.ctx.db, id)).map((s) => s.kind)).to.deep.equal(['webhook']);
      // Another user's job has no bell for them.
      const alice = await loggedIn(web.base, 'alice');
      await alice.get('/jobs/new');
      expect((await alice.post(`/jobs/${id}/notify`, { on: 'true' })).status).to.be.oneOf([403, 404]);
    });

    it('a user subscribes all their jobs to a webhook on /profile and through /api/profile/webhooks, and removes it; each audited', async () => {
      const owner = await loggedIn(web.base, 'alice');
      await owner.get('/profile');
      const bad = await owner.post('/profile/webhooks', { url: 'file:///etc/passwd', events: 'completed' });
      expect(bad.status).to.equal(400);
      expect(bad.text).to.include('http or https');
      const unknown = await owner.post('/profile/webhooks', { url: 'https://hooks.example.org/${NOPE}' });
      expect(unknown.status).to.equal(400);
      expect(unknown.text).to.include('unknown variable');
      const ok = await owner.post('/profile/webhooks', { url: 'https://hooks.example.org/all?job=${JOB_ID}', events: ['completed', 'failed'] });
      expect(ok.status).to.equal(303);
      const page = (await owner.get('/profile')).text;
      expect(page).to.include('https://hooks.example.org/all?job=${JOB_ID}');
      expect(page).to.include('completed, failed');
      // The API: the same list; an email address as url is mail; DELETE removes.
      const headers = { 'x-csrf-token': owner.csrf };
      const added = await owner.request('POST', '/api/profile/webhooks', { json: { url: 'carol@example.org' }, headers });
      expect(added.status).to.equal(201);
      const hook = added.json<{ webhook: { id: number; kind: string; events: string[] } }>().webhook;
      expect(hook).to.deep.include({ kind: 'mail', events: ['completed', 'failed', 'cancelled'] });
      const refused = await owner.request('POST', '/api/profile/webhooks', { json: { url: 'http://10.0.0.1/x' }, headers });
      expect(refused.status).to.equal(400);
      const list = (await owner.get('/api/profile/webhooks')).json<{ webhooks: Array<{ id: number; url: string }> }>().webhooks;
      expect(list.map((h) => h.url)).to.deep.equal(['https://hooks.example.org/all?job=${JOB_ID}', 'carol@example.org']);
      expect((await owner.request('DELETE', `/api/profile/webhooks/${hook.id}`, { headers })).status).to.equal(204);
      expect((await owner.request('DELETE', `/api/profile/webhooks/${hook.id}`, { headers })).status).to.equal(404);
      // Another user cannot remove it; its owner can, from the page.
      const bob = await loggedIn(web.base, 'bob');
      await bob.get('/profile');
      expect((await bob.post(`/profile/webhooks/${list[0].id}/delete`, {})).status).to.equal(404);
      expect((await owner.post(`/profile/webhooks/${list[0].id}/delete`, {})).status).to.equal(303);
      expect((await owner.get('/profile')).text).to.include('No webhooks');
      const audit = (await web.ctx.db('audit').whereIn('action', ['profile.webhook.add', 'profile.webhook.remove']).orderBy('id', 'asc')) as Array<Record<string, unknown>>;
      expect(audit.map((a) => `${a.actor} ${a.action} ${a.target}`)).to.deep.equal([
        'alice profile.webhook.add user alice',
        'alice profile.webhook.add user alice',
        'alice profile.webhook.remove user alice',
        'alice profile.webhook.remove user alice',
      ]);
      expect(audit[0].detail).to.equal('https://hooks.example.org/all?job=${JOB_ID} (completed, failed)');
    });
  });
}
