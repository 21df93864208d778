/**
 * The pages on a phone (390×844) and a laptop (1280×800) in Chromium: nothing scrolls
 * sideways, and on a phone each job's name, status and actions are in the first screen.
 * Also keeps the README's screenshots current (docs/screenshots/: the jobs page, the job
 * form and a failed import's page on a phone; the job form and the failed import at
 * 1280×800) when DOCKET_SCREENSHOTS=1.
 *
 * Chromium is never downloaded: without /usr/bin/chromium the suite is skipped, or fails
 * when DOCKET_TEST_REQUIRE_SERVICES=1.
 */
import { expect } from 'chai';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { seedDemoData } from '../../app/archive/seed.js';
import { REQUIRE_SERVICES, backends } from '../helpers.js';
import { ECHO_TASK, cancelled, completed, failed, PASSWORDS, queued, running, startWeb, type Web } from '../integration/web-fixture.js';

const CHROMIUM = process.env.DOCKET_TEST_CHROMIUM || '/usr/bin/chromium';
const DOCS_SHOTS = join(import.meta.dirname, '..', '..', 'docs', 'screenshots');
const SHOT_SUFFIX = process.env.DOCKET_SCREENSHOTS_SUFFIX ?? '';

const SIZES = [
  { name: 'small phone', width: 320, height: 640 },
  { name: 'phone', width: 390, height: 844 },
  { name: 'laptop', width: 1280, height: 800 },
];

const backend = backends().find((b) => b.db === 'sqlite');

