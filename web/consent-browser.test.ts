// The cookie banner in a real browser (Debian's Chromium): a test page with /consent.js, a gated analytics script
// that would set _ga, and a gated YouTube-like iframe, on the German vendor's register (English and German) with its
// embedded media made a consent purpose with a cookie of its own.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BrowserContext, Locator, Page, Browser as PwBrowser } from 'playwright-core';
import { parse, stringify } from 'yaml';
import { approximateSeconds } from '../core/duration.ts';
import { parseRegister, type Register } from '../register/load-register.ts';
import { hasChromium, launchBrowser } from '../test/helpers/browser.ts';
import { exampleRegister, testApp, type TestApp } from '../test/helpers/test-app.ts';
import { bannerScript } from './consent-bundle.ts';
import { bannerConfig } from './consent-config.ts';

const skip = hasChromium ? false : 'Debian chromium is not installed (.ci/run installs it)';
const CONSENT_API = '/api/v1/consent';

/** The German vendor, its YouTube and Instagram embeds on consent (they set cookies). */
function register(): Register {
  const doc = parse(readFileSync(new URL('../examples/image-information-systems/register.yaml', import.meta.url), 'utf8'));
  const media = doc.purposes['embedded-media'];
  media.basis = 'consent';
  delete media.interest;
  doc.cookies.youtube = { names: ['YSC', 'VISITOR_INFO1_LIVE'], purpose: 'embedded-media', lasts: 'P6M', provider: 'youtube' };
  const loaded = parseRegister(stringify(doc));
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  return loaded.register;
}

const hits = { analytics: 0, embed: 0 };
let t: TestApp;
let base: string;
let browser: PwBrowser;
let shots: string;

/** Image Solutions with its analytics cookies first-party aggregate statistics, exempt (UK DUAA). */
function ukRegister(): Register {
  const doc = parse(readFileSync(new URL('../examples/image-solutions/register.yaml', import.meta.url), 'utf8'));
  for (const key of ['google-analytics', 'google-analytics-day']) Object.assign(doc.cookies[key], { exemption: 'statistics', provider: 'first-party' });
  const loaded = parseRegister(stringify(doc));
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  return loaded.register;
}

const UK_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>UK test page</title>
<script src="/test/uk-consent.js"></script>
<script type="text/plain" data-consent="analytics-cookies" src="/test/analytics.js"></script>
</head><body><main><h1>Imaging products</h1></main></body></html>`;

const PAGE = (lang: string) => `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><title>Test page</title>
<script src="/consent.js"></script>
<script type="text/plain" data-consent="analytics" src="/test/analytics.js"></script>
</head><body><main><h1>Scans</h1><p><a href="/elsewhere">A link</a></p>
<iframe data-consent="embedded-media" data-src="/test/embed" data-provider="YouTube" width="400" height="225" title="Video"></iframe>
</main><footer><a href="#" data-consent-settings>${lang === 'de' ? 'Cookie-Einstellungen' : 'Cookie settings'}</a></footer></body></html>`;

before(async () => {
  if (skip) return;
  t = await testApp('image-information-systems', {
    register: register(),
    routes: async (app) => {
      const page = "default-src 'self'; script-src 'self'; style-src 'unsafe-inline'; frame-src 'self'; connect-src 'self'";
      app.get('/test/page', async (req, reply) =>
        reply
          .header('content-security-policy', page)
          .type('text/html')
          .send(PAGE((req.query as { lang?: string }).lang ?? 'en')),
      );
      app.get('/test/analytics.js', async (_req, reply) => {
        hits.analytics++;
        return reply.type('text/javascript').send('document.cookie = "_ga=GA1.1.42; path=/; max-age=3600"; window.analyticsRan = true;');
      });
      app.get('/test/embed', async (_req, reply) => {
        hits.embed++;
        return reply.header('content-security-policy', "frame-ancestors 'self'").header('x-frame-options', 'SAMEORIGIN').type('text/html').send('<p>video</p>');
      });
      // A UK register's banner (statistics cookies exempt under the DUAA) on a page of its own.
      const uk = bannerScript(bannerConfig(ukRegister()));
      app.get('/test/uk-consent.js', async (_req, reply) => reply.type('text/javascript').send((await uk).body));
      // A business's own site: another origin (localhost) that includes the banner from Custodian's (127.0.0.1).
      app.get('/test/other-origin', async (_req, reply) => {
        const custodian = `http://127.0.0.1:${new URL(base).port}`;
        const csp = `default-src 'self'; script-src 'self' ${custodian}; style-src 'unsafe-inline'; frame-src 'self'; connect-src ${custodian}`;
        return reply
          .header('content-security-policy', csp)
          .type('text/html')
          .send(PAGE('en').replace('src="/consent.js"', `src="${custodian}/consent.js"`));
      });
      app.get('/test/uk-page', async (_req, reply) => reply.header('content-security-policy', page).type('text/html').send(UK_PAGE));
      // The scan-referral service: strictly necessary cookies only, nothing to ask about.
      const idt = bannerScript(bannerConfig(exampleRegister('image-diagnostic-technology')));
      app.get('/test/idt-consent.js', async (_req, reply) => reply.type('text/javascript').send((await idt).body));
      app.get('/test/idt-page', async (_req, reply) =>
        reply.header('content-security-policy', page).type('text/html').send(UK_PAGE.replace('/test/uk-consent.js', '/test/idt-consent.js')),
      );
    },
  });
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  browser = await launchBrowser();
  shots = mkdtempSync(join(tmpdir(), 'consent-banner-'));
});
after(async () => {
  await browser?.close();
  await t?.close();
});

