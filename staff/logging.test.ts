import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { PRESIGN_COOKIE } from './csrf.ts';
import { SESSION_COOKIE } from './sessions.ts';
import { Browser, GOOD_PASSWORD, T0 } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';

let logged = '';
const stream = new Writable({
  write(chunk, _encoding, done) {
    logged += String(chunk);
    done();
  },
});

let t: TestApp;
before(async () => {
  t = await testApp('image-diagnostic-technology', { now: T0, logStream: stream, logLevel: 'trace' });
});
after(async () => t.close());

describe('logs', () => {
  test('hold no password, session token, CSRF token or email, even at trace level', async () => {
    const secrets: string[] = [GOOD_PASSWORD, 'wrong horse battery 1', 'brand new phrase 2026'];
    const { oneTimePassword } = await t.users.create({ email: 'quiet.person@example.test', role: 'dpo' }, 'system:cli');
    assert.ok(oneTimePassword);
    secrets.push(oneTimePassword);
    await t.users.create({ email: 'other.person@example.test', role: 'staff', password: GOOD_PASSWORD }, 'system:cli');

    const b = new Browser(t.app);
    await b.signIn('quiet.person@example.test', 'wrong horse battery 1');
    await b.signIn('nobody.known@example.test', 'wrong horse battery 1');
    secrets.push(b.cookies.get(PRESIGN_COOKIE) ?? 'missing');
    await b.signIn('quiet.person@example.test', oneTimePassword);
    secrets.push(b.cookies.get(SESSION_COOKIE) ?? 'missing');
    const csrf = await b.csrf();
    secrets.push(csrf);
    await b.request({
      method: 'POST',
      url: '/console/password',
      form: { _csrf: 'A'.repeat(43), current: oneTimePassword, next: 'brand new phrase 2026', confirm: 'brand new phrase 2026' },
    });
    await b.request({
      method: 'POST',
      url: '/console/password',
      form: { _csrf: csrf, current: oneTimePassword, next: 'brand new phrase 2026', confirm: 'brand new phrase 2026' },
    });
    secrets.push(b.cookies.get(SESSION_COOKIE) ?? 'missing');
    await b.request({ method: 'POST', url: '/console/sign-out', form: { _csrf: await b.csrf() } });

    const other = new Browser(t.app, '198.51.7.1');
    await other.signIn('other.person@example.test', GOOD_PASSWORD);
    secrets.push(other.cookies.get(SESSION_COOKIE) ?? 'missing');
    await other.request({ url: '/console', headers: { 'x-csrf-token': 'not-a-real-token' } });

    assert.ok(logged.length > 1000, 'the logger did write (trace level, request logging on)');
    assert.match(logged, /staff sign-in/);
    for (const secret of secrets) assert.ok(!logged.includes(secret), `a secret reached the log: ${secret.slice(0, 4)}…`);
    // (Fastify's own request log, on here, prints the client address; the app turns it off: http/app.ts.)
    for (const personal of ['quiet.person', 'other.person', 'nobody.known']) {
      assert.ok(!logged.includes(personal), `${personal} reached the log`);
    }
  });
});
