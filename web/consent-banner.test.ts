// GET /consent.js: what the banner is told about each register, and what it weighs (≤ 6 KB gzipped, everything it
// loads: the script is all of it, styles inline).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { parse, stringify } from 'yaml';
import type { YamlDoc } from '../documents/fixtures/load-fixture.ts';
import { renderNotice } from '../documents/render-notice.ts';
import { parseRegister, type Register } from '../register/load-register.ts';
import { exampleRegister, testApp, type TestApp } from '../test/helpers/test-app.ts';
import { bannerScript } from './consent-bundle.ts';
import { bannerConfig } from './consent-config.ts';

const BUDGET = 6 * 1024;

function variant(example: string, change: (doc: YamlDoc) => void): Register {
  const doc = parse(readFileSync(new URL(`../examples/${example}/register.yaml`, import.meta.url), 'utf8'));
  change(doc);
  const loaded = parseRegister(stringify(doc));
  if (!loaded.ok) throw new Error(loaded.problems.map((p) => p.message).join('\n'));
  return loaded.register;
}

test('the German vendor: its analytics purpose with every Google cookie, the choice in borlabs-cookie for two months, Google Consent Mode', () => {
  const c = bannerConfig(exampleRegister('image-information-systems'));
  assert.equal(c.cookie, 'borlabs-cookie');
  assert.equal(c.life, 60 * 86_400, 'Max-Age: P2M, as the register declares the cookie that keeps the choice');
  assert.equal(c.valid, 60 * 86_400, 'a choice counts as long as its cookie lasts');
  assert.equal(c.ga, true);
  assert.deepEqual(
    c.purposes.map((p) => [p.id, p.gcm, p.cookies.length]),
    [['analytics', 'a', 3]],
  );
  const analytics = c.purposes[0]!;
  assert.deepEqual(analytics.title, {
    en: 'Analyse the use of our website with Google Analytics',
    de: 'Nutzung unserer Website mit Google Analytics auswerten',
  });
  assert.deepEqual(analytics.cookies[1], {
    n: '_gid',
    p: { en: 'Google (Analytics and Google APIs)', de: 'Google (Analytics und Google APIs)' },
    l: { en: '24 hours', de: '24 Stunden' },
  });
});

test('the banner keeps the choice in exactly the cookie the register declares, for its declared lifetime', () => {
  const shorter = bannerConfig(
    variant('image-information-systems', (d) => {
      d.purposes.analytics['consent-lasts'] = 'P1M';
    }),
  );
  assert.equal(shorter.life, 60 * 86_400, 'the cookie still lasts as declared');
  assert.equal(shorter.valid, 30 * 86_400, 'a purpose whose consent lasts less asks again sooner');
  assert.deepEqual(
    ['image-solutions', 'i-image-it'].map((name) => [bannerConfig(exampleRegister(name)).cookie, bannerConfig(exampleRegister(name)).life]),
    [
      ['cookie_consent', 6 * 30 * 86_400],
      ['custodian-consent', 6 * 30 * 86_400],
    ],
  );
  // Another cookie marked instead: that one, whatever its name says.
  const moved = bannerConfig(
    variant('image-solutions', (d) => {
      delete d.cookies['cookie-consent']['keeps-consent-choice'];
      d.cookies.prefs = { names: ['site_prefs'], purpose: 'strictly-necessary', lasts: 'P1Y', provider: 'first-party', 'keeps-consent-choice': true };
    }),
  );
  assert.deepEqual([moved.cookie, moved.life], ['site_prefs', 365 * 86_400]);
  // A session cookie: no Max-Age; a choice still counts six months at most.
  const session = bannerConfig(
    variant('image-solutions', (d) => {
      d.cookies['cookie-consent'].lasts = 'session';
    }),
  );
  assert.deepEqual([session.life, session.valid], [0, 6 * 30 * 86_400]);
  // Nothing to ask about: no choice, no cookie.
  const idt = bannerConfig(exampleRegister('image-diagnostic-technology'));
  assert.deepEqual([idt.purposes, idt.cookie], [[], '']);
});

test('UK DUAA: exempt statistics cookies are marked so the banner offers an objection instead of asking', () => {
  const c = bannerConfig(
    variant('image-solutions', (d) => {
      for (const key of ['google-analytics', 'google-analytics-day']) Object.assign(d.cookies[key], { exemption: 'statistics', provider: 'first-party' });
    }),
  );
  assert.deepEqual(
    c.purposes.map((p) => [p.id, p.exempt]),
    [['analytics-cookies', 'statistics']],
  );
});

