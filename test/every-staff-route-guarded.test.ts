// The whole app, as `custodian serve` builds it: every route under /console and /api/v1/staff (from the staff
// plugin's registry, which sees each route as it is added) refuses a missing session and every role it does not
// admit. A new staff route is covered the moment it exists.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ROLES, type Role } from '../staff/roles.ts';
import { listStaffRoutes } from '../staff/staff-plugin.ts';
import { Browser } from './helpers/staff-client.ts';
import { testApp, type TestApp } from './helpers/test-app.ts';

const PUBLIC = new Set(['GET /console/sign-in', 'HEAD /console/sign-in', 'POST /console/sign-in']);
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const concrete = (url: string) => url.replace(/:[A-Za-z0-9_]+/g, '00000000-0000-4000-8000-000000000000');

let t: TestApp;
const browsers = new Map<Role, Browser>();
before(async () => {
  t = await testApp();
  for (const role of ROLES) browsers.set(role, await t.signedIn(role));
});
after(async () => t?.close());

test('the registry holds the console and staff API routes of the real app', () => {
  const found = listStaffRoutes(t.app).map((r) => `${r.method} ${r.url}`);
  for (const known of [
    'GET /console/people',
    'GET /console/people/:id',
    'POST /console/people/:id/reveal',
    'POST /console/people/:id/merge',
    'GET /console/audit',
    'GET /console/audit/verify',
    'POST /api/v1/staff/collect/:point',
  ]) {
    assert.ok(found.includes(known), `${known} registered`);
  }
  for (const r of listStaffRoutes(t.app)) {
    if (r.access.kind === 'public') assert.ok(PUBLIC.has(`${r.method} ${r.url}`), `${r.method} ${r.url} is public`);
  }
});

test('every staff route refuses a request without a session', async () => {
  for (const r of listStaffRoutes(t.app)) {
    if (r.access.kind !== 'staff') continue;
    const res = await new Browser(t.app).request({
      method: r.method as 'GET',
      url: concrete(r.url),
      html: false,
      ...(WRITES.has(r.method) ? { json: {} } : {}),
    });
    assert.equal(res.statusCode, 401, `${r.method} ${r.url}`);
  }
});

test('every staff route refuses each signed-in role it does not admit', async () => {
  let refusals = 0;
  for (const r of listStaffRoutes(t.app)) {
    if (r.access.kind !== 'staff') continue;
    const writes = WRITES.has(r.method);
    for (const role of ROLES) {
      const admitted = r.access.roles.includes(role) && !(role === 'auditor' && writes && !r.access.auditorMayWrite);
      if (admitted) continue;
      const b: Browser = browsers.get(role)!;
      const headers: Record<string, string> = writes ? { 'x-csrf-token': await b.csrf() } : {};
      const res: { statusCode: number } = await b.request({
        method: r.method as 'GET',
        url: concrete(r.url),
        headers,
        html: false,
        ...(writes ? { json: {} } : {}),
      });
      assert.equal(res.statusCode, 403, `${role} must not ${r.method} ${r.url}`);
      refusals++;
    }
  }
  assert.ok(refusals >= 8, `refusals checked: ${refusals}`);
});
