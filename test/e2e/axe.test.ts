/**
 * An axe-core scan of every page in every state, at 1280×800 and on a 390×844 phone, in
 * Chromium: no violation of any rule axe runs by default (WCAG 2.x A and AA and its best
 * practices). A violation fails the test with its rule ids and the elements it found.
 *
 * Chromium is never downloaded: without /usr/bin/chromium the suite is skipped, or fails
 * when DOCKET_TEST_REQUIRE_SERVICES=1.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { seedDemoData } from '../../app/archive/seed.js';
import { GroupService } from '../../app/groups/service.js';
import { REQUIRE_SERVICES, backends } from '../helpers.js';
import { ECHO_TASK, cancelled, completed, failed, PASSWORDS, queued, running, startWeb, type Web } from '../integration/web-fixture.js';

const CHROMIUM = process.env.DOCKET_TEST_CHROMIUM || '/usr/bin/chromium';
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const SIZES = [
  { name: 'laptop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];

const backend = backends().find((b) => b.db === 'sqlite');

interface Found {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe in the page as it is now; the violations, each with the elements it found. */
async function scan(page: Page): Promise<Found[]> {
  await page.addScriptTag({ path: AXE });
  // A string, not a function: the test runner's transpiler would add helpers the page lacks.
  return page.evaluate(`(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact || null,
      help: v.help,
      targets: v.nodes.slice(0, 8).map((n) => n.target.join(' ')),
    }));
  })()`);
}

function describeFound(where: string, found: Found[]): string {
  return found.map((v) => `${where}: ${v.id} (${v.impact ?? 'n/a'}: ${v.help}) at ${v.targets.join(' | ')}`).join('\n');
}