test('the fingerprint changes when the consent purposes or their cookies change, and only then', () => {
  const base = bannerConfig(exampleRegister('image-information-systems')).v;
  const cookie = bannerConfig(
    variant('image-information-systems', (d) => {
      d.cookies['google-analytics-id'].names.push('_gcl_aw');
    }),
  ).v;
  const other = bannerConfig(
    variant('image-information-systems', (d) => {
      d.controller.name = 'Another name GmbH';
    }),
  ).v;
  assert.notEqual(cookie, base);
  assert.equal(other, base);
});

const EXAMPLES = ['image-information-systems', 'image-solutions', 'i-image-it', 'image-diagnostic-technology', 'odl-dental-lab'];

test("every example: the cookie the banner sets is a row of the notice's cookie table, with the lifetime it is set for", () => {
  const kept: string[] = [];
  for (const name of EXAMPLES) {
    const register = exampleRegister(name);
    const { cookie, life } = bannerConfig(register);
    if (cookie === '') continue;
    const html = renderNotice(register, { format: 'html', lang: 'en' });
    const table = html.slice(html.indexOf('<h2 id="cookies">'), html.indexOf('</table>', html.indexOf('<h2 id="cookies">')));
    const row = table.split('<tr role="row">').find((r) => r.startsWith(`<th scope="row" role="rowheader">${cookie}</th>`));
    assert.ok(row, `${name}: ${cookie} listed`);
    const months = life / (30 * 86_400);
    assert.match(row, new RegExp(`data-label="How long:">${months} months<`), `${name}: set for as long as the table says`);
    kept.push(cookie);
  }
  assert.deepEqual(kept, ['borlabs-cookie', 'cookie_consent', 'custodian-consent']);
});

test(`the banner is within the budget of ${BUDGET} bytes gzipped for every example`, async () => {
  const sizes: string[] = [];
  for (const name of EXAMPLES) {
    const { body, gzip } = await bannerScript(bannerConfig(exampleRegister(name)));
    const size = gzipSync(body, { level: 9 }).length;
    assert.ok(size <= BUDGET, `${name}: ${size} bytes gzipped`);
    assert.equal(gzip.length, size, 'served gzipped as measured');
    assert.doesNotMatch(body, /\bimport\b|\brequire\(/, 'one file, nothing else loaded');
    sizes.push(`${name} ${body.length} B, ${size} B gzipped`);
  }
  console.log(`# /consent.js: ${sizes.join('; ')}`);
});

let t: TestApp;
before(async () => {
  t = await testApp('image-information-systems');
});
after(async () => t?.close());

test('GET /consent.js: the configuration in the script, gzipped when asked, cached and revalidated, for any origin', async () => {
  const plain = await t.app.inject({ url: '/consent.js' });
  assert.equal(plain.statusCode, 200);
  assert.match(String(plain.headers['content-type']), /^text\/javascript/);
  assert.equal(plain.headers['cross-origin-resource-policy'], 'cross-origin', 'websites on other origins can include it');
  assert.ok(plain.body.includes(JSON.stringify(bannerConfig(t.register))), 'the configuration is in the script');
  const zipped = await t.app.inject({ url: '/consent.js', headers: { 'accept-encoding': 'gzip, br' } });
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.equal(gunzipSync(zipped.rawPayload).toString(), plain.body);
  assert.ok(zipped.rawPayload.length <= BUDGET);
  const again = await t.app.inject({ url: '/consent.js', headers: { 'if-none-match': String(plain.headers.etag) } });
  assert.equal(again.statusCode, 304);
});

test('the privacy notice page carries the Cookie settings link and the banner (en, de)', async () => {
  const en = await t.app.inject({ url: '/privacy' });
  assert.match(en.body, /<a href="#cookies" data-consent-settings>Cookie settings<\/a>/);
  assert.match(en.body, /<script src="\/consent.js"><\/script>\n<\/body>/);
  assert.match(String(en.headers['content-security-policy']), /script-src 'self'/);
  const de = await t.app.inject({ url: '/privacy?lang=de' });
  assert.match(de.body, /data-consent-settings>Cookie-Einstellungen</);
});

test('the privacy centre carries the Cookie settings link and the banner', async () => {
  const page = await t.app.inject({ url: '/privacy-center?lang=de' });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /<a href="\/privacy\?lang=de#cookies" data-consent-settings>Cookie-Einstellungen<\/a>/);
  assert.match(page.body, /<script src="\/consent.js"><\/script>\n<\/body>/);
});

test('the hosted forms carry the Cookie settings link and the banner', async () => {
  const form = await t.app.inject({ url: '/forms/contact-form' });
  assert.equal(form.statusCode, 200);
  assert.match(form.body, /<a href="\/privacy#cookies" data-consent-settings>Cookie settings<\/a><\/p><script src="\/consent.js"><\/script>/);
});
