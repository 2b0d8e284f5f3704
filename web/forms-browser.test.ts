// A clinician fills in the hosted scan-request form in a real browser: a mistake is explained next to the field,
// what they typed comes back (from the server-side visitor session, never the sealed clinical text), and the
// corrected form is stored. The visitor session is purged after its idle period by the job.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { hasChromium, launchBrowser, screenshotPath } from '../test/helpers/browser.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { purgeVisitorSessions } from '../visitors/visitor-session-store.ts';

let t: TestApp;
let base: string;
before(async () => {
  t = await testApp();
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => t?.close());

test('the hosted form explains mistakes, keeps the draft in a visitor session, and stores the corrected submission', {
  skip: hasChromium ? false : 'Debian chromium is not installed (.ci/run installs it)',
}, async () => {
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/forms/scan-request`);
    assert.equal(await page.locator('h1').textContent(), 'Request a CT or CBCT scan for a patient');
    await page.getByLabel("Patient's full name").fill('Grace Hopper');
    await page.getByLabel("Patient's telephone").fill('020 7946 0321');
    await page.getByLabel('Scan requested').selectOption('Medical CT');
    await page.getByLabel('Clinical area to be imaged and reason').fill('Upper right canine');
    // The date of birth is left out on purpose.
    await page.getByRole('button', { name: 'Send' }).click();
    await page.waitForSelector('.error-summary');
    assert.match((await page.locator('.error-summary').textContent()) ?? '', /date of birth is required/);
    assert.equal(await page.getByLabel("Patient's full name").inputValue(), 'Grace Hopper');

    // The cookie is the one the register declares, HttpOnly, and the draft survives leaving the page.
    const cookies = await context.cookies();
    const sid = cookies.find((c) => c.name === 'PHPSESSID');
    assert.ok(sid, `declared session cookie set: ${cookies.map((c) => c.name).join(',')}`);
    assert.equal(sid.httpOnly, true);
    await page.goto(`${base}/privacy`);
    await page.goto(`${base}/forms/scan-request`);
    assert.equal(await page.getByLabel("Patient's full name").inputValue(), 'Grace Hopper');
    assert.equal(await page.getByLabel('Clinical area to be imaged and reason').inputValue(), '', 'sealed clinical text is never kept in a session');
    const stored = await sql<{ data: unknown }>`SELECT data FROM visitor_session`.execute(t.db.kysely);
    assert.doesNotMatch(JSON.stringify(stored.rows), /Upper right canine/);

    await page.getByLabel("Patient's date of birth").fill('1990-06-15');
    await page.getByLabel('Scan requested').selectOption('Medical CT');
    await page.getByLabel('Clinical area to be imaged and reason').fill('Upper right canine');
    await page.screenshot({ path: screenshotPath('hosted-form'), fullPage: true });
    await page.getByRole('button', { name: 'Send' }).click();
    await page.waitForURL(/\/thanks$/).catch(() => {});
    assert.match(page.url(), /\/forms\/scan-request\/thanks$/, (await page.locator('main').textContent()) ?? '');
    assert.match((await page.locator('main').textContent()) ?? '', /Thank you/);
    const rec = await t.db.kysely.selectFrom('record').select(['value_text', 'value_sealed']).where('field', '=', 'patient.name').execute();
    assert.ok(rec.some((r) => r.value_text === 'Grace Hopper'));
  } finally {
    await browser.close();
  }
});

test('expired visitor sessions are purged, live ones kept', async () => {
  await sql`DELETE FROM visitor_session`.execute(t.db.kysely);
  const res = await t.app.inject({
    method: 'POST',
    url: '/forms/scan-request',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'patient.name=Alan',
  });
  assert.equal(res.statusCode, 400);
  assert.equal(Number((await sql<{ n: string }>`SELECT count(*) AS n FROM visitor_session`.execute(t.db.kysely)).rows[0]!.n), 1);
  t.clock.advance(29 * 60_000);
  assert.equal(await purgeVisitorSessions(t.db, t.ctx.auditor, t.clock.now()), 0, 'kept within the 30-minute idle period');
  t.clock.advance(2 * 60_000);
  assert.equal(await purgeVisitorSessions(t.db, t.ctx.auditor, t.clock.now()), 1, 'purged after it');
  const audited = (await t.audits()).filter((e) => e.action === 'visitor.draft' || e.action === 'visitor.purge').map((e) => [e.action, e.detail]);
  assert.deepEqual(
    audited.slice(-2),
    [
      ['visitor.draft', { point: 'scan-request', fields: 1 }],
      ['visitor.purge', { count: 1 }],
    ],
    'keeping the draft and deleting it are both audited',
  );
});

test('a register without a visitor session sets no cookie at all', async () => {
  const other = await testApp('image-solutions');
  try {
    const res = await other.app.inject({
      method: 'POST',
      url: '/forms/enquiry-form',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'name=Alan',
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.headers['set-cookie'], undefined);
  } finally {
    await other.close();
  }
});