describe('accessibility: an axe-core scan of every page in every state', function () {
  this.timeout(300_000);
  let web: Web;
  let browser: Browser | null = null;
  const ids: Record<string, number> = {};
  let slug = '';
  let groupId = 0;

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
    const top = (await ctx.db('descriptions').whereNull('parent_id').orderBy('id').first()) as { slug: string };
    slug = top.slug;

    ids.queued = (await queued(ctx, users.admin)).id;
    // Running, with steps, progress and output.
    const r = await running(ctx, users.admin);
    const t = Date.now();
    await ctx.service.progress(r, 3, 10, 'checking line 3 of 10', [
      { label: 'Check the file', status: 2, extra: null, current: null, total: null, startedAt: t - 5000, finishedAt: t - 3000 },
      { label: 'Import the rows', status: 1, extra: '3 of 10', current: 3, total: 10, startedAt: t - 3000, finishedAt: null },
      { label: 'Report', status: 0, extra: null, current: null, total: null, startedAt: null, finishedAt: null },
    ]);
    const out = (stream: 'stdout' | 'stderr', text: string) => ({ stream, text, bytes: Buffer.byteLength(text) });
    await ctx.service.appendOutputParts(r, [out('stdout', 'row 1 imported\nrow 2 imported\n'), out('stderr', 'row 3: a warning\n')]);
    ids.running = r.id;
    ids.completed = (
      await completed(ctx, users.admin, {
        summary: '3 rows exported',
        task: ECHO_TASK,
        file: { stored: 'axe-result.csv', downloadName: 'export.csv', content: 'a,b\n1,2\n' },
      })
    ).id;
    // A failed import refused for its file's content: no Retry, "Import a corrected file".
    const queuedImport = await queued(ctx, users.admin, 'csv-import', { file: '/srv/imports/fonds.csv', update: 'match-and-update', strict: true });
    const [imp] = await ctx.service.claimMany([queuedImport.id], 'axe-worker');
    await ctx.service.fail(imp, 'axe-worker', {
      message: 'The file was not imported: the header has a column this import does not know: "colour".',
      permanent: true,
    });
    ids.failedImport = imp.id;
    ids.failed = (await failed(ctx, users.admin, "the job's process was killed by SIGKILL")).id;
    ids.cancelled = (await cancelled(ctx, users.admin)).id;
    const group = await new GroupService(ctx.service).create(
      { name: 'Box 12 of the harbour fonds', chain: true, jobs: [{ task: 'sleep', params: {} }, { task: 'noop', params: {} }] },
      users.admin,
      'api',
    );
    groupId = group.id;

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    });
  });

  after(async () => {
    await browser?.close();
    await web?.close();
  });

  /** Signs in through the form in a new context of this size. */
  async function signedIn(size: (typeof SIZES)[number], who: 'admin' | 'alice'): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser!.newContext({ viewport: { width: size.width, height: size.height }, bypassCSP: true });
    const page = await context.newPage();
    await page.goto(`${web.base}/login`);
    await page.fill('#username', who);
    await page.fill('#password', PASSWORDS[who]);
    await Promise.all([page.waitForURL(`${web.base}/jobs`), page.click('button[type=submit]')]);
    return { context, page };
  }

  for (const size of SIZES) {
    describe(`at ${size.width}×${size.height}`, () => {
      it('finds no violation on the login page, before and after a refused login', async () => {
        const context = await browser!.newContext({ viewport: { width: size.width, height: size.height }, bypassCSP: true });
        const page = await context.newPage();
        const found: string[] = [];
        await page.goto(`${web.base}/login`);
        found.push(describeFound('/login', await scan(page)));
        await page.fill('#username', 'admin');
        await page.fill('#password', 'not the password');
        await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
        expect(await page.content()).to.match(/password/i);
        found.push(describeFound('/login (refused)', await scan(page)));
        await context.close();
        const text = found.filter(Boolean).join('\n');
        expect(text, `axe violations:\n${text}`).to.equal('');
      });

      it('finds no violation on any page an administrator sees, in every state', async () => {
        const { context, page } = await signedIn(size, 'admin');
        const found: string[] = [];
        const check = async (where: string): Promise<void> => {
          const v = await scan(page);
          if (v.length) found.push(describeFound(where, v));
        };
        const visit = async (path: string): Promise<void> => {
          const r = await page.goto(`${web.base}${path}`);
          expect(r?.status(), path).to.be.oneOf([200]);
          await check(path);
        };

        for (const path of [
          '/jobs?tab=all',
          '/jobs?tab=active',
          '/jobs?tab=failed',
          '/jobs?tab=all&task=print', // nothing matches: the empty state
          `/jobs?tab=all&status=failed&task=${ECHO_TASK}`,
          `/jobs/${ids.queued}`,
          `/jobs/${ids.running}`,
          `/jobs/${ids.completed}`,
          `/jobs/${ids.failedImport}`,
          `/jobs/${ids.failed}`,
          `/jobs/${ids.cancelled}`,
          `/jobs/${ids.completed}/discard`,
          '/jobs/new',
          '/jobs/new?task=finding-aid',
          '/jobs/new?task=csv-export',
          '/jobs/new?task=publication-status',
          '/jobs/new?task=move',
          '/jobs/new?task=sleep',
          '/jobs/new?task=print',
          '/jobs/new?task=noop',
          '/descriptions/import',
          `/descriptions/import?corrects=${ids.failedImport}`,
          '/jobs/failed-all?action=retry',
          '/jobs/failed-all?action=clear',
          '/jobs/clear-inactive',
          '/workers',
          '/profile',
          '/tokens',
          '/groups',
          `/groups/${groupId}`,
          '/audit',
          '/descriptions',
          `/descriptions/${slug}`,
        ]) {
          await visit(path);
        }

        // The jobs page with jobs selected, then with the clear dialog open.
        await page.goto(`${web.base}/jobs?tab=all`);
        await page.check(`#select-${ids.failed}`);
        await page.check(`#select-${ids.cancelled}`);
        await check('/jobs (two selected)');
        await page.click('#clear-form button[type=submit]');
        await page.waitForSelector('#clear-dialog[open]');
        await check('/jobs (clear dialog open)');
        await page.keyboard.press('Escape');

        // A form refused with its error, kept on the page.
        await page.goto(`${web.base}/jobs/new?task=finding-aid`);
        await page.fill('#param-description', 'no-such-description');
        await Promise.all([page.waitForLoadState('load'), page.click('#new-job-form button[type=submit]')]);
        expect(await page.textContent('#form-error')).to.include('There is no description');
        await check('/jobs/new (refused)');
        await page.goto(`${web.base}/descriptions/import`);
        await page.evaluate(() => document.querySelector('#file')?.removeAttribute('required'));
        await Promise.all([page.waitForLoadState('load'), page.click('form.stacked button[type=submit]')]);
        expect(await page.textContent('#form-error')).to.include('Choose a CSV file');
        await check('/descriptions/import (refused)');

        // The queue paused: the jobs page says so, and the confirmation of a clear.
        await page.goto(`${web.base}/workers`);
        await Promise.all([page.waitForLoadState('load'), page.click('form[action="/queue/pause"] button[type=submit]')]);
        await visit('/jobs?tab=active');
        await page.goto(`${web.base}/workers`);
        await Promise.all([page.waitForLoadState('load'), page.click('form[action="/queue/clear"] button[type=submit]')]);
        await check('/queue/clear (confirmation)');
        await page.goto(`${web.base}/workers`);
        await Promise.all([page.waitForLoadState('load'), page.click('form[action="/queue/resume"] button[type=submit]')]);
        await check('/queue/resume (confirmation)');
        await web.ctx.service.setPaused(false, '');

        // Error pages.
        for (const [path, status] of [
          ['/jobs/999999', 404],
          ['/no-such-page', 404],
        ] as const) {
          const r = await page.goto(`${web.base}${path}`);
          expect(r?.status(), path).to.equal(status);
          await check(`${path} (${status})`);
        }
        await context.close();
        const text = found.join('\n');
        expect(text, `axe violations:\n${text}`).to.equal('');
      });

      it('finds no violation on what an archivist sees, the 403 page included', async () => {
        const { context, page } = await signedIn(size, 'alice');
        const found: string[] = [];
        for (const [path, status] of [
          ['/jobs?tab=all', 200],
          ['/jobs/new', 200],
          ['/profile', 200],
          ['/groups', 200],
          ['/workers', 403],
          ['/audit', 403],
          [`/jobs/${ids.failed}`, 404],
        ] as const) {
          const r = await page.goto(`${web.base}${path}`);
          expect(r?.status(), path).to.equal(status);
          const v = await scan(page);
          if (v.length) found.push(describeFound(`${path} (${status})`, v));
        }
        await context.close();
        const text = found.join('\n');
        expect(text, `axe violations:\n${text}`).to.equal('');
      });
    });
  }
});