describe('browser: the pages on a phone and a laptop', function () {
  this.timeout(120_000);
  let web: Web;
  let browser: Browser | null = null;
  let jobId = 0;
  let importId = 0;
  let slug = '';

  before(async function () {
    if (!existsSync(CHROMIUM) || !backend) {
      const why = `no Chromium at ${CHROMIUM} (apt-get install chromium; the tests never download a browser)`;
      if (REQUIRE_SERVICES) throw new Error(why);
      console.warn(`    skipped: ${why}`);
      this.skip();
    }
    web = await startWeb(backend!);
    const { ctx, users } = web;
    await seedDemoData(ctx.db);
    const top = (await ctx.db('descriptions').whereNull('parent_id').orderBy('id').first()) as { slug: string; id: number };
    slug = top.slug;
    await queued(ctx, users.admin);
    const r = await running(ctx, users.admin);
    await ctx.service.progress(r, 3, 10, 'checking line 3 of 10 in a rather long file name.csv');
    await completed(ctx, users.admin, { summary: 'a summary long enough to wrap on a small screen, with words', task: ECHO_TASK });
    const f = await failed(ctx, users.admin, 'Row 4: the parent "HC-1-2-3-4-5-6-7-8-9" was not found; fix the parent column and import the corrected file.');
    jobId = f.id;
    await cancelled(ctx, users.admin);
    await queued(ctx, users.admin, 'csv-export', { description: top.slug });
    // An import refused for its file's content: "What to do" and "Import a corrected file".
    const imp = await queued(ctx, users.admin, 'csv-import', { file: '/srv/imports/harbour-fonds.csv', update: 'match-and-update' });
    const [claimed] = await ctx.service.claimMany([imp.id], 'layout-worker');
    await ctx.service.fail(claimed, 'layout-worker', {
      message: 'The file was not imported (nothing was written): row 4 has 7 fields, the header has 6; parentId "HC-9" matches no earlier row.',
      permanent: true,
    });
    importId = imp.id;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  after(async () => {
    await browser?.close();
    await web?.close();
  });

  for (const size of SIZES) {
    describe(`at ${size.width}×${size.height}`, () => {
      let page: Page;

      before(async () => {
        const context = await browser!.newContext({ viewport: { width: size.width, height: size.height } });
        page = await context.newPage();
        await page.goto(`${web.base}/login`);
        await page.fill('#username', 'admin');
        await page.fill('#password', PASSWORDS.admin);
        await Promise.all([page.waitForURL(`${web.base}/jobs`), page.click('button[type=submit]')]);
      });

      const paths = () => [
        '/jobs?tab=all',
        '/jobs?tab=active',
        '/jobs?tab=failed',
        `/jobs/${jobId}`,
        '/jobs/new',
        '/jobs/new?task=finding-aid',
        '/jobs/new?task=print',
        `/jobs/${importId}`,
        `/descriptions/import?corrects=${importId}`,
        '/workers',
        '/jobs/failed-all?action=clear',
        '/descriptions',
        '/descriptions/import',
        `/descriptions/${slug}`,
        '/tokens',
        '/profile',
        '/groups',
        '/audit',
      ];

      it('takes the screenshots the README shows', async function () {
        if (process.env.DOCKET_SCREENSHOTS !== '1') return;
        mkdirSync(DOCS_SHOTS, { recursive: true });
        if (size.name === 'laptop') {
          await page.goto(`${web.base}/jobs/new?task=finding-aid`);
          await page.screenshot({ path: join(DOCS_SHOTS, `desktop-job-form${SHOT_SUFFIX}.png`) });
          await page.goto(`${web.base}/jobs/${importId}`);
          await page.screenshot({ path: join(DOCS_SHOTS, `desktop-failed-import${SHOT_SUFFIX}.png`) });
          return;
        }
        if (size.name !== 'phone') return;
        await page.goto(`${web.base}/jobs/${importId}`);
        await page.screenshot({ path: join(DOCS_SHOTS, `phone-failed-import${SHOT_SUFFIX}.png`) });
        await page.goto(`${web.base}/jobs?tab=all`);
        await page.screenshot({ path: join(DOCS_SHOTS, `phone-jobs${SHOT_SUFFIX}.png`) });
        await page.goto(`${web.base}/jobs/new?task=finding-aid`);
        await page.screenshot({ path: join(DOCS_SHOTS, `phone-job-form${SHOT_SUFFIX}.png`) });
        await page.goto(`${web.base}/jobs/${jobId}`);
        await page.screenshot({ path: join(DOCS_SHOTS, `phone-job${SHOT_SUFFIX}.png`) });
      });

      it('never scrolls any page sideways', async () => {
        const wide: string[] = [];
        for (const path of paths()) {
          await page.goto(`${web.base}${path}`);
          const m = await page.evaluate(() => ({ scroll: document.scrollingElement!.scrollWidth, inner: window.innerWidth }));
          if (m.scroll > m.inner) wide.push(`${path}: ${m.scroll} px in ${m.inner}`);
        }
        expect(wide).to.deep.equal([]);
      });

      // Asked of screens from 390×844 up: on a 640 px tall one the toolbar and filters fill
      // the first screen, so there the test is not defined at all (rather than skipped).
      const onTallScreens = size.height >= 800 ? it : (): void => undefined;
      onTallScreens('shows each job’s name, status and actions in the first screen', async function () {
        await page.goto(`${web.base}/jobs?tab=all`);
        // A string, not a function: the test runner's transpiler would add helpers the page lacks.
        const seen = await page.evaluate(`(() => {
          const tr = document.querySelector('tr[data-job-id]');
          const inView = (el) => {
            if (!el) return false;
            const r = el.getBoundingClientRect();
            return r.width > 0 && r.left >= 0 && r.right <= window.innerWidth && r.top >= 0 && r.bottom <= window.innerHeight;
          };
          return {
            name: inView(tr.querySelector('a[href^="/jobs/"]')),
            status: inView(tr.querySelector('.status')),
            action: inView(tr.querySelector('.actions button, .actions a.button')),
            select: inView(tr.querySelector('input.bulk-select')),
          };
        })()`);
        expect(seen).to.deep.equal({ name: true, status: true, action: true, select: true });
      });

      it('keeps the job page’s history inside the screen', async () => {
        await page.goto(`${web.base}/jobs/${jobId}`);
        const right = await page.$eval('.history', (el) => el.getBoundingClientRect().right);
        expect(right).to.be.at.most(size.width);
      });
    });
  }
});
