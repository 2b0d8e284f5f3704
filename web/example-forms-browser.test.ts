// Every public form of every example business, filled in and sent in a real browser (files chosen as a person
// would), each stored; the IT firm's CV arrives sealed and a DPO downloads it from the console; the German vendor's
// form explains its problems in German with its own labels.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { Browser as PlaywrightBrowser } from 'playwright-core';
import type { Field } from '../register/schema.ts';
import { hasChromium, launchBrowser, screenshotPath } from '../test/helpers/browser.ts';
import { sampleDocx, sampleJpeg, sampleOdt, samplePdf, samplePng } from '../test/helpers/sample-files.ts';
import { GOOD_PASSWORD } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { openTestDb } from '../test/helpers/test-db.ts';
import { testKeyring } from '../test/helpers/test-keyring.ts';
import type { Db } from '../db/connect.ts';

const EXAMPLES = ['image-diagnostic-technology', 'i-image-it', 'image-information-systems', 'image-solutions', 'odl-dental-lab'];
const skip = hasChromium ? false : 'Debian chromium is not installed (.ci/run installs it)';

let browser: PlaywrightBrowser | undefined;
// One database for every example's app (each register's records carry its fingerprint): a fresh one per example
// would spend most of the test migrating.
let db: Db | undefined;
const keyring = testKeyring();
const shared = async () => ({ db: (db ??= await openTestDb()), keyring });
before(async () => {
  if (hasChromium) browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await db?.close();
});

/** Closes the app and its mailer; the shared database stays open for the next example. */
async function closeKeepingDb(t: TestApp): Promise<void> {
  await t.app.close();
  await t.ctx.mailer.close();
}

