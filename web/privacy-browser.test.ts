// A person opens the privacy notice in a real browser (Debian's Chromium) and can see every section.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { fixedClock } from '../core/clock.ts';
import type { Db } from '../db/connect.ts';
import { buildApp } from '../http/app.ts';
import { loadRegisterFile } from '../register/load-register.ts';
import { hasChromium, launchBrowser, screenshotPath } from '../test/helpers/browser.ts';
import { openTestDb } from '../test/helpers/test-db.ts';
import { testKeyring } from '../test/helpers/test-keyring.ts';

let db: Db;
let app: FastifyInstance;
let base: string;

before(async () => {
  const loaded = loadRegisterFile(new URL('../examples/image-diagnostic-technology/register.yaml', import.meta.url).pathname);
  assert.ok(loaded.ok, 'example register is valid');
  db = await openTestDb();
  app = await buildApp({ db, register: loaded.register, clock: fixedClock('2026-11-22T09:00:00Z'), keyring: testKeyring(), logLevel: false });
  base = await app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => {
  await app?.close();
  await db?.close();
});

test('the privacy notice shows every section in Chromium', { skip: hasChromium ? false : 'Debian chromium is not installed (.ci/run installs it)' }, async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 1400 } });
    const res = await page.goto(`${base}/privacy`);
    assert.equal(res?.status(), 200);
    assert.match(await page.title(), /Image Diagnostic Technology/);
    const h1 = page.locator('h1');
    assert.equal(await h1.count(), 1);
    assert.ok(await h1.isVisible());
    for (const id of ['who-we-are', 'what-we-collect', 'why-and-basis', 'recipients', 'retention', 'cookies', 'your-rights', 'complaints']) {
      const heading = page.locator(`h2#${id}`);
      assert.equal(await heading.count(), 1, `section ${id} present`);
      assert.ok(await heading.isVisible(), `section ${id} visible`);
    }
    // The table of contents takes a reader to a section.
    await page.locator('nav a[href="#your-rights"]').click();
    assert.equal(new URL(page.url()).hash, '#your-rights');
    assert.ok(await page.getByText(/Information Commissioner/).first().isVisible());
    await page.screenshot({ path: screenshotPath('privacy-notice'), fullPage: true });
  } finally {
    await browser.close();
  }
});