const config = () => bannerConfig(t.register);
const dialog = (page: Page) => page.locator('dialog.cc');

async function fresh(options: { gpc?: boolean } = {}): Promise<{ context: BrowserContext; page: Page; bodies: unknown[] }> {
  const context = await browser.newContext({ viewport: { width: 1000, height: 800 }, ...(options.gpc ? { extraHTTPHeaders: { 'Sec-GPC': '1' } } : {}) });
  if (options.gpc) await context.addInitScript(() => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', { get: () => true }));
  const page = await context.newPage();
  const bodies: unknown[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === CONSENT_API) bodies.push(r.postDataJSON());
  });
  return { context, page, bodies };
}

/** Google Consent Mode's queue, as JSON (gtag pushes arguments objects). */
const dataLayer = (page: Page) => page.evaluate<string>('JSON.stringify(window.dataLayer.map((a) => Array.from(a)))');

interface Sent {
  visitorId: string;
  purposes: Record<string, boolean>;
  method: string;
  language: string;
}

/** The consent ledger's current state for a visitor (GET /api/v1/consent/{id}): purpose → [state, method]. */
async function ledger(visitorId: string): Promise<Record<string, [string, string]>> {
  const res = await t.app.inject({ url: `${CONSENT_API}/${visitorId}` });
  assert.equal(res.statusCode, 200, res.body);
  const purposes = res.json().purposes as Record<string, { state: string; method: string }>;
  return Object.fromEntries(Object.entries(purposes).map(([p, v]) => [p, [v.state, v.method]]));
}

/** The gated analytics script has run (a function, not a string: the page's CSP forbids eval). */
const analyticsRan = (page: Page) => page.waitForFunction(() => (globalThis as { analyticsRan?: boolean }).analyticsRan === true);

