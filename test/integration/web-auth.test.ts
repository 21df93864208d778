/**
 * Logging in and out: sessions in the database (they outlive a web process and work in
 * another), CSRF on every form, the login rate limit and slowdown, security headers.
 */
import { expect } from 'chai';
import { backends, requireService } from '../helpers.js';
import { Client, closeServer, loggedIn, PASSWORDS, serve, startWeb, type Web } from './web-fixture.js';

for (const backend of backends()) {
  describe(`web: login and sessions on ${backend.name}`, function () {
    this.timeout(60_000);
    let web: Web;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      if (backend.transport === 'amqp') await requireService(this, 'amqp');
      web = await startWeb(backend);
    });

    after(async () => {
      await web?.close();
    });

    it('sends an anonymous visitor to the login page and back, and answers the API with 401', async () => {
      const c = new Client(web.base);
      const page = await c.get('/jobs?tab=failed');
      expect(page.status).to.equal(303);
      expect(page.location).to.equal('/login?next=%2Fjobs%3Ftab%3Dfailed');
      const api = await c.get('/api/jobs');
      expect(api.status).to.equal(401);
      expect(api.headers.get('www-authenticate')).to.match(/^Bearer/);
      expect(api.json<{ error: { status: number } }>().error.status).to.equal(401);
      const fragment = await c.get('/jobs?partial=1');
      expect(fragment.status).to.equal(401);
      expect((await c.get('/')).location).to.equal('/login');
    });

    it('logs in with a new session id, an HttpOnly SameSite=Lax cookie, and follows a local "next" only', async () => {
      const c = new Client(web.base);
      const form = await c.get('/login?next=/jobs/new');
      expect(form.status).to.equal(200);
      // The login form starts no session: its CSRF token is a signed cookie for an hour.
      expect(form.headers.getSetCookie().find((s) => s.startsWith('docket.sid='))).to.equal(undefined);
      const cookie = form.headers.getSetCookie().find((s) => s.startsWith('docket.login='));
      expect(cookie, 'the login form sets its token cookie').to.be.a('string');
      expect(cookie).to.match(/HttpOnly/i);
      expect(cookie).to.match(/SameSite=Lax/i);
      const expires = (setCookie: string | undefined) => Date.parse(/Expires=([^;]+)/i.exec(setCookie ?? '')?.[1] ?? '') - Date.now();
      expect(expires(cookie)).to.be.within(3500_000, 3700_000);
      const before = c.cookies.get('docket.sid');
      expect(before).to.equal(undefined);
      const ok = await c.post('/login', { username: 'alice', password: PASSWORDS.alice, next: '/jobs/new' });
      expect(ok.status).to.equal(303);
      expect(expires(ok.headers.getSetCookie().find((s) => s.startsWith('docket.sid=')))).to.be.within(11.9 * 3600_000, 12.1 * 3600_000);
      expect(ok.location).to.equal('/jobs/new');
      expect(c.cookies.get('docket.sid')).to.be.a('string').and.not.equal(before);
      const page = await c.get('/jobs');
      expect(page.status).to.equal(200);
      expect(page.text).to.match(/Signed in as <a href="\/profile"[^>]*><strong>alice<\/strong><\/a> \(archivist\)/);

      for (const evil of ['//evil.example/x', '/\\evil.example', 'https://evil.example/']) {
        const d = new Client(web.base);
        await d.get('/login');
        const r = await d.post('/login', { username: 'bob', password: PASSWORDS.bob, next: evil });
        expect(r.status).to.equal(303);
        expect(r.location, evil).to.equal('/jobs');
      }
    });

    it('stores the CSRF token of a new session at the login, so pages opened together after it share one', async () => {
      const c = new Client(web.base);
      expect((await c.login('alice', PASSWORDS.alice)).status).to.equal(303);
      // Made by the first pages instead, two opened at once (two tabs, a page and its
      // auto refresh) could each make and save their own, and one page's forms would fail.
      const sid = /^s%3A([^.]+)\./.exec(c.cookies.get('docket.sid') ?? '')?.[1];
      expect(sid, 'a signed session cookie').to.be.a('string');
      const row = (await web.ctx.db('sessions').where({ sid }).first('sess')) as { sess: string | object };
      const sess = (typeof row.sess === 'string' ? JSON.parse(row.sess) : row.sess) as { csrfToken?: string; userId?: number };
      expect(sess.userId).to.equal(web.users.alice.id);
      expect(sess.csrfToken).to.be.a('string').with.length.above(30);
      const tokenOf = (text: string) => /name="_csrf" value="([^"]+)"/.exec(text)?.[1];
      const [a, b] = await Promise.all([c.get('/jobs/new'), c.get('/jobs')]);
      expect(tokenOf(a.text)).to.equal(sess.csrfToken);
      expect(tokenOf(b.text)).to.equal(sess.csrfToken);
    });

    it('refuses a login without the CSRF token of the login form', async () => {
      const c = new Client(web.base);
      await c.get('/login');
      const r = await c.request('POST', '/login', { form: { username: 'alice', password: PASSWORDS.alice } });
      expect(r.status).to.equal(403);
      expect(r.text).to.include('This form has expired or was sent from another site');
      expect(r.location).to.equal(null);
      // No cookie at all (a cross-site post): refused too.
      const d = new Client(web.base);
      const r2 = await d.request('POST', '/login', { form: { _csrf: c.csrf, username: 'alice', password: PASSWORDS.alice } });
      expect(r2.status).to.equal(403);
    });

    it('answers a wrong password plainly, escaping what was typed', async () => {
      const c = new Client(web.base);
      await c.get('/login');
      const r = await c.post('/login', { username: '<b>mallory</b>', password: 'nope' });
      expect(r.status).to.equal(401);
      expect(r.text).to.include('Wrong username or password.');
      expect(r.text).to.include('value="&lt;b&gt;mallory&lt;/b&gt;"');
      expect(r.text).not.to.include('<b>mallory</b>');
    });

    it('slows down repeated failures and then refuses with 429 and Retry-After, counting them across web processes', async () => {
      // Two web processes with strict limits over one database; other tests' failures are forgotten first.
      const login = { maxFailures: 4, freeFailures: 1, baseDelayMs: 300, maxDelayMs: 1000 };
      await web.ctx.db('login_failures').delete();
      const strict = await serve(web.ctx, { login });
      const other = await serve(web.ctx, { login });
      try {
        // One browser session, whose requests a load balancer spreads over both.
        const c = new Client(strict.base);
        await c.get('/login');
        const d = new Client(other.base);
        d.cookies = c.cookies;
        d.csrf = c.csrf;
        const times: number[] = [];
        const statuses: number[] = [];
        for (let i = 0; i < 5; i++) {
          const t = Date.now();
          const r = await (i % 2 ? d : c).post('/login', { username: 'slow', password: `wrong-${i}` });
          times.push(Date.now() - t);
          statuses.push(r.status);
          if (r.status === 429) {
            expect(r.headers.get('retry-after')).to.match(/^\d+$/);
            expect(r.text).to.include('Too many failed logins');
          }
        }
        // Failures 1–4 are answered (the first at once, later ones after a growing wait); the 5th is refused.
        expect(statuses).to.deep.equal([401, 401, 401, 401, 429]);
        // Each answer also holds a password check (bcrypt), so only the waits are asserted.
        expect(times[1]).to.be.at.least(290);
        expect(times[2]).to.be.at.least(590);
        expect(times[3]).to.be.at.least(990);
        expect(times[0]).to.be.below(times[1]);
        // For the rest of the window this username is refused from this address...
        expect((await d.post('/login', { username: 'slow', password: 'wrong-again' })).status).to.equal(429);
        expect((await c.post('/login', { username: 'SLOW ', password: 'wrong-again' })).status).to.equal(429);
        // ...but not another user behind the same address (a shared NAT) with her right password.
        const alice = await c.post('/login', { username: 'alice', password: PASSWORDS.alice });
        expect(alice.status).to.equal(303);
      } finally {
        await closeServer(strict.server);
        await closeServer(other.server);
        await web.ctx.db('login_failures').delete();
      }
    });

    it('caps failed logins per address more loosely, whatever the usernames, and stores no session for the login form', async () => {
      await web.ctx.db('login_failures').delete();
      const strict = await serve(web.ctx, { login: { maxFailures: 3, maxAddressFailures: 5, freeFailures: 10 } });
      try {
        const sessionsBefore = Number(((await web.ctx.db('sessions').count({ n: '*' }))[0] as { n: number | string }).n);
        const c = new Client(strict.base);
        for (let i = 0; i < 20; i++) await new Client(strict.base).get('/login');
        await c.get('/login');
        // Twenty anonymous visits to the login form stored no session.
        expect(Number(((await web.ctx.db('sessions').count({ n: '*' }))[0] as { n: number | string }).n)).to.equal(sessionsBefore);
        const statuses: number[] = [];
        for (const name of ['u1', 'u2', 'u3', 'u4', 'u5', 'u6']) statuses.push((await c.post('/login', { username: name, password: 'wrong' })).status);
        expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429]);
        const blocked = await c.post('/login', { username: 'alice', password: PASSWORDS.alice });
        expect(blocked.status).to.equal(429);
        expect(blocked.text).to.include('Too many failed logins from your address');
      } finally {
        await closeServer(strict.server);
        await web.ctx.db('login_failures').delete();
      }
    });

    it('keeps a session in the database: another web process accepts it, and it outlives this one', async () => {
      const c = await loggedIn(web.base, 'bob');
      const other = await serve(web.ctx);
      try {
        const d = new Client(other.base);
        d.cookies = new Map(c.cookies);
        const page = await d.get('/jobs');
        expect(page.status).to.equal(200);
        expect(page.text).to.match(/Signed in as <a href="\/profile"[^>]*><strong>bob<\/strong><\/a>/);
      } finally {
        await closeServer(other.server);
      }
      const rows = (await web.ctx.db('sessions').count({ n: '*' }).first()) as { n: number | string };
      expect(Number(rows.n)).to.be.at.least(1);
      // "Restart": a brand-new app on the same database.
      const restarted = await serve(web.ctx);
      try {
        const e = new Client(restarted.base);
        e.cookies = new Map(c.cookies);
        expect((await e.get('/jobs')).status).to.equal(200);
      } finally {
        await closeServer(restarted.server);
      }
    });

    it('logs out with the CSRF token only, and the old cookie then signs in nobody', async () => {
      const c = await loggedIn(web.base, 'alice');
      const saved = new Map(c.cookies);
      const forged = await c.request('POST', '/logout', { form: {} });
      expect(forged.status).to.equal(403);
      expect((await c.get('/jobs')).status).to.equal(200);
      const out = await c.post('/logout');
      expect(out.status).to.equal(303);
      expect(out.location).to.equal('/login');
      const replay = new Client(web.base);
      replay.cookies = saved;
      const r = await replay.get('/jobs');
      expect(r.status).to.equal(303);
      expect(r.location).to.match(/^\/login/);
    });

    it('sends security headers (CSP, no framing, no sniffing) and no X-Powered-By', async () => {
      const r = await new Client(web.base).get('/login');
      expect(r.headers.get('content-security-policy')).to.include("script-src 'self'");
      expect(r.headers.get('content-security-policy')).to.include("form-action 'self'");
      expect(r.headers.get('x-frame-options')).to.equal('SAMEORIGIN');
      expect(r.headers.get('x-content-type-options')).to.equal('nosniff');
      expect(r.headers.get('x-powered-by')).to.equal(null);
    });
  });
}
