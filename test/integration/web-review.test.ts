/**
 * Fixes a review of the web app found: each test here failed before its fix.
 */
import { expect } from 'chai';
import { setTimeout as sleep } from 'node:timers/promises';
import { backends, requireService } from '../helpers.js';
import { completed, loggedIn, startWeb, type Web } from './web-fixture.js';

for (const backend of backends()) {
  describe(`web: review fixes on ${backend.name}`, function () {
    this.timeout(60_000);
    let web: Web;

    before(async function () {
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      if (backend.transport === 'amqp') await requireService(this, 'amqp');
      // A session's touch is due after 50 ms instead of a minute.
      web = await startWeb(backend, { sessionTouchMs: 50 });
    });
    after(async () => web?.close());

    it('exports the whole history when the session touch is due', async () => {
      const { ctx, users } = web;
      for (let i = 0; i < 3; i++) await completed(ctx, users.alice, { summary: `export row ${i}` });
      const alice = await loggedIn(web.base, 'alice');
      for (let round = 0; round < 3; round++) {
        await sleep(80);
        const r = await alice.get('/jobs/export.csv');
        expect(r.status).to.equal(200);
        const lines = r.text.trim().split('\n');
        expect(lines, `round ${round}`).to.have.length(4);
        expect(lines.slice(1).map((l) => l.split(',')[4]).sort()).to.deep.equal(['export row 0', 'export row 1', 'export row 2']);
      }
    });
  });
}
