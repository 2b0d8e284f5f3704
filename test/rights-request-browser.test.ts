// A rights request end to end in a real browser (Debian's Chromium): a patient asks for a copy of their data on the
// privacy centre, confirms it from the link in the email, and a DPO finds it in the queue, links the patient, records
// the health professional's opinion, previews the answer and issues it. Screenshots of each step go to a temporary
// folder, named in the test output.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { hasChromium, launchBrowser } from './helpers/browser.ts';
import { GOOD_PASSWORD } from './helpers/staff-client.ts';
import { testApp, type TestApp } from './helpers/test-app.ts';

const skip = hasChromium ? false : 'Debian chromium is not installed (.ci/run installs it)';
let t: TestApp;
let base: string;
let patientId: string;

before(async () => {
  if (skip) return;
  // Monday 1 February 2027 in London.
  t = await testApp('image-diagnostic-technology', { now: '2027-02-01T10:00:00Z' });
  await t.users.create({ email: 'dana@example.test', role: 'dpo', password: GOOD_PASSWORD }, 'system:cli');
  const collected = await t.app.inject({
    method: 'POST',
    url: '/api/v1/collect/scan-request',
    payload: {
      'patient.name': 'Pat Example',
      'patient.dob': '1979-04-02',
      'patient.phone': '020 7946 0123',
      'patient.email': 'pat@example.com',
      'scan.type': 'Medical CT',
      'scan.area': 'Maxillary sinus',
    },
  });
  assert.equal(collected.statusCode, 201, collected.body);
  patientId = collected.json().subjectId;
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
after(async () => t?.close());

/** The confirmation link's token, from the message the request queued (no SMTP server here: it is held). */
async function confirmToken(): Promise<string> {
  const held = (await t.ctx.mailer.outbox({ limit: 10 })).find((m) => m.kind === 'request-verification');
  assert.ok(held, 'a confirmation message');
  const mail = await t.ctx.mailer.open(held.id, 'system:test');
  const token = /\/privacy-center\/confirm\?token=([A-Za-z0-9_-]{43})/.exec(mail.body_text ?? '')?.[1];
  assert.ok(token, mail.body_text ?? '');
  return token;
}

function watchCsp(page: Page): string[] {
  const blocked: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) blocked.push(m.text());
  });
  return blocked;
}

