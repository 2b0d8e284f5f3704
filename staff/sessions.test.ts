import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { SESSION_COOKIE } from './sessions.ts';
import { Browser, GOOD_PASSWORD, MINUTE, T0 } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';

let t: TestApp;
before(async () => {
  t = await testApp('image-diagnostic-technology', { now: T0 });
});
after(async () => t.close());

async function signedIn(email: string, role: 'owner' | 'staff' = 'staff'): Promise<Browser> {
  await t.users.create({ email, role, password: GOOD_PASSWORD }, 'system:cli');
  const b = new Browser(t.app);
  assert.equal((await b.signIn(email, GOOD_PASSWORD)).statusCode, 303);
  return b;
}

const dashboard = (b: Browser) => b.request({ url: '/console', html: false });

describe('sessions', () => {
  test('a session idle for 30 minutes has ended; activity keeps it alive until then', async () => {
    const b = await signedIn('idle@example.test');
    t.clock.advance(29 * MINUTE);
    assert.equal((await dashboard(b)).statusCode, 200, 'used after 29 minutes');
    t.clock.advance(29 * MINUTE);
    assert.equal((await dashboard(b)).statusCode, 200, 'the idle timer restarted');
    t.clock.advance(30 * MINUTE);
    const res = await dashboard(b);
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error.code, 'unauthenticated');
  });

  test('a session ends 12 hours after sign-in however active it is', async () => {
    const b = await signedIn('long@example.test');
    for (let minutes = 25; minutes < 12 * 60; minutes += 25) {
      t.clock.advance(25 * MINUTE);
      assert.equal((await dashboard(b)).statusCode, 200, `still open after ${minutes} minutes`);
    }
    t.clock.advance(19 * MINUTE); // 11 h 59 min after sign-in
    assert.equal((await dashboard(b)).statusCode, 200, 'open a minute before 12 hours');
    t.clock.advance(1 * MINUTE);
    assert.equal((await dashboard(b)).statusCode, 401, 'closed at 12 hours');
  });

  test('sign-out deletes the session row: the old cookie no longer works', async () => {
    const b = await signedIn('out@example.test');
    const token = b.cookies.get(SESSION_COOKIE) ?? '';
    const before = await sql<{ n: string }>`SELECT count(*) AS n FROM staff_session`.execute(t.db.kysely);
    const res = await b.request({ method: 'POST', url: '/console/sign-out', form: { _csrf: await b.csrf() } });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/console/sign-in');
    assert.equal(b.cookies.has(SESSION_COOKIE), false, 'the cookie is cleared');
    const afterwards = await sql<{ n: string }>`SELECT count(*) AS n FROM staff_session`.execute(t.db.kysely);
    assert.equal(Number(afterwards.rows[0]?.n), Number(before.rows[0]?.n) - 1);
    const replay = new Browser(t.app);
    replay.cookies.set(SESSION_COOKIE, token);
    assert.equal((await dashboard(replay)).statusCode, 401);
    assert.ok((await t.audits()).some((e) => e.action === 'auth.sign-out'));
  });

  test('the database holds only a SHA-256 of the session token', async () => {
    const b = await signedIn('hash@example.test');
    const token = b.cookies.get(SESSION_COOKIE) ?? '';
    const { rows } = await sql<{ id_hash: Uint8Array; ip_truncated: string; user_agent_family: string }>`
      SELECT s.id_hash, s.ip_truncated, s.user_agent_family FROM staff_session s JOIN staff_user u ON u.id = s.user_id
      WHERE u.email = 'hash@example.test'`.execute(t.db.kysely);
    assert.equal(rows.length, 1);
    const row = rows[0];
    assert.ok(row);
    const { createHash } = await import('node:crypto');
    assert.deepEqual(Buffer.from(row.id_hash), createHash('sha256').update(token).digest());
    assert.equal(row.ip_truncated, '203.0.113.0/24');
    assert.equal(row.user_agent_family, 'Firefox');
  });

  test('disabling an account ends its sessions at once', async () => {
    const b = await signedIn('gone@example.test');
    await t.users.disable('gone@example.test', 'system:cli');
    assert.equal((await dashboard(b)).statusCode, 401);
    assert.equal((await new Browser(t.app).signIn('gone@example.test', GOOD_PASSWORD)).statusCode, 401);
  });

  test('a role change applies to open sessions at their next request', async () => {
    await t.users.create({ email: 'boss@example.test', role: 'owner', password: GOOD_PASSWORD }, 'system:cli');
    const b = await signedIn('promoted@example.test');
    assert.doesNotMatch((await b.request({ url: '/console' })).body, /\(owner\)/);
    await t.users.changeRole('promoted@example.test', 'owner', 'system:cli');
    assert.match((await b.request({ url: '/console' })).body, /\(owner\)/);
  });
});