/** WCAG contrast ratio of two computed colours (rgb(r, g, b)). */
function contrast(a: string, b: string): number {
  const lum = (c: string) => {
    const [r, g, bl] = (c.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((x) => {
      const v = Number(x) / 255;
      return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r! + 0.7152 * g! + 0.0722 * bl!;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi! + 0.05) / (lo! + 0.05);
}

const text = async (l: Locator) => (await l.textContent()) ?? '';

/** Cookies other than the one that keeps the choice. */
async function optionalCookies(context: BrowserContext): Promise<string[]> {
  return (await context.cookies()).map((c) => c.name).filter((n) => n !== config().cookie);
}

async function choiceSaved(page: Page, click: () => Promise<void>): Promise<void> {
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === CONSENT_API && r.request().method() === 'POST');
  await click();
  assert.equal((await answered).status(), 201);
}

test('before consent nothing optional runs; Accept all and Reject all look alike; toggles start off; Accept all runs it all and survives a reload', {
  skip,
}, async () => {
  const { context, page, bodies } = await fresh();
  const before = { ...hits };
  await page.goto(`${base}/test/page`);
  await dialog(page).waitFor();
  assert.deepEqual(hits, before, 'no gated script or iframe loaded');
  assert.deepEqual(await optionalCookies(context), []);
  assert.deepEqual(await context.cookies(), [], 'no cookie at all before a choice');
  assert.equal(await page.locator('iframe').getAttribute('src'), null);
  assert.match(await text(page.locator('.cc-p')), /YouTube/, 'the placeholder names the provider');
  assert.equal(await page.evaluate('window.analyticsRan'), undefined);
  // Google Consent Mode: denied before any choice.
  assert.match(await dataLayer(page), /"consent","default",\{"analytics_storage":"denied"/);

  const accept = dialog(page).getByRole('button', { name: 'Accept all' });
  const reject = dialog(page).getByRole('button', { name: 'Reject all' });
  const [a, r] = [await accept.boundingBox(), await reject.boundingBox()];
  assert.ok(a && r);
  assert.equal(a.width, r.width, 'same width');
  assert.equal(a.height, r.height, 'same height');
  const style = (b: typeof accept) =>
    b.evaluate((e) => {
      const s = (globalThis as unknown as { getComputedStyle: (e: unknown) => Record<string, string> }).getComputedStyle(e);
      return [
        s.backgroundColor,
        s.color,
        s.fontSize,
        s.fontWeight,
        s.fontFamily,
        s.borderTopWidth,
        s.borderTopColor,
        s.paddingTop,
        s.paddingLeft,
        s.borderRadius,
      ];
    });
  assert.deepEqual(await style(accept), await style(reject), 'same style');
  // WCAG 2.2 AA: text contrast at least 4.5:1 (the buttons, the link-styled button and the text on the banner).
  const banner = (await style(dialog(page)))[0]!;
  for (const [l, background] of [
    [accept, undefined],
    [dialog(page).getByRole('button', { name: 'Let me choose' }), banner],
    [dialog(page).locator('p').first(), banner],
  ] as const) {
    const [bg, fg] = await style(l);
    const ratio = contrast(fg!, background ?? bg!);
    assert.ok(ratio >= 4.5, `contrast ${ratio.toFixed(2)}`);
  }
  await page.screenshot({ path: join(shots, 'banner-en.png') });

  await dialog(page).getByRole('button', { name: 'Let me choose' }).click();
  const switches = dialog(page).getByRole('switch');
  assert.equal(await switches.count(), 2, 'one switch per consent purpose');
  for (const s of await switches.all()) assert.equal(await s.isChecked(), false, 'none pre-set');
  assert.match(await text(dialog(page)), /_gid[\s\S]*Google[\s\S]*24 hours/, 'cookie names, providers and durations');
  await page.screenshot({ path: join(shots, 'banner-en-choose.png') });

  await choiceSaved(page, () => dialog(page).getByRole('button', { name: 'Accept all' }).click());
  await analyticsRan(page);
  await page.locator('iframe[src="/test/embed"]').waitFor();
  assert.equal(await dialog(page).isVisible(), false);
  assert.ok((await optionalCookies(context)).includes('_ga'), 'analytics ran and set its cookie');
  // The choice is in the cookie the register declares, for as long as the register says it lasts (P2M).
  const kept = (await context.cookies()).find((c) => c.name === 'borlabs-cookie');
  assert.ok(kept, 'the declared borlabs-cookie keeps the choice');
  const declared = approximateSeconds(t.register.cookies['borlabs-cookie']!.lasts);
  assert.ok(
    Math.abs(kept.expires - (Date.now() / 1000 + declared)) < 120,
    `expires in ${Math.round(kept.expires - Date.now() / 1000)} s, declared ${declared} s`,
  );
  const sent = bodies[0] as Sent;
  assert.match(sent.visitorId, /^[0-9a-f-]{36}$/);
  assert.deepEqual(sent, { visitorId: sent.visitorId, purposes: { analytics: true, 'embedded-media': true }, method: 'banner', language: 'en' });
  assert.deepEqual(await ledger(sent.visitorId), { analytics: ['given', 'banner'], 'embedded-media': ['given', 'banner'] }, 'in the consent ledger');
  assert.match(await dataLayer(page), /"consent","update",\{"analytics_storage":"granted"/);

  // The choice survives a reload: no banner, everything runs again.
  const ran = hits.analytics;
  await page.reload();
  await analyticsRan(page);
  assert.equal(hits.analytics, ran + 1);
  assert.equal(await dialog(page).count(), 0, 'not asked again');

  // Withdrawing takes two clicks, as giving again would: Cookie settings, Reject all. The _ga cookie goes.
  await page.getByRole('link', { name: 'Cookie settings' }).click();
  for (const s of await dialog(page).getByRole('switch').all()) assert.equal(await s.isChecked(), true, 'the settings show the choice');
  await choiceSaved(page, () => dialog(page).getByRole('button', { name: 'Reject all' }).click());
  assert.deepEqual(await optionalCookies(context), [], 'refused cookies deleted');
  await page.reload();
  assert.equal(await page.evaluate('window.analyticsRan'), undefined);
  assert.equal(hits.analytics, ran + 1, 'analytics no longer loads');
  await context.close();
});

test('the banner works with the keyboard alone, in German', { skip }, async () => {
  const { context, page } = await fresh();
  const before = { ...hits };
  await page.goto(`${base}/test/page?lang=de`);
  await dialog(page).waitFor();
  assert.equal(await page.evaluate("document.activeElement?.matches('dialog.cc')"), true, 'focus moved into the banner');
  assert.match(await text(dialog(page)), /Alle akzeptieren[\s\S]*Alle ablehnen/);
  await page.screenshot({ path: join(shots, 'banner-de.png') });
  const focused = () => page.evaluate<string>("document.activeElement?.textContent ?? ''");
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'Alle akzeptieren');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'Alle ablehnen');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'Selbst auswählen');
  await page.keyboard.press('Enter');
  assert.equal(await dialog(page).getByRole('switch').count(), 2);
  await page.screenshot({ path: join(shots, 'banner-de-choose.png') });
  // Escape closes the second layer, back to the first.
  await page.keyboard.press('Escape');
  assert.equal(await dialog(page).getByRole('switch').count(), 0);
  assert.ok(await dialog(page).getByRole('button', { name: 'Alle ablehnen' }).isVisible());
  // Choose one purpose with Space, save with Enter.
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Space');
  assert.equal(await dialog(page).getByRole('switch').first().isChecked(), true);
  while (!(await focused()).startsWith('Auswahl speichern')) await page.keyboard.press('Tab');
  await choiceSaved(page, () => page.keyboard.press('Enter'));
  await analyticsRan(page);
  assert.equal(hits.embed, before.embed, 'the embed stays off: only analytics was chosen');
  assert.equal(await page.evaluate("document.activeElement === document.body || !document.activeElement?.closest('dialog')"), true, 'focus left the banner');
  // Withdrawing by keyboard: the Cookie settings link, then Reject all; focus comes back to the link.
  await page.getByRole('link', { name: 'Cookie-Einstellungen' }).focus();
  await page.keyboard.press('Enter');
  await dialog(page).getByRole('switch').first().waitFor();
  for (let i = 0; i < 20 && (await focused()) !== 'Alle ablehnen'; i++) await page.keyboard.press('Tab');
  await choiceSaved(page, () => page.keyboard.press('Enter'));
  assert.equal(await focused(), 'Cookie-Einstellungen', 'focus back where it was');
  // A placeholder loads its one embed when asked.
  await page.getByRole('button', { name: 'Inhalt laden von YouTube' }).click();
  await page.locator('iframe[src="/test/embed"]').waitFor();
  assert.equal(hits.embed, before.embed + 1);
  await context.close();
});

test('with Global Privacy Control on, analytics never loads and the banner says the signal was honoured', { skip }, async () => {
  const { context, page, bodies } = await fresh({ gpc: true });
  const before = hits.analytics;
  await page.goto(`${base}/test/page`);
  await dialog(page).waitFor();
  assert.match(await text(dialog(page)), /Global Privacy Control/);
  while (bodies.length === 0) await page.waitForTimeout(20);
  const sent = bodies[0] as Sent;
  assert.deepEqual(sent.purposes, { analytics: false, 'embedded-media': false });
  assert.equal(sent.method, 'gpc');
  const recorded = await ledger(sent.visitorId);
  assert.deepEqual(
    [recorded.analytics, recorded['embedded-media']],
    [
      ['refused', 'gpc'],
      ['refused', 'gpc'],
    ],
    'in the consent ledger',
  );
  await page.reload();
  assert.equal(await dialog(page).count(), 0, 'told once');
  assert.equal(hits.analytics, before);
  assert.deepEqual(await optionalCookies(context), []);
  await context.close();
});

test('an expired consent, or one given to other purposes, is asked again', { skip }, async () => {
  const { v, cookie } = config();
  const past = Math.floor(Date.now() / 1000) - 60;
  const future = past + 86_400;
  const { context, page } = await fresh();
  const stale = [`${v}.${past}.00000000-0000-4000-8000-000000000000.analytics~embedded-media`, `old${v}.${future}.x.analytics`];
  for (const value of stale) {
    await context.clearCookies();
    await context.addCookies([{ name: cookie, value, url: base }]);
    const before = hits.analytics;
    await page.goto(`${base}/test/page`);
    await dialog(page).waitFor();
    assert.equal(hits.analytics, before, 'nothing runs on the stale choice');
  }
  // The same cookie, still valid: not asked, and analytics runs.
  await context.clearCookies();
  await context.addCookies([{ name: cookie, value: `${v}.${future}.x.analytics`, url: base }]);
  await page.goto(`${base}/test/page`);
  await analyticsRan(page);
  assert.equal(await dialog(page).count(), 0);
  await context.close();
});

test("on the business's own site (another origin) the banner posts its choice across origins; embeds added later are gated too", { skip }, async () => {
  const { context, page, bodies } = await fresh();
  const site = base.replace('127.0.0.1', 'localhost');
  await page.goto(`${site}/test/other-origin`);
  await dialog(page).waitFor();
  await choiceSaved(page, () => dialog(page).getByRole('button', { name: 'Accept all' }).click());
  await analyticsRan(page);
  const sent = bodies[0] as Sent;
  assert.deepEqual(await ledger(sent.visitorId), { analytics: ['given', 'banner'], 'embedded-media': ['given', 'banner'] });
  assert.deepEqual((await context.cookies(site)).map((c) => c.name).sort(), ['_ga', config().cookie].sort(), 'the choice is kept on the site itself');
  // An embed added after the page loaded: allowed already, so it loads.
  const embeds = hits.embed;
  await page.evaluate(
    "document.body.insertAdjacentHTML('beforeend', '<iframe id=late data-consent=embedded-media data-src=/test/embed width=200 height=100></iframe>')",
  );
  await page.locator('#late[src="/test/embed"]').waitFor();
  assert.ok(hits.embed > embeds);
  await context.close();
});

test('UK: exempt statistics cookies run without asking, the banner says so, and one click objects', { skip }, async () => {
  const { context, page } = await fresh();
  const bodies: unknown[] = [];
  // This app's ledger keeps the German vendor's purposes: the UK register's choice is caught on its way there.
  await page.route(`${base}${CONSENT_API}`, async (route) => {
    bodies.push(route.request().postDataJSON());
    await route.fulfill({ status: 201, contentType: 'application/json', body: '{}' });
  });
  const before = hits.analytics;
  await page.goto(`${base}/test/uk-page`);
  await analyticsRan(page);
  assert.equal(hits.analytics, before + 1, 'exempt statistics run before any choice');
  assert.match(await text(dialog(page)), /UK law lets us use these cookies without asking/);
  assert.equal(await dialog(page).getByRole('button', { name: 'Accept all' }).count(), 0, 'nothing to consent to');
  await page.screenshot({ path: join(shots, 'banner-uk-exempt.png') });
  await dialog(page)
    .getByRole('button', { name: /^Object: Set analytics cookies/ })
    .click();
  while (bodies.length === 0) await page.waitForTimeout(20);
  assert.deepEqual((bodies[0] as { purposes: unknown }).purposes, { 'analytics-cookies': false }, 'the objection, posted');
  assert.deepEqual(
    (await optionalCookies(context)).filter((n) => n !== 'cookie_consent'),
    [],
    'its cookies deleted',
  );
  await page.reload();
  assert.equal(await page.evaluate('window.analyticsRan'), undefined);
  assert.equal(hits.analytics, before + 1, 'no longer runs');
  assert.equal(await dialog(page).count(), 0, 'not asked again');
  await context.close();
  console.log(`# screenshots in ${shots}`);
});

test('strictly necessary cookies only: the banner asks nothing, and Cookie settings then Close keeps no choice and sets no cookie', { skip }, async () => {
  const { context, page, bodies } = await fresh();
  await page.goto(`${base}/test/idt-page`);
  assert.equal(await dialog(page).count(), 0, 'not asked');
  await page.getByRole('link', { name: 'Cookie settings' }).click();
  assert.match(await text(dialog(page)), /This site uses only cookies that are strictly necessary/);
  await dialog(page).getByRole('button', { name: 'Close' }).click();
  await page.reload();
  assert.deepEqual(await context.cookies(), [], 'no cookie: there was no choice to keep');
  assert.deepEqual(bodies, [], 'nothing posted');
  await context.close();
});
