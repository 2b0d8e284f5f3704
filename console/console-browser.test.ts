// A real browser signs in through the real form on a listening server and lands on the dashboard.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { GOOD_PASSWORD, T0 } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `Chromium is not installed at ${CHROMIUM} (apt-get install chromium)`;

let t: TestApp;
let browser: Browser;
let base: string;
before(async () => {
  if (skip) return;
  t = await testApp('image-diagnostic-technology', { now: T0 });
  await t.users.create({ email: 'maria@example.test', role: 'dpo', password: GOOD_PASSWORD }, 'system:cli');
  base = await t.app.listen({ port: 0, host: '127.0.0.1' });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});
after(async () => {
  await browser?.close();
  await t?.close();
});

describe('console in a browser', { skip }, () => {
  test('signs in through the form, sees the dashboard, signs out', async () => {
    const page = await browser.newPage();
    const blocked: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) blocked.push(m.text());
    });
    await page.goto(`${base}/console`);
    assert.equal(new URL(page.url()).pathname, '/console/sign-in', 'sent to sign in');
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Sign in');

    await page.getByLabel('Email address').fill('maria@example.test');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match((await page.getByRole('alert').textContent()) ?? '', /not right/);

    await page.getByLabel('Password').fill(GOOD_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/console`);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Console');
    const main = page.getByRole('main');
    assert.ok(await main.getByRole('link', { name: /Find a person/ }).isVisible());
    assert.ok(await main.getByRole('link', { name: /Audit log/ }).isVisible());
    assert.ok(await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Dashboard' }).isVisible());
    assert.match((await page.locator('header').textContent()) ?? '', /Custodian — Image Diagnostic Technology Ltd[\s\S]*maria@example\.test/);
    const cookie = (await page.context().cookies()).find((c) => c.name === 'custodian_staff');
    assert.equal(cookie?.httpOnly, true);
    assert.equal(cookie?.sameSite, 'Lax');

    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/console-sign-in.png', fullPage: true });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/console/sign-in`);
    await page.goto(`${base}/console`);
    assert.equal(new URL(page.url()).pathname, '/console/sign-in', 'signed out');
    assert.deepEqual(blocked, [], 'nothing on the pages breaks the CSP');
  });
});