const FILES = {
  pdf: () => ({ name: 'document.pdf', mimeType: 'application/pdf', buffer: samplePdf('A CV sent from the browser') }),
  docx: () => ({ name: 'document.docx', mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', buffer: sampleDocx() }),
  odt: () => ({ name: 'document.odt', mimeType: 'application/vnd.oasis.opendocument.text', buffer: sampleOdt() }),
  jpeg: () => ({ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: sampleJpeg() }),
  png: () => ({ name: 'photo.png', mimeType: 'image/png', buffer: samplePng() }),
} as const;

/** What a person would type into a field of this kind. */
function typed(field: Field, country: string | undefined): string {
  if (field['full-name']) return 'Ada Lovelace';
  if (field.identifier === 'gdc-number') return '123456';
  if (field.identifier && field.type === 'text') return 'AB-1234';
  switch (field.type) {
    case 'email':
      return 'ada@example.org';
    case 'phone':
      return country === 'DE' ? '0381 496 58 20' : '07700 900123';
    case 'date':
      return '1990-06-15';
    case 'number':
      return '3';
    case 'postcode':
      return 'SW1A 1AA';
    case 'url':
      return 'https://example.org/';
    default:
      return field.max !== undefined && field.max < 12 ? 'x' : 'Sent from the browser';
  }
}

/** The cookie banner, where the register has cookies to ask about, is answered first (Reject all). */
async function answerBanner(page: Page): Promise<void> {
  await page.waitForLoadState('load');
  const reject = page.getByRole('button', { name: /^(Reject all|Alle ablehnen)$/ });
  if (await reject.isVisible().catch(() => false)) await reject.click();
}

async function fill(page: Page, t: TestApp, point: string): Promise<void> {
  for (const [name, field] of Object.entries(t.register.collection[point]!.fields)) {
    const input = page.locator(`[name="${name}"]`);
    if (field.type === 'boolean') await input.check();
    else if (field.type === 'choice') await input.selectOption({ index: 1 });
    else if (field.type === 'file') {
      const kind = (field.accept ?? ['pdf']).find((k) => k in FILES) as keyof typeof FILES;
      await input.setInputFiles(FILES[kind]());
    } else await input.fill(typed(field, t.register.controller.country));
  }
}

test('each example business: every public form can be filled in and sent in a browser, files included, and is stored', { skip }, async () => {
  for (const example of EXAMPLES) {
    const t = await testApp(example, await shared());
    try {
      const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
      const context = await browser!.newContext();
      const page = await context.newPage();
      const points = Object.entries(t.register.collection).filter(([, p]) => p.channel === 'web');
      assert.ok(points.length > 0, `${example} has public forms`);
      for (const [key, point] of points) {
        await page.goto(`${base}/forms/${key}`);
        await answerBanner(page);
        await fill(page, t, key);
        await page.getByRole('button', { name: /Send|Senden/ }).click();
        await page.waitForURL(/\/thanks/, { timeout: 15_000 }).catch(() => {});
        const problems = page.url().includes('/thanks') ? '' : (await page.content()).slice(0, 1500);
        assert.match(page.url(), /\/thanks/, `${example} ${key}: ${problems}`);
        const stored = await t.db.kysely
          .selectFrom('record')
          .select(['id', 'field', 'value_text', 'value_sealed'])
          .where('collection_point', '=', key)
          .where('register_fingerprint', '=', t.register.fingerprint)
          .execute();
        const expected = Object.entries(point.fields).filter(([, f]) => !f.consent).length;
        assert.equal(stored.length, expected, `${example} ${key}: one record per field`);
        for (const [name] of Object.entries(point.fields).filter(([, f]) => f.type === 'file')) {
          const record = stored.find((r) => r.field === name)!;
          assert.equal(record.value_text, null, `${example} ${key}.${name} is sealed`);
          const file = await t.db.kysely.selectFrom('record_file').select(['media_type', 'size_bytes']).where('record_id', '=', record.id).executeTakeFirst();
          assert.ok(file && Number(file.size_bytes) > 0, `${example} ${key}.${name}: the file is stored`);
        }
      }
      if (example === 'i-image-it') await dpoDownloadsTheCv(context, base, t);
      await context.close();
    } finally {
      await closeKeepingDb(t);
    }
  }
});

/** A DPO finds the applicant in the console and downloads the CV; the download is in the audit trail. */
async function dpoDownloadsTheCv(context: Awaited<ReturnType<PlaywrightBrowser['newContext']>>, base: string, t: TestApp): Promise<void> {
  const cv = await t.db.kysely.selectFrom('record').select(['id', 'subject_id']).where('field', '=', 'cv').executeTakeFirstOrThrow();
  await t.users.create({ email: 'dana@example.test', role: 'dpo', password: GOOD_PASSWORD }, 'system:cli');
  const dpo = await context.newPage();
  await dpo.goto(`${base}/console/sign-in`);
  await dpo.getByLabel('Email address').fill('dana@example.test');
  await dpo.getByLabel('Password').fill(GOOD_PASSWORD);
  await dpo.getByRole('button', { name: 'Sign in' }).click();
  await dpo.goto(`${base}/console/people/${cv.subject_id}`);
  const row = dpo.locator('tr', { has: dpo.locator('th', { hasText: /^cv$/ }) }).first();
  assert.match((await row.textContent()) ?? '', /application\/pdf/);
  await dpo.screenshot({ path: screenshotPath('person-with-cv'), fullPage: true });
  const [download] = await Promise.all([dpo.waitForEvent('download'), row.getByRole('button', { name: /Download/ }).click()]);
  assert.equal(download.suggestedFilename(), 'document.pdf');
  const path = await download.path();
  const { readFileSync } = await import('node:fs');
  assert.deepEqual(readFileSync(path), samplePdf('A CV sent from the browser'));
  const read = (await t.audits()).filter((e) => e.action === 'record.read-sealed' && e.subjectId === cv.subject_id);
  assert.ok(
    read.some((e) => (e.detail as { file?: boolean }).file === true),
    'the download is audited',
  );
}

test('the German vendor: its form and its problems in German, with its labels, never a field key', { skip }, async () => {
  const t = await testApp('image-information-systems', await shared());
  try {
    const base = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const page = await browser!.newPage();
    await page.goto(`${base}/forms/contact-form?lang=de`);
    await answerBanner(page);
    assert.equal(await page.locator('h1').textContent(), 'Kontakt- und Produktanfrageformular');
    await page.getByLabel('Ihr Name').fill('Max Mustermann');
    await page.getByLabel('E-Mail-Adresse').fill('max@example');
    await page.getByLabel('Telefon (freiwillig)').fill('0381 496 58 20');
    await page.getByRole('button', { name: 'Senden' }).click();
    await page.waitForSelector('.error-summary');
    const summary = (await page.locator('.error-summary').textContent()) ?? '';
    assert.match(summary, /Bitte prüfen Sie Ihre Angaben/);
    assert.match(summary, /„E-Mail-Adresse“ ist keine gültige E-Mail-Adresse\./);
    assert.match(summary, /Bitte füllen Sie „Ihre Nachricht“ aus\./);
    assert.doesNotMatch(summary, /contact-forms|message|email is|is required/);
    // Everything else right, the consent box left empty: asked for by its own words, not the purpose's key.
    await page.getByLabel('E-Mail-Adresse').fill('max@example.de');
    await page.getByLabel('Ihr Anliegen').selectOption({ index: 1 });
    await page.getByLabel('Ihre Nachricht').fill('Bitte rufen Sie mich an.');
    await page.getByRole('button', { name: 'Senden' }).click();
    await page.waitForSelector('.error-summary');
    const consent = (await page.locator('.error-summary').textContent()) ?? '';
    assert.match(consent, /setzen Sie bitte ein Häkchen bei „Ich willige ein/);
    assert.doesNotMatch(consent, /contact-forms/);
    await page.screenshot({ path: screenshotPath('hosted-form-de'), fullPage: true });
    const stored = () =>
      t.db.kysely
        .selectFrom('record')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('value_text', '=', '+493814965820')
        .executeTakeFirstOrThrow()
        .then((r) => Number(r.n));
    const before = await stored();
    await page.getByLabel(/Ich willige ein/).check();
    await page.getByRole('button', { name: 'Senden' }).click();
    await page.waitForURL(/\/thanks\?lang=de$/);
    assert.match((await page.locator('main').textContent()) ?? '', /Vielen Dank/);
    assert.equal(await stored(), before + 1, 'a national German number, stored in E.164');
  } finally {
    await closeKeepingDb(t);
  }
});
