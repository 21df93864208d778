/**
 * Ending access: expired and revoked API tokens, a disabled account (sessions and
 * tokens), a password change (every session of the user), a token's last use, and the
 * administrators' tokens page with its revoke button.
 */
import { expect } from 'chai';
import { createToken, listTokens, LAST_USED_EVERY_MS, revokeToken, userForToken } from '../../app/store/tokens.js';
import { createUser, setDisabled, setPassword } from '../../app/store/users.js';
import { backends, requireService } from '../helpers.js';
import { Client, loggedIn, startWeb, type Web } from './web-fixture.js';

// The transport plays no part here: the database backends are enough.
for (const backend of backends().filter((b) => b.transport === 'db')) {
  describe(`web: ending sessions and tokens on ${backend.name}`, function () {
    this.timeout(60_000);
    let web: Web;
    let n = 0;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      web = await startWeb(backend);
    });

    after(async () => {
      await web?.close();
    });

    /** A fresh archivist per test, so that disabling one touches no other test. */
    async function archivist(): Promise<{ name: string; password: string; id: number }> {
      const name = `user${++n}`;
      const password = `${name}-password`;
      const u = await createUser(web.ctx.db, name, password, 'archivist');
      return { name, password, id: u.id };
    }

    async function signedIn(name: string, password: string): Promise<Client> {
      const c = new Client(web.base);
      expect((await c.login(name, password)).status).to.equal(303);
      expect((await c.get('/jobs')).status).to.equal(200);
      return c;
    }

    it('refuses an expired token with 401 and accepts one that has not expired', async () => {
      const u = await archivist();
      const expired = await createToken(web.ctx.db, u.id, 'old', Date.now() - 1000);
      const fresh = await createToken(web.ctx.db, u.id, 'new', Date.now() + 3600_000);
      const r = await new Client(web.base, expired).get('/api/jobs');
      expect(r.status).to.equal(401);
      expect(r.json<{ error: { message: string } }>().error.message).to.equal('The API token is not valid');
      expect((await new Client(web.base, fresh).get('/api/jobs')).status).to.equal(200);
    });

    it('refuses a revoked token with 401 at once', async () => {
      const u = await archivist();
      const token = await createToken(web.ctx.db, u.id, 'script');
      const c = new Client(web.base, token);
      expect((await c.get('/api/jobs')).status).to.equal(200);
      const [info] = await listTokens(web.ctx.db, { userId: u.id });
      expect(await revokeToken(web.ctx.db, info.id)).to.equal('revoked');
      expect(await revokeToken(web.ctx.db, info.id)).to.equal('already');
      expect((await c.get('/api/jobs')).status).to.equal(401);
    });

    it("signs a disabled user's session out and refuses its tokens at once; it cannot log in again", async () => {
      const u = await archivist();
      const c = await signedIn(u.name, u.password);
      const token = await createToken(web.ctx.db, u.id, 'script');
      expect((await new Client(web.base, token).get('/api/jobs')).status).to.equal(200);
      expect(await setDisabled(web.ctx.db, u.name, true)).to.equal(true);
      const page = await c.get('/jobs');
      expect(page.status).to.equal(303);
      expect(page.location).to.match(/^\/login/);
      expect((await c.get('/api/jobs')).status).to.equal(401);
      expect((await new Client(web.base, token).get('/api/jobs')).status).to.equal(401);
      const again = await new Client(web.base).login(u.name, u.password);
      expect(again.status).to.equal(401);
      // Enabled again, its token works; it signs in anew.
      expect(await setDisabled(web.ctx.db, u.name, false)).to.equal(true);
      expect((await new Client(web.base, token).get('/api/jobs')).status).to.equal(200);
      await signedIn(u.name, u.password);
    });

    it('refuses a session of a disabled user even when its row survives (written back by a request in flight)', async () => {
      const u = await archivist();
      const c = await signedIn(u.name, u.password);
      const rows = (await web.ctx.db('sessions').select('sid', 'sess', 'expired')) as Array<{ sid: string; sess: string; expired: unknown }>;
      const mine = rows.filter((r) => r.sess.includes(`"userId":${u.id},`) || r.sess.includes(`"userId":${u.id}}`));
      expect(mine).to.have.length(1);
      await setDisabled(web.ctx.db, u.name, true);
      await web.ctx.db('sessions').insert(mine[0]);
      // The user cache of the web process holds for USER_TTL_MS (2 s).
      await new Promise((r) => setTimeout(r, 2100));
      expect((await c.get('/jobs')).status).to.equal(303);
    });

    it("ends every session of the user at a password change, and no other user's", async () => {
      const u = await archivist();
      const other = await archivist();
      const first = await signedIn(u.name, u.password);
      const second = await signedIn(u.name, u.password);
      const bystander = await signedIn(other.name, other.password);
      await setPassword(web.ctx.db, u.name, 'a-brand-new-password');
      for (const c of [first, second]) expect((await c.get('/jobs')).status).to.equal(303);
      expect((await bystander.get('/jobs')).status).to.equal(200);
      expect((await new Client(web.base).login(u.name, u.password)).status).to.equal(401);
      await signedIn(u.name, 'a-brand-new-password');
    });

    it('records when a token was last used, writing it at most once a minute', async () => {
      const u = await archivist();
      const token = await createToken(web.ctx.db, u.id, 'script');
      expect((await listTokens(web.ctx.db, { userId: u.id }))[0].lastUsedAt).to.equal(null);
      const before = Date.now();
      expect((await new Client(web.base, token).get('/api/jobs')).status).to.equal(200);
      const first = (await listTokens(web.ctx.db, { userId: u.id }))[0].lastUsedAt;
      expect(first).to.be.a('number').within(before, Date.now());
      // Used again within the minute: no write. A minute later: written again.
      expect(await userForToken(web.ctx.db, token, first! + LAST_USED_EVERY_MS - 1)).to.include({ username: u.name });
      expect((await listTokens(web.ctx.db, { userId: u.id }))[0].lastUsedAt).to.equal(first);
      await userForToken(web.ctx.db, token, first! + LAST_USED_EVERY_MS);
      expect((await listTokens(web.ctx.db, { userId: u.id }))[0].lastUsedAt).to.equal(first! + LAST_USED_EVERY_MS);
    });

    it("shows administrators every user's tokens with a revoke button that needs the CSRF token", async () => {
      const u = await archivist();
      const token = await createToken(web.ctx.db, u.id, 'nightly <export>');
      const [info] = await listTokens(web.ctx.db, { userId: u.id });
      expect((await (await loggedIn(web.base, 'alice')).get('/tokens')).status).to.equal(403);
      const admin = await loggedIn(web.base, 'admin');
      const page = await admin.get('/tokens');
      expect(page.status).to.equal(200);
      const section = page.text.slice(page.text.indexOf(`data-username="${u.name}"`));
      expect(section).to.include(`data-token-id="${info.id}" data-state="active"`);
      expect(section).to.include('nightly &lt;export&gt;');
      expect(section).to.include(`action="/tokens/${info.id}/revoke"`);
      const forged = await admin.request('POST', `/tokens/${info.id}/revoke`, { form: { _csrf: 'wrong' } });
      expect(forged.status).to.equal(403);
      expect((await new Client(web.base, token).get('/api/jobs')).status).to.equal(200);
      const revoke = await admin.post(`/tokens/${info.id}/revoke`);
      expect(revoke.status).to.equal(303);
      expect(revoke.location).to.equal('/tokens');
      expect((await new Client(web.base, token).get('/api/jobs')).status).to.equal(401);
      const after = await admin.get('/tokens');
      expect(after.text).to.include(`data-token-id="${info.id}" data-state="revoked"`);
      expect(after.text).to.include(`Token ${info.id} (&#34;nightly &lt;export&gt;&#34;) of ${u.name} is revoked.`);
      expect((await admin.post('/tokens/999999/revoke')).status).to.equal(404);
    });
  });
}
