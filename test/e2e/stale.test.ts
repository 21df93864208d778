/**
 * Nothing stale, nothing lost, in Chromium: the flash and the output state follow the job
 * to its end; a finished job without output says "No output"; "Follow new output" stops
 * when the reader scrolls up and resumes at the bottom; focus lands on the row when a
 * refresh removes the focused button; the clear dialog opens on the safe choice.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { Worker } from '../../workers/worker.js';
import { REQUIRE_SERVICES, backends } from '../helpers.js';
import { PASSWORDS, completed, queued, startWeb, type Web } from '../integration/web-fixture.js';

const CHROMIUM = process.env.DOCKET_TEST_CHROMIUM || '/usr/bin/chromium';
const backend = backends().find((b) => b.db === 'sqlite');

describe('browser: nothing stale on the jobs pages', function () {
  this.timeout(120_000);
  let web: Web;
  let worker: Worker | null = null;
  let browser: Browser | null = null;
  let page: Page;

  before(async function () {
    if (!existsSync(CHROMIUM) || !backend) {
      if (REQUIRE_SERVICES) throw new Error(`no Chromium at ${CHROMIUM}`);
      this.skip();
    }
    web = await startWeb(backend!);
    worker = new Worker(web.ctx.service, web.ctx.transport, { concurrency: 2, abilities: ['print'] });
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
    await browser?.close();
    await web?.close();
  });

  it('keeps the flash and the output state in step with the job, to its end', async () => {
    await page.goto(`${web.base}/jobs/new?task=print`);
    await page.fill('#param-lines', '300');
    await page.fill('#param-delay', '15');
    await Promise.all([page.waitForURL(/\/jobs\/\d+$/), page.click('#new-job-form button[type=submit]')]);
    expect(await page.textContent('.flash')).to.match(/^Job \d+ is (queued|running)\.$/);
    await page.waitForSelector('#job-status.status-completed', { timeout: 30_000 });
    await page.waitForFunction(() => /^Job \d+ is completed\.$/.test(document.querySelector('.flash')?.textContent ?? ''), null, { timeout: 10_000 });
    expect(await page.textContent('#output-state')).to.equal('The job is over; this is all of its output.');
    await page.waitForFunction(() => /is now Completed/.test(document.getElementById('status-announcer')?.textContent ?? ''), null, { timeout: 10_000 });
  });

  it('says "No output" for a finished job that printed nothing', async () => {
    const j = await completed(web.ctx, web.users.admin, { summary: 'quiet' });
    await page.goto(`${web.base}/jobs/${j.id}`);
    expect(await page.textContent('#output-empty')).to.equal('No output.');
  });

  it('stops following the output when the reader scrolls up, and follows again at the bottom', async () => {
    const { job } = await web.ctx.service.enqueue({ task: 'print', params: { lines: 4000, delay: 5 }, user: web.users.admin, origin: 'web' });
    await page.goto(`${web.base}/jobs/${job.id}`);
    await page.waitForFunction(() => (document.getElementById('job-output')?.scrollHeight ?? 0) > 2000, null, { timeout: 20_000 });
    expect(await page.isChecked('#follow-output')).to.equal(true);
    await page.$eval('#job-output', (el) => {
      el.scrollTop = 0;
    });
    await page.waitForTimeout(1500);
    expect(await page.isChecked('#follow-output')).to.equal(false);
    expect(await page.$eval('#job-output', (el) => el.scrollTop)).to.be.lessThan(50);
    await page.$eval('#job-output', (el) => {
      el.scrollTop = el.scrollHeight;
    });
    await page.waitForFunction(() => (document.getElementById('follow-output') as HTMLInputElement).checked, null, { timeout: 3000 });
    await web.ctx.service.cancel(job.id, 'admin');
  });

  it('puts focus on the row when a refresh removes the focused button', async () => {
    const j = await queued(web.ctx, web.users.admin, 'sleep');
    await page.goto(`${web.base}/jobs`);
    await page.waitForSelector('#auto-refresh-control:not([hidden])');
    await page.focus(`button[aria-label="Cancel job ${j.id}"]`);
    await web.ctx.service.cancel(j.id, 'admin');
    await page.waitForSelector(`tr[data-job-id="${j.id}"][data-status="cancelled"]`, { timeout: 15_000 });
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-job-id'))).to.equal(String(j.id));
  });

  it('opens the clear dialog on the safe choice, naming how many jobs go', async () => {
    await page.click('#clear-form button[type=submit]');
    await page.waitForSelector('#clear-dialog[open]');
    expect(await page.evaluate(() => document.activeElement?.id)).to.equal('clear-keep');
    expect(await page.textContent('#clear-dialog-text')).to.match(/This removes \d+ jobs?/);
    await page.keyboard.press('Enter');
    expect(await page.isVisible('#clear-dialog')).to.equal(false);
    expect(await page.textContent('#job-results')).not.to.include('There are no jobs yet.');
  });
});
