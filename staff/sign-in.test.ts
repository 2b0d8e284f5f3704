import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SESSION_COOKIE } from './sessions.ts';
import { Browser, GOOD_PASSWORD, hiddenFields, MINUTE, T0 } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';

let t: TestApp;
before(async () => {
  t = await testApp('image-diagnostic-technology', { now: T0 });
});
after(async () => t.close());

async function user(email: string, role: 'owner' | 'dpo' | 'staff' | 'auditor' = 'staff'): Promise<void> {
  await t.users.create({ email, role, password: GOOD_PASSWORD }, 'system:cli');
}

describe('sign-in', () => {
  test('a right password signs in: 303 to the console, an HttpOnly SameSite=Lax session cookie, not Secure over http', async () => {
    await user('ana@example.test');
    const b = new Browser(t.app);
    const res = await b.signIn('Ana@Example.test ', GOOD_PASSWORD);
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/console');
    const cookie = res.cookies.find((c) => c.name === SESSION_COOKIE);
    assert.ok(cookie, 'session cookie set');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.equal(cookie.path, '/');
    assert.notEqual(cookie.secure, true);
    assert.match(cookie.value, /^[A-Za-z0-9_-]{43}$/);
    const dash = await b.request({ url: '/console' });
    assert.equal(dash.statusCode, 200);
    assert.match(dash.body, /Signed in as <strong>ana@example.test<\/strong>/);
    const events = await t.audits();
    assert.ok(events.some((e) => e.action === 'auth.sign-in'));
  });

  test('behind https the cookies are Secure', async () => {
    const s = await testApp('image-diagnostic-technology', { now: T0, https: true });
    try {
      await s.users.create({ email: 'sec@example.test', role: 'staff', password: GOOD_PASSWORD }, 'system:cli');
      const b = new Browser(s.app);
      const form = await b.request({ url: '/console/sign-in' });
      const presign = form.cookies.find((c) => c.name === '__Host-custodian_presign');
      assert.equal(presign?.secure, true, 'the pre-session cookie cannot be planted from a subdomain');
      assert.equal(presign?.path, '/');
      const res = await b.signIn('sec@example.test', GOOD_PASSWORD);
      assert.equal(res.statusCode, 303);
      assert.equal(res.cookies.find((c) => c.name === SESSION_COOKIE)?.secure, true);
    } finally {
      await s.close();
    }
  });

  test('a wrong password and an unknown email get exactly the same answer', async () => {
    await user('ben@example.test');
    const b = new Browser(t.app, '198.51.1.20');
    const page = await b.request({ url: '/console/sign-in' });
    const hidden = hiddenFields(page.body);
    const post = (email: string, html: boolean) =>
      b.request({ method: 'POST', url: '/console/sign-in', form: { ...hidden, email, password: 'wrong password here' }, html });
    const wrongHtml = await post('ben@example.test', true);
    const unknownHtml = await post('nobody@example.test', true);
    assert.equal(wrongHtml.statusCode, 401);
    assert.equal(unknownHtml.statusCode, wrongHtml.statusCode);
    assert.equal(unknownHtml.body.replace('nobody@example.test', 'EMAIL'), wrongHtml.body.replace('ben@example.test', 'EMAIL'));
    assert.match(wrongHtml.body, /role="alert"/);
    const wrongJson = await post('ben@example.test', false);
    const unknownJson = await post('nobody@example.test', false);
    assert.deepEqual(unknownJson.json(), wrongJson.json());
    assert.equal(wrongJson.json().error.code, 'unauthenticated');
    assert.equal(b.cookies.has(SESSION_COOKIE), false);
  });

  test('five wrong passwords from one network throttle that account there for 15 minutes (429), never its owner elsewhere', async () => {
    await user('cai@example.test');
    const attacker = new Browser(t.app, '198.51.2.30');
    for (let i = 0; i < 5; i++) assert.equal((await attacker.signIn('cai@example.test', `not the password ${i}`)).statusCode, 401);
    const throttled = await attacker.signIn('cai@example.test', GOOD_PASSWORD);
    assert.equal(throttled.statusCode, 429, 'the right password does not pass on a throttled network');
    assert.match(throttled.body, /role="alert"[\s\S]*Too many failed sign-ins/);
    assert.equal((await new Browser(t.app, '198.51.2.99').signIn('cai@example.test', GOOD_PASSWORD)).statusCode, 429, 'the whole /24');
    assert.equal((await new Browser(t.app, '192.0.2.30').signIn('cai@example.test', GOOD_PASSWORD)).statusCode, 303, 'the owner, from elsewhere, signs in');
    const locked = (await t.audits()).filter((e) => e.action === 'auth.locked');
    assert.equal(locked.length, 1);
    assert.equal(locked[0]!.detail.ip, '198.51.2.0/24');
    t.clock.advance(14 * MINUTE);
    assert.equal((await attacker.signIn('cai@example.test', GOOD_PASSWORD)).statusCode, 429);
    t.clock.advance(1 * MINUTE);
    assert.equal((await attacker.signIn('cai@example.test', GOOD_PASSWORD)).statusCode, 303);
  });

  test('failures spread over many networks keep nobody out: a chosen account cannot be locked from afar', async () => {
    await user('dee@example.test');
    for (let i = 0; i < 40; i++) assert.equal((await new Browser(t.app, `10.${i}.0.1`).signIn('dee@example.test', `guess number ${i}`)).statusCode, 401);
    assert.equal((await new Browser(t.app, '10.99.0.1').signIn('dee@example.test', GOOD_PASSWORD)).statusCode, 303);
    // An email with no account is throttled the same way on a network (the throttle does not reveal which accounts exist).
    const b = new Browser(t.app, '10.98.0.1');
    for (let i = 0; i < 5; i++) assert.equal((await b.signIn('nobody-here@example.test', 'a wrong password')).statusCode, 401);
    await b.request({ url: '/console/sign-in' });
    const limited = await b.request({
      method: 'POST',
      url: '/console/sign-in',
      html: false,
      form: { _csrf: b.cookies.get('custodian_presign') ?? '', email: 'nobody-here@example.test', password: 'a wrong password' },
    });
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().error.code, 'rate_limited');
    t.clock.advance(15 * MINUTE);
  });

  test('ten failed sign-ins from one /24 network give 429 for anyone there, but not elsewhere', async () => {
    await user('eli@example.test');
    for (let i = 0; i < 10; i++) await new Browser(t.app, `203.0.113.${100 + i}`).signIn(`guess${i}@example.test`, 'a wrong password');
    assert.equal((await new Browser(t.app, '203.0.113.200').signIn('eli@example.test', GOOD_PASSWORD)).statusCode, 429);
    assert.equal((await new Browser(t.app, '203.0.114.1').signIn('eli@example.test', GOOD_PASSWORD)).statusCode, 303);
    t.clock.advance(15 * MINUTE);
  });

  test("a client's own X-Forwarded-For chooses nothing: without a trusted proxy the socket address counts", async () => {
    await user('gil@example.test');
    for (let i = 0; i < 5; i++) {
      await new Browser(t.app, '203.0.120.7').signIn('gil@example.test', `wrong ${i}`, undefined, { 'x-forwarded-for': `100.64.${i}.1` });
    }
    const forged = await new Browser(t.app, '203.0.120.7').signIn('gil@example.test', GOOD_PASSWORD, undefined, { 'x-forwarded-for': '100.64.200.1' });
    assert.equal(forged.statusCode, 429, "a forged header does not escape the network's throttle");
    const sessions = await t.db.kysely.selectFrom('staff_session').select('ip_truncated').execute();
    assert.ok(
      sessions.every((r) => !String(r.ip_truncated).startsWith('100.64.')),
      'nor does it reach the session record',
    );
    t.clock.advance(15 * MINUTE);
  });

  test('behind a trusted proxy the client is the address the proxy saw', async () => {
    const s = await testApp('image-diagnostic-technology', { now: T0, trustProxy: ['198.18.0.0/15'] });
    try {
      await s.users.create({ email: 'hal@example.test', role: 'staff', password: GOOD_PASSWORD }, 'system:cli');
      const viaProxy = () => new Browser(s.app, '198.18.0.10');
      for (let i = 0; i < 5; i++) await viaProxy().signIn('hal@example.test', `wrong ${i}`, undefined, { 'x-forwarded-for': '100.64.1.1' });
      assert.equal((await viaProxy().signIn('hal@example.test', GOOD_PASSWORD, undefined, { 'x-forwarded-for': '100.64.1.1' })).statusCode, 429);
      assert.equal((await viaProxy().signIn('hal@example.test', GOOD_PASSWORD, undefined, { 'x-forwarded-for': '100.65.1.1' })).statusCode, 303);
      const locked = (await s.audits()).find((e) => e.action === 'auth.locked');
      assert.equal(locked?.detail.ip, '100.64.1.0/24');
    } finally {
      await s.close();
    }
  });

  test('an owner lifts a throttle at once', async () => {
    await user('jo@example.test');
    const b = new Browser(t.app, '198.51.7.7');
    for (let i = 0; i < 5; i++) await b.signIn('jo@example.test', `wrong ${i}`);
    assert.equal((await b.signIn('jo@example.test', GOOD_PASSWORD)).statusCode, 429);
    assert.equal(await t.users.unlock('jo@example.test', 'system:cli'), 5);
    assert.equal((await b.signIn('jo@example.test', GOOD_PASSWORD)).statusCode, 303);
    assert.ok((await t.audits()).some((e) => e.action === 'staff.unlock' && e.actor === 'system:cli'));
  });

  test('signing in replaces any session the browser already had (no fixation)', async () => {
    await user('fay@example.test');
    const b = new Browser(t.app, '198.51.3.40');
    await b.signIn('fay@example.test', GOOD_PASSWORD);
    const first = b.cookies.get(SESSION_COOKIE);
    await b.request({ method: 'POST', url: '/console/sign-out', form: { _csrf: await b.csrf() } });
    const attacker = new Browser(t.app, '198.51.3.41');
    await attacker.signIn('fay@example.test', GOOD_PASSWORD);
    const planted = attacker.cookies.get(SESSION_COOKIE) ?? '';
    const victim = new Browser(t.app, '198.51.3.42');
    const form = hiddenFields((await victim.request({ url: '/console/sign-in' })).body);
    victim.cookies.set(SESSION_COOKIE, planted);
    const res = await victim.request({ method: 'POST', url: '/console/sign-in', form: { ...form, email: 'fay@example.test', password: GOOD_PASSWORD } });
    assert.equal(res.statusCode, 303);
    const issued = victim.cookies.get(SESSION_COOKIE);
    assert.notEqual(issued, planted);
    assert.notEqual(issued, first);
    assert.equal((await attacker.request({ url: '/console' })).statusCode, 303, 'the planted session ended');
  });

  test('the sign-in form refuses a post without its pre-session token (403 csrf_invalid)', async () => {
    await user('gus@example.test');
    const b = new Browser(t.app, '198.51.4.50');
    await b.request({ url: '/console/sign-in' });
    const missing = await b.request({ method: 'POST', url: '/console/sign-in', html: false, form: { email: 'gus@example.test', password: GOOD_PASSWORD } });
    assert.equal(missing.statusCode, 403);
    assert.equal(missing.json().error.code, 'csrf_invalid');
    const wrong = await b.request({
      method: 'POST',
      url: '/console/sign-in',
      form: { _csrf: 'A'.repeat(43), email: 'gus@example.test', password: GOOD_PASSWORD },
    });
    assert.equal(wrong.statusCode, 403);
    const noCookie = new Browser(t.app, '198.51.4.51');
    const forged = await noCookie.request({
      method: 'POST',
      url: '/console/sign-in',
      form: { _csrf: 'A'.repeat(43), email: 'gus@example.test', password: GOOD_PASSWORD },
    });
    assert.equal(forged.statusCode, 403);
    assert.equal((await b.signIn('gus@example.test', GOOD_PASSWORD)).statusCode, 303);
  });

  test('next= is followed only within the console; other targets fall back to /console', async () => {
    await user('hal@example.test');
    const cases: [string, string][] = [
      ['/console/people?q=a%20b', '/console/people?q=a%20b'],
      ['https://evil.example/console', '/console'],
      ['//evil.example/console', '/console'],
      ['/\\evil.example', '/console'],
      ['/%2F%2Fevil.example', '/console'],
      ['javascript:alert(1)', '/console'],
      ['/privacy', '/console'],
    ];
    for (const [next, expected] of cases) {
      const b = new Browser(t.app, '198.51.5.60');
      const res = await b.signIn('hal@example.test', GOOD_PASSWORD, next);
      assert.equal(res.statusCode, 303, next);
      assert.equal(res.headers.location, expected, next);
    }
  });

  test('an unauthenticated browser is sent to sign-in with next=, and comes back there after signing in', async () => {
    await user('ida@example.test');
    const b = new Browser(t.app, '198.51.6.70');
    const res = await b.request({ url: '/console/password' });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/console/sign-in?next=%2Fconsole%2Fpassword');
    const page = await b.request({ url: res.headers.location });
    const signed = await b.request({
      method: 'POST',
      url: '/console/sign-in',
      form: { ...hiddenFields(page.body), email: 'ida@example.test', password: GOOD_PASSWORD },
    });
    assert.equal(signed.headers.location, '/console/password');
    const api = await new Browser(t.app).request({ url: '/console', html: false });
    assert.equal(api.statusCode, 401);
    assert.equal(api.json().error.code, 'unauthenticated');
  });
});
