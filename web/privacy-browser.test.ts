// A person opens the privacy notice in a real browser (Debian's Chromium) and can see every section.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { hasChromium, launchBrowser, screenshotPath } from '../test/helpers/browser.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';

let t: TestApp;
let base: string;

before(async () => {
  t = await testApp('image-diagnostic-technology');
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => t?.close());

test('the privacy notice shows every section in Chromium', {
  skip: hasChromium ? false : 'Debian chromium is not installed (.ci/run installs it)',
}, async () => {
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
    assert.ok(
      await page
        .getByText(/Information Commissioner/)
        .first()
        .isVisible(),
    );
    await page.screenshot({ path: screenshotPath('privacy-notice'), fullPage: true });
  } finally {
    await browser.close();
  }
});