test('a patient asks for a copy on the privacy centre and confirms it; a DPO links them, previews the answer and issues it', {
  skip,
  timeout: 60_000,
}, async (ctx) => {
  const shots = mkdtempSync(join(tmpdir(), 'custodian-rights-request-'));
  const shot = (page: Page, name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  const browser = await launchBrowser();
  try {
    // The patient.
    const patient = await browser.newPage({ viewport: { width: 1000, height: 1200 } });
    const patientCsp = watchCsp(patient);
    await patient.goto(`${base}/privacy-center`);
    assert.equal(await patient.getByRole('heading', { level: 1 }).textContent(), 'Your privacy rights');
    await shot(patient, '1-privacy-centre');
    await patient.locator('a[href^="/privacy-center/access"]').click();
    assert.equal(await patient.getByRole('heading', { level: 1 }).textContent(), 'Get a copy of your data');
    // Sent empty first: the problem is announced and leads to the field.
    await patient.getByRole('button', { name: 'Send the request' }).click();
    assert.match((await patient.getByRole('alert').textContent()) ?? '', /Enter your email address/);
    await patient.getByLabel('Your email address').fill('pat@example.com');
    await patient.getByLabel('Your name (optional)').fill('Pat Example');
    await patient.getByLabel('Anything that helps us (optional)').fill('My CT scan from last spring, please.');
    await shot(patient, '2-access-form');
    await patient.getByRole('button', { name: 'Send the request' }).click();
    await patient.waitForURL(/\/privacy-center\/sent/);
    assert.equal(await patient.getByRole('heading', { level: 1 }).textContent(), 'Check your email');
    assert.match((await patient.getByRole('status').textContent()) ?? '', /if you confirm today, we will answer by 1 March 2027/);
    await shot(patient, '3-check-your-email');

    // The link from the mail only opens a page; the button confirms.
    await patient.goto(`${base}/privacy-center/confirm?token=${await confirmToken()}`);
    assert.equal(await patient.getByRole('heading', { level: 1 }).textContent(), 'Confirm your request');
    await shot(patient, '4-confirm');
    await patient.getByRole('button', { name: 'Confirm' }).click();
    await patient.waitForURL(/\/privacy-center\/confirmed/);
    assert.match((await patient.getByRole('status').textContent()) ?? '', /We will answer by 1 March 2027/);
    await shot(patient, '5-confirmed');
    assert.deepEqual(patientCsp, [], 'nothing on the privacy centre breaks the CSP');

    // The DPO.
    const dpo = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
    const dpoCsp = watchCsp(dpo);
    await dpo.goto(`${base}/console/requests`);
    await dpo.getByLabel('Email address').fill('dana@example.test');
    await dpo.getByLabel('Password').fill(GOOD_PASSWORD);
    await dpo.getByRole('button', { name: 'Sign in' }).click();
    await dpo.waitForURL(`${base}/console/requests`);
    assert.equal(await dpo.getByRole('heading', { level: 1 }).textContent(), 'Rights requests');
    const row = dpo.locator('table:not(.chart) tbody tr');
    assert.equal(await row.count(), 1);
    assert.match((await row.textContent()) ?? '', /2027-03-01[\s\S]*Access \(a copy\)[\s\S]*Privacy centre/);
    assert.ok(await dpo.getByRole('table', { name: 'Open requests by week due' }).isVisible());
    await shot(dpo, '6-queue');

    await row.getByRole('link', { name: 'Open' }).click();
    assert.equal(await dpo.getByRole('heading', { level: 1 }).textContent(), 'Access (a copy) request');
    await dpo.getByRole('link', { name: "Look for people with the requester's email" }).click();
    const suggestion = dpo.locator('li', { has: dpo.locator(`a[href="/console/people/${patientId}"]`) });
    await suggestion.getByRole('button', { name: 'Link this person' }).click();
    assert.match((await dpo.getByRole('status').first().textContent()) ?? '', /The person is linked/);
    assert.ok(await dpo.locator(`section a[href="/console/people/${patientId}"]`).first().isVisible());

    await shot(dpo, '7-request');
    // The scan was supplied by the dentist: held back until a health professional's opinion is recorded.
    await dpo.getByLabel('Who gave it: name and profession').fill('Dr A. Jones, consultant radiologist');
    await dpo.getByRole('button', { name: 'Record the opinion' }).click();
    assert.match((await dpo.getByRole('status').first().textContent()) ?? '', /opinion is recorded/);
    await dpo.getByRole('button', { name: 'Preview the answer (opens sealed values; recorded in the audit log)' }).click();
    assert.ok(await dpo.getByRole('heading', { name: 'Preview of the answer' }).isVisible());
    assert.match((await dpo.getByRole('table', { name: 'Records' }).textContent()) ?? '', /Maxillary sinus/);
    await shot(dpo, '8-preview');
    await dpo.getByRole('button', { name: 'Issue the answer and email the link' }).click();
    assert.match((await dpo.getByRole('status').first().textContent()) ?? '', /The answer is issued/);
    assert.match((await dpo.locator('#answer-issued').textContent()) ?? '', /emailed to pat@example\.com and works until 2027-03-03/);
    assert.match((await dpo.locator('dl.facts').first().textContent()) ?? '', /Completed: Done/);
    await shot(dpo, '9-answered');
    assert.deepEqual(dpoCsp, [], 'nothing in the console breaks the CSP');
    ctx.diagnostic(`screenshots: ${shots}`);
  } finally {
    await browser.close();
  }
});
