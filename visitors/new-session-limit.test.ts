// A script posting refused forms without a cookie cannot fill the session table: each network opens a limited
// number of new sessions per window; other networks, and people who already have a session, are not affected.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { NEW_SESSIONS_PER_NETWORK } from '../web/forms-routes.ts';
import { NewSessionLimit } from './new-session-limit.ts';

test('each network gets its own allowance per window, counted at fixed times', () => {
  const limit = new NewSessionLimit({ max: 2, windowMs: 60_000 });
  const at = (s: number) => new Date(Date.UTC(2026, 10, 22, 9, 0, s));
  assert.deepEqual([limit.allow('203.0.113.7', at(0)), limit.allow('203.0.113.99', at(1)), limit.allow('203.0.113.8', at(2))], [true, true, false], 'one /24');
  assert.equal(limit.allow('198.51.100.1', at(3)), true, 'another network');
  assert.equal(limit.allow('2001:db8:1:ffff::1', at(4)), true);
  assert.equal(limit.allow('2001:db8:1:eeee::2', at(5)), true);
  assert.equal(limit.allow('2001:db8:1:dddd::3', at(6)), false, 'one /48');
  assert.equal(limit.allow('203.0.113.7', at(60)), true, 'a new window');
});

test('it remembers a bounded number of networks', () => {
  const limit = new NewSessionLimit({ max: 1, windowMs: 60_000, networks: 2 });
  const now = new Date('2026-11-22T09:00:00Z');
  assert.equal(limit.allow('192.0.2.1', now), true);
  assert.equal(limit.allow('198.51.100.1', now), true);
  assert.equal(limit.allow('203.0.113.1', now), true); // drops the oldest window
  assert.equal(limit.allow('192.0.2.2', now), true, 'forgotten, so allowed again');
  assert.equal(limit.allow('203.0.113.2', now), false);
});

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => t?.close());

const sessions = async () => Number((await sql<{ n: string }>`SELECT count(*) AS n FROM visitor_session`.execute(t.db.kysely)).rows[0]!.n);
const refusedPost = (remoteAddress: string, cookie?: string) =>
  t.app.inject({
    method: 'POST',
    url: '/forms/scan-request',
    remoteAddress,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
    payload: 'patient.name=Alan',
  });

test('refused forms posted without a cookie open at most the allowance of sessions per network', async () => {
  const before = await sessions();
  for (let i = 0; i < NEW_SESSIONS_PER_NETWORK + 10; i++) {
    const res = await refusedPost(`203.0.113.${i}`);
    assert.equal(res.statusCode, 400, 'the form is still shown again with its errors');
  }
  assert.equal((await sessions()) - before, NEW_SESSIONS_PER_NETWORK);
  const elsewhere = await refusedPost('198.51.100.20');
  assert.match(String(elsewhere.headers['set-cookie']), /=/, 'another network still gets a session');
  assert.equal((await sessions()) - before, NEW_SESSIONS_PER_NETWORK + 1);
});

test("a person who already has a session keeps their draft whatever the network's count", async () => {
  const first = await refusedPost('192.0.2.10');
  const cookie = String(first.headers['set-cookie']).split(';')[0]!;
  for (let i = 0; i < NEW_SESSIONS_PER_NETWORK; i++) await refusedPost(`192.0.2.${20 + i}`);
  const again = await refusedPost('192.0.2.10', cookie);
  assert.equal(again.statusCode, 400);
  const page = await t.app.inject({ url: '/forms/scan-request', headers: { cookie } });
  assert.match(page.body, /value="Alan"/);
});

test('a form accepted from someone without a session opens none', async () => {
  const before = await sessions();
  const res = await t.app.inject({
    method: 'POST',
    url: '/forms/scan-request',
    remoteAddress: '192.0.2.200',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      'patient.name': 'Ada',
      'patient.dob': '1985-12-10',
      'patient.phone': '020 7946 0999',
      'scan.type': 'Medical CT',
      'scan.area': 'Sinus',
    }).toString(),
  });
  assert.equal(res.statusCode, 303, res.body);
  assert.equal(res.headers['set-cookie'], undefined);
  assert.equal(await sessions(), before);
});
