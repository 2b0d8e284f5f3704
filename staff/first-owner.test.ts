import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SESSION_COOKIE } from './sessions.ts';
import { Browser, T0 } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { ensureFirstOwner } from './users-service.ts';

let t: TestApp;
before(async () => {
  t = await testApp('image-diagnostic-technology', { now: T0 });
});
after(async () => t.close());

describe('first start', () => {
  test('creates one owner with a one-time password, once, who must choose a password before anything else', async () => {
    const first = await ensureFirstOwner(t.ctx);
    assert.ok(first);
    assert.equal(first.email, 'owner@localhost');
    assert.match(first.oneTimePassword, /^[a-z2-9]{5}(-[a-z2-9]{5}){3}$/);
    assert.equal(await ensureFirstOwner(t.ctx), undefined, 'never twice');
    const created = (await t.audits()).filter((e) => e.action === 'staff.create');
    assert.equal(created.length, 1);
    assert.equal(created[0]?.actor, 'system:first-start');

    const b = new Browser(t.app);
    const signIn = await b.signIn('owner@localhost', first.oneTimePassword, '/console/people');
    assert.equal(signIn.statusCode, 303);
    assert.equal(signIn.headers.location, '/console/password', 'straight to the change-password page');
    const dash = await b.request({ url: '/console' });
    assert.equal(dash.statusCode, 303);
    assert.equal(dash.headers.location, '/console/password');
    const api = await b.request({ url: '/console', html: false });
    assert.equal(api.statusCode, 403);
    assert.equal(api.json().error.code, 'password_change_required');
    const page = await b.request({ url: '/console/password' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /one-time password/);
    assert.match(page.body, /<label for="next">New password<\/label>/);

    const csrf = await b.csrf();
    const post = (form: Record<string, string>) => b.request({ method: 'POST', url: '/console/password', form: { _csrf: csrf, ...form } });
    const weak = await post({ current: first.oneTimePassword, next: 'password1234', confirm: 'password1234' });
    assert.equal(weak.statusCode, 400);
    assert.match(weak.body, /role="alert"[\s\S]*common passwords/);
    const mismatch = await post({ current: first.oneTimePassword, next: 'violet orbit canal 7', confirm: 'violet orbit canal 8' });
    assert.match(mismatch.body, /not the same/);
    const wrongCurrent = await post({ current: 'not the one-time one', next: 'violet orbit canal 7', confirm: 'violet orbit canal 7' });
    assert.match(wrongCurrent.body, /current password is not right/);

    const oldToken = b.cookies.get(SESSION_COOKIE);
    const done = await post({ current: first.oneTimePassword, next: 'violet orbit canal 7', confirm: 'violet orbit canal 7' });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/console?password=changed');
    assert.notEqual(b.cookies.get(SESSION_COOKIE), oldToken, 'a new session id after the change');
    const welcome = await b.request({ url: done.headers.location });
    assert.equal(welcome.statusCode, 200);
    assert.match(welcome.body, /Your password was changed/);
    const changes = (await t.audits()).filter((e) => e.action === 'auth.password-change');
    assert.equal(changes.length, 1, 'the password change is audited');
    assert.match(changes[0]!.actor, /^staff:/);

    assert.equal((await new Browser(t.app, '198.51.9.1').signIn('owner@localhost', first.oneTimePassword)).statusCode, 401, 'the one-time password is spent');
    assert.equal((await new Browser(t.app, '198.51.9.2').signIn('owner@localhost', 'violet orbit canal 7')).headers.location, '/console');
  });

  test('the owner email can be chosen (CUSTODIAN_OWNER_EMAIL); one that is not an address is refused', async () => {
    const s = await testApp('image-diagnostic-technology', { now: T0 });
    try {
      const first = await ensureFirstOwner(s.ctx, ' DPO@Clinic.example ');
      assert.equal(first?.email, 'dpo@clinic.example');
      assert.equal((await s.users.list())[0]?.role, 'owner');
      await assert.rejects(ensureFirstOwner(s.ctx, 'not an email'), /not an email/);
    } finally {
      await s.close();
    }
  });
});
