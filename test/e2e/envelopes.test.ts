/**
 * The Envelopes view in a real browser (Chromium through playwright-core, as in
 * browser.test.ts): from the jobs page to the envelopes, an envelope of three jobs
 * opened to its jobs and combined status, then cancelled and retried from that view
 * until it reaches Success. Screenshots go to test-results/browser/.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { GroupService } from '../../app/groups/service.js';
import { Worker } from '../../workers/worker.js';
import { REQUIRE_SERVICES, backends, requireService, waitUntil } from '../helpers.js';
import { PASSWORDS, startWeb, type Web } from '../integration/web-fixture.js';

const CHROMIUM = process.env.DOCKET_TEST_CHROMIUM || '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'browser');

const chosen = backends().filter((b) => b.db === 'sqlite' || b.transport === 'amqp');

for (const backend of chosen) {
  describe(`browser: the Envelopes view in Chromium on ${backend.name}`, function () {
    this.timeout(120_000);
    let web: Web;
    let worker: Worker | null = null;
    let browser: Browser | null = null;
    let page: Page;
    const tag = backend.name.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase();
    const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${tag}-envelopes-${name}.png`), fullPage: true });

    before(async function () {
      if (!existsSync(CHROMIUM)) {
        const why = `no Chromium at ${CHROMIUM} (apt-get install chromium; the tests never download a browser)`;
        if (REQUIRE_SERVICES) throw new Error(why);
        console.warn(`    skipped: ${why}`);
        this.skip();
      }
      if (backend.db === 'mysql') await requireService(this, 'mysql');
      if (backend.transport === 'amqp') await requireService(this, 'amqp');
      mkdirSync(SHOTS, { recursive: true });
      web = await startWeb(backend);
      worker = new Worker(web.ctx.service, web.ctx.transport, { concurrency: 2, abilities: ['sleep', 'print'] });
      await worker.start();
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
      await page.goto(`${web.base}/login`);
      await page.fill('#username', 'admin');
      await page.fill('#password', PASSWORDS.admin);
      await Promise.all([page.waitForURL(`${web.base}/jobs`), page.click('button[type=submit]')]);
    });

    after(async () => {
      if (worker) await worker.stop(5000);
      worker = null;
      await browser?.close();
      await web?.close();
    });

    /** The envelope's row as the page shows it after a fresh load, opened. */
    async function envelope(id: number): Promise<{ status: string; jobs: Array<{ id: number; status: string; text: string }> }> {
      await page.goto(`${web.base}/groups?open=${id}`);
      const row = page.locator(`tr[data-group="${id}"]`);
      return {
        status: (await row.getAttribute('data-status')) ?? '',
        jobs: await row.locator('.envelope-jobs tbody tr').evaluateAll((trs) =>
          trs.map((tr) => ({ id: Number(tr.getAttribute('data-job')), status: tr.getAttribute('data-status') ?? '', text: (tr.textContent ?? '').replace(/\s+/g, ' ').trim() })),
        ),
      };
    }

    async function until(id: number, status: string): Promise<Awaited<ReturnType<typeof envelope>>> {
      return waitUntil(async () => {
        const e = await envelope(id);
        return e.status === status ? e : null;
      }, 60_000, `envelope ${id} to be ${status}`);
    }

    it('opens an envelope of three jobs from the jobs page: its jobs in order and its combined status', async () => {
      const g = await new GroupService(web.ctx.service).create(
        {
          name: 'Three steps',
          chain: true,
          jobs: [
            { task: 'print', params: { lines: 2 } },
            { task: 'sleep', params: { seconds: 30 } },
            { task: 'print', params: { lines: 1 } },
          ],
        },
        web.users.admin,
        'web',
      );
      await page.goto(`${web.base}/jobs`);
      await Promise.all([page.waitForURL(`${web.base}/groups`), page.click('a.button[href="/groups"]')]);
      const row = page.locator(`tr[data-group="${g.id}"]`);
      await row.waitFor();
      // Closed, its jobs are out of sight; a click on its name opens it.
      expect(await row.locator('.envelope-jobs').isVisible()).to.equal(false);
      await row.locator('details.envelope > summary').click();
      expect(await row.locator('.envelope-jobs').isVisible()).to.equal(true);
      const shown = await row.locator('.envelope-jobs tbody tr').evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-job'))));
      expect(shown).to.deep.equal(g.jobs.map((j) => j.id));
      expect(await row.locator('.envelope-jobs tbody tr').nth(0).textContent()).to.include('Print');

      // The first step done, the second running: SuccessActive, the third waiting for it.
      const active = await waitUntil(async () => {
        const e = await envelope(g.id);
        return e.status === 'SuccessActive' && e.jobs[1].status === 'running' ? e : null;
      }, 60_000, 'the second step running');
      expect(active.jobs.map((j) => j.status)).to.deep.equal(['completed', 'running', 'queued']);
      expect(active.jobs[2].text).to.include(`Waiting: for job ${g.jobs[1].id}`);
      expect(await page.locator(`tr[data-group="${g.id}"] > td > span.status[data-code]`).textContent()).to.equal('SuccessActive');
      await shot('01-open');

      // Cancel from the list: back on it, the envelope still open, Cancelled once its jobs end.
      await Promise.all([page.waitForURL(new RegExp(`/groups\\?open=${g.id}`)), page.click(`button:has-text("Cancel envelope ${g.id}")`)]);
      expect(await page.locator('.flash').first().textContent()).to.include(`Envelope ${g.id}: its unfinished jobs were cancelled.`);
      expect(await page.locator(`tr[data-group="${g.id}"] .envelope-jobs`).isVisible()).to.equal(true);
      const cancelled = await until(g.id, 'Cancelled');
      expect(cancelled.jobs.map((j) => j.status)).to.deep.equal(['completed', 'cancelled', 'cancelled']);
      await shot('02-cancelled');

      // Retry from the list: the chain resumes where it stopped and reaches Success.
      const sleeping = await web.ctx.db('jobs').where({ id: g.jobs[1].id }).update({ params: JSON.stringify({ seconds: 1 }) });
      expect(sleeping).to.equal(1);
      await Promise.all([page.waitForURL(new RegExp(`/groups\\?open=${g.id}`)), page.click(`button:has-text("Retry envelope ${g.id}")`)]);
      expect(await page.locator('.flash').first().textContent()).to.include(`Envelope ${g.id}: its failed and cancelled jobs were queued again.`);
      const done = await until(g.id, 'Success');
      expect(done.jobs.map((j) => j.status)).to.deep.equal(['completed', 'completed', 'completed']);
      expect(await page.locator(`tr[data-group="${g.id}"] button`).count(), 'nothing left to cancel or retry').to.equal(0);
      expect(await page.locator(`tr[data-group="${g.id}"]`).textContent()).to.include('(complete)');
      await shot('03-success');
    });
  });
}
