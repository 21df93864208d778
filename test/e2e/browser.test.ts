/**
 * The jobs page in a real browser (Debian's Chromium through playwright-core): log in,
 * watch a running job reach Completed with auto refresh and no reload, switch tabs,
 * export the CSV, clear inactive jobs, and watch a job's output arrive live.
 * Screenshots go to test-results/browser/.
 *
 * Chromium is never downloaded: without /usr/bin/chromium the suite is skipped, or
 * fails when DOCKET_TEST_REQUIRE_SERVICES=1.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { Worker } from '../../workers/worker.js';
import { REQUIRE_SERVICES, backends, requireService } from '../helpers.js';
import { ECHO_TASK, completed, failed, PASSWORDS, startWeb, type Web } from '../integration/web-fixture.js';

const CHROMIUM = process.env.DOCKET_TEST_CHROMIUM || '/usr/bin/chromium';
const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'browser');

// Chromium on SQLite (the default install) and on MariaDB + RabbitMQ (production) when configured.
const chosen = backends().filter((b) => b.db === 'sqlite' || b.transport === 'amqp');

for (const backend of chosen) {
  describe(`browser: the jobs page in Chromium on ${backend.name}`, function () {
    this.timeout(120_000);
    let web: Web;
    let worker: Worker | null = null;
    let browser: Browser | null = null;
    let page: Page;
    const alerts: string[] = [];
    const tag = backend.name.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase();
    const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${tag}-${name}.png`), fullPage: true });

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
      const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 720 } });
      page = await context.newPage();
      page.on('dialog', (d) => {
        alerts.push(d.message());
        void d.dismiss();
      });
    });

    after(async () => {
      if (worker) await worker.stop(5000);
      worker = null;
      await browser?.close();
      await web?.close();
    });

    it('logs in through the form', async () => {
      await page.goto(`${web.base}/jobs`);
      expect(new URL(page.url()).pathname).to.equal('/login');
      await page.fill('#username', 'admin');
      await page.fill('#password', PASSWORDS.admin);
      await Promise.all([page.waitForURL(`${web.base}/jobs`), page.click('button[type=submit]')]);
      expect(await page.textContent('.session')).to.include('Signed in as admin');
      await shot('01-logged-in');
    });

    it('shows a running job reach Completed with auto refresh on, without reloading or losing the scroll position', async () => {
      // Enough finished jobs for the page to scroll, one with markup in its error.
      // (A task the in-process worker does not take, so that it cannot claim them first.)
      for (let i = 0; i < 30; i++) await completed(web.ctx, web.users.admin, { summary: `warm-up ${i}`, task: ECHO_TASK });
      await failed(web.ctx, web.users.admin, '<img src=x onerror=alert(1)> failed', ECHO_TASK);
      await page.goto(`${web.base}/jobs`);
      await page.waitForSelector('#auto-refresh-control:not([hidden])');
      expect(await page.isChecked('#auto-refresh')).to.equal(true);
      expect(await page.textContent('#live-indicator')).to.equal('Live');

      const { job } = await web.ctx.service.enqueue({
        task: 'sleep',
        // Longer than one refresh period, so that at least one refresh sees it running.
        params: { seconds: 7 },
        user: web.users.admin,
        origin: 'web',
      });
      await page.evaluate(() => {
        (window as unknown as { notReloaded: boolean }).notReloaded = true;
        window.scrollTo(0, 400);
      });
      const row = `tr[data-job-id="${job.id}"]`;
      await page.waitForSelector(row, { timeout: 20_000 });
      expect(await page.getAttribute(row, 'data-status')).to.be.oneOf(['queued', 'running']);
      await page.waitForSelector(`${row}[data-status="running"]`, { timeout: 20_000 });
      // The tabs sit outside the refreshed part; their counts follow anyway.
      await page.waitForFunction(() => document.querySelector('[data-count-for="active"]')?.textContent === '(1)', null, { timeout: 10_000 });
      await shot('02-running');
      await page.waitForSelector(`${row}[data-status="completed"]`, { timeout: 30_000 });
      await shot('03-completed');
      const state = await page.evaluate(() => ({
        notReloaded: (window as unknown as { notReloaded?: boolean }).notReloaded === true,
        y: window.scrollY,
        announced: document.getElementById('refresh-announcer')?.textContent ?? '',
      }));
      expect(state.notReloaded, 'the page was not reloaded').to.equal(true);
      expect(state.y).to.equal(400);
      expect(await page.textContent(`${row} .status`)).to.equal('Completed');
      expect(await page.textContent(`${row} .info`)).to.include('slept 7 s');
      await page.waitForFunction(() => /is now Completed/.test(document.getElementById('refresh-announcer')?.textContent ?? ''), null, {
        timeout: 10_000,
      }).catch(() => undefined);
      expect(state.announced + (await page.textContent('#refresh-announcer'))).to.match(/is now (Running|Completed)/);
      expect(alerts, 'no markup from the database ran').to.deep.equal([]);
    });

    it('remembers the auto refresh choice', async () => {
      await page.uncheck('#auto-refresh');
      await page.reload();
      await page.waitForSelector('#auto-refresh-control:not([hidden])');
      expect(await page.isChecked('#auto-refresh')).to.equal(false);
      expect(await page.isHidden('#live-indicator')).to.equal(true);
      await page.check('#auto-refresh');
      expect(await page.evaluate(() => localStorage.getItem('docket.autoRefresh'))).to.equal('on');
    });

    it('pauses the auto refresh while the tab is hidden', async () => {
      // A string, not a function: the test runner's transpiler would add helpers the page lacks.
      await page.evaluate(`(() => {
        window.fetches = 0;
        const real = window.fetch.bind(window);
        window.fetch = (...args) => { window.fetches++; return real(...args); };
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
        document.dispatchEvent(new Event('visibilitychange'));
      })()`);
      expect(await page.textContent('#live-indicator')).to.equal('Live, paused');
      await page.waitForTimeout(6000);
      expect(await page.evaluate(() => (window as unknown as { fetches: number }).fetches)).to.equal(0);
      await page.evaluate(`(() => {
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
        document.dispatchEvent(new Event('visibilitychange'));
      })()`);
      // Visible again: it catches up at once.
      await page.waitForFunction(() => (window as unknown as { fetches: number }).fetches >= 1, null, { timeout: 3000 });
      expect(await page.textContent('#live-indicator')).to.equal('Live');
    });

    it('switches tabs', async () => {
      await Promise.all([page.waitForURL(/tab=failed/), page.click('nav.tabs >> text=Failed')]);
      const failedStatuses = await page.$$eval('tr[data-job-id]', (rows) => rows.map((r) => r.getAttribute('data-status')));
      expect(failedStatuses.length).to.be.at.least(1);
      expect(failedStatuses.every((s) => s === 'failed')).to.equal(true);
      expect(await page.getAttribute('nav.tabs a[aria-current="page"]', 'href')).to.equal('/jobs?tab=failed');
      await shot('04-failed-tab');
      await Promise.all([page.waitForURL(/tab=active/), page.click('nav.tabs >> text=Active')]);
      expect(await page.textContent('#job-results')).to.include('No job is queued or running.');
      await Promise.all([page.waitForURL(/tab=all/), page.click('nav.tabs >> text=All')]);
    });

    it('exports the history as CSV with AtoM’s columns first', async () => {
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('text=Export history CSV')]);
      expect(download.suggestedFilename()).to.match(/^docket-job-history-\d{4}-\d{2}-\d{2}\.csv$/);
      const text = readFileSync((await download.path()) as string, 'utf8');
      const [header, ...rows] = text.trimEnd().split('\n');
      expect(header.startsWith('startDate,endDate,jobName,jobStatus,jobInfo,jobUser')).to.equal(true);
      expect(rows.length).to.be.at.least(32);
    });

    it('clears inactive jobs after a confirmation dialog, pausing the auto refresh meanwhile', async () => {
      await page.click('#clear-form button[type=submit]');
      await page.waitForSelector('#clear-dialog[open]');
      expect(await page.textContent('#live-indicator')).to.equal('Live, paused');
      await shot('05-clear-dialog');
      // The page is already at /jobs?tab=all: wait for the post's answer, then for the page it leads to.
      const [posted] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/jobs/clear-inactive') && r.request().method() === 'POST'),
        page.click('#clear-confirm'),
      ]);
      expect(posted.status()).to.equal(303);
      await page.waitForLoadState('load');
      expect(await page.textContent('.flash')).to.match(/Cleared \d+ inactive jobs\./);
      expect(await page.textContent('#job-results')).to.include('There are no jobs yet.');
      await shot('06-cleared');
    });

    it('selects two jobs with their boxes and cancels them together, keeping the selection across an auto refresh', async () => {
      // A task the in-process worker does not take: the jobs stay queued until cancelled.
      const one = await web.ctx.service.enqueue({ task: ECHO_TASK, params: {}, user: web.users.admin, origin: 'web' });
      const two = await web.ctx.service.enqueue({ task: ECHO_TASK, params: {}, user: web.users.admin, origin: 'web' });
      const other = await web.ctx.service.enqueue({ task: ECHO_TASK, params: {}, user: web.users.admin, origin: 'web' });
      await page.goto(`${web.base}/jobs?tab=active`);
      await page.check(`#select-${one.job.id}`);
      await page.check(`#select-${two.job.id}`);
      expect(await page.$eval('#bulk-all', (el) => (el as HTMLInputElement).indeterminate)).to.equal(true);
      // An auto refresh replaces the rows: the boxes stay ticked.
      await page.click('#refresh-link');
      await page.waitForFunction(() => (document.getElementById('refresh-announcer')?.textContent ?? '') !== '');
      expect(await page.isChecked(`#select-${one.job.id}`)).to.equal(true);
      expect(await page.isChecked(`#select-${other.job.id}`)).to.equal(false);
      await shot('06b-bulk-selected');
      const [posted] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/jobs/bulk') && r.request().method() === 'POST'),
        page.click('#bulk-form button[value=cancel]'),
      ]);
      expect(posted.status()).to.equal(303);
      await page.waitForLoadState('load');
      expect(await page.textContent('.flash')).to.equal('2 jobs cancelled.');
      expect((await web.ctx.service.get(one.job.id)).status).to.equal('cancelled');
      expect((await web.ctx.service.get(two.job.id)).status).to.equal('cancelled');
      expect((await web.ctx.service.get(other.job.id)).status).to.equal('queued');
      await web.ctx.service.cancel(other.job.id, 'test');
    });

    it('tails a running job’s output live on its details page', async () => {
      const { job } = await web.ctx.service.enqueue({
        task: 'print',
        params: { lines: 20, delay: 150 },
        user: web.users.admin,
        origin: 'web',
      });
      await page.goto(`${web.base}/jobs/${job.id}`);
      // Seen while it runs: some lines, not yet all of them.
      await page.waitForFunction(() => /line 3\n/.test(document.getElementById('job-output')?.textContent ?? ''), null, { timeout: 20_000 });
      const partial = (await page.textContent('#job-output')) ?? '';
      expect(partial).not.to.include('line 20\n');
      await shot('07-output-live');
      await page.waitForFunction(() => /line 20\n/.test(document.getElementById('job-output')?.textContent ?? ''), null, { timeout: 20_000 });
      await page.waitForSelector('#job-status.status-completed', { timeout: 20_000 });
      const lines = ((await page.textContent('#job-output')) ?? '').trimEnd().split('\n');
      expect(lines).to.deep.equal(Array.from({ length: 20 }, (_, i) => `line ${i + 1}`));
      await page.waitForFunction(
        () => document.getElementById('output-state')?.textContent === 'The job is over; this is all of its output.',
        null,
        { timeout: 10_000 },
      );
      await shot('08-output-done');
    });
  });
}
