// Every route under /console and /api/v1/staff, as the staff plugin's registry saw it added (so routes added later are
// covered without touching this file), must refuse a request without a session and a signed-in user of a role it
// does not admit: the whole app, as `custodian serve` builds it, plus sample routes a new feature might add.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import { Browser, GOOD_PASSWORD } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { requireStaff } from './require-staff.ts';
import { ROLES, rolesWith, type Role } from './roles.ts';
import { listStaffRoutes } from './staff-plugin.ts';

/** The only staff routes anyone may reach without a session. */
const PUBLIC = new Set(['GET /console/sign-in', 'HEAD /console/sign-in', 'POST /console/sign-in']);
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

async function sampleRoutes(app: FastifyInstance): Promise<void> {
  await app.register(formbody);
  const ok = async () => ({ ok: true });
  app.get('/console/samples/:subjectId', { preValidation: requireStaff(rolesWith('records.read-sealed')) }, ok);
  app.post('/console/samples/:subjectId/notes', { preValidation: requireStaff(rolesWith('records.write')) }, ok);
  app.put('/api/v1/staff/users/:id/role', { preValidation: requireStaff(rolesWith('users.manage')) }, ok);
  app.patch('/api/v1/staff/settings', ok); // forgot its guard: must still be covered
}

let t: TestApp;
const browsers = new Map<Role, Browser>();

before(async () => {
  t = await testApp('image-diagnostic-technology', { routes: sampleRoutes });
  for (const role of ROLES) {
    await t.users.create({ email: `${role}@guard.test`, role, password: GOOD_PASSWORD }, 'system:cli');
    const b = new Browser(t.app);
    assert.equal((await b.signIn(`${role}@guard.test`, GOOD_PASSWORD)).statusCode, 303);
    browsers.set(role, b);
  }
});
after(async () => t.close());

function staffRoutes() {
  return listStaffRoutes(t.app);
}

function concrete(url: string): string {
  return url.replace(/:[A-Za-z0-9_]+/g, '00000000-0000-4000-8000-000000000000').replace(/\*/g, 'x');
}

describe('every staff route is guarded', () => {
  test('the registry lists the console, the staff API and routes added after them', () => {
    const found = staffRoutes()
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    for (const known of [
      'GET /console',
      'POST /console/sign-out',
      'GET /console/password',
      'POST /console/password',
      'GET /console/people',
      'POST /api/v1/staff/collect/:point',
      'PATCH /api/v1/staff/settings',
    ]) {
      assert.ok(found.includes(known), `${known} was collected`);
    }
  });

  test('only the sign-in form is public', () => {
    for (const { method, url, access } of staffRoutes()) {
      assert.ok(access, `${method} ${url} has no guard`);
      if (access.kind === 'public') assert.ok(PUBLIC.has(`${method} ${url}`), `${method} ${url} is public but not on the list`);
    }
  });

  test('without a session: 401 unauthenticated for API clients, 303 to sign-in for browsers', async () => {
    for (const { method, url, access } of staffRoutes()) {
      if (access.kind !== 'staff') continue;
      const anon = new Browser(t.app);
      const api = await anon.request({ method: method as 'GET', url: concrete(url), html: false, ...(WRITES.has(method) ? { json: {} } : {}) });
      assert.equal(api.statusCode, 401, `${method} ${url}`);
      if (method !== 'HEAD') assert.equal(api.json().error.code, 'unauthenticated', `${method} ${url}`);
      const page = await anon.request({ method: method as 'GET', url: concrete(url), ...(WRITES.has(method) ? { form: {} } : {}) });
      assert.equal(page.statusCode, 303, `${method} ${url} (browser)`);
      assert.match(String(page.headers.location), /^\/console\/sign-in/);
    }
  });

  test('writes without the CSRF token are refused, whatever the role', async () => {
    for (const { method, url, access } of staffRoutes()) {
      if (access.kind !== 'staff' || !WRITES.has(method)) continue;
      const res = await browsers.get('owner')?.request({ method: method as 'POST', url: concrete(url), json: {}, html: false });
      assert.equal(res?.statusCode, 403, `${method} ${url}`);
      assert.equal(res?.json().error.code, 'csrf_invalid', `${method} ${url}`);
    }
  });

  test('a signed-in role the route does not admit gets 403 forbidden; admitted roles may read', async () => {
    for (const { method, url, access } of staffRoutes()) {
      if (access.kind !== 'staff') continue;
      const writes = WRITES.has(method);
      for (const role of ROLES) {
        const admitted = access.roles.includes(role) && !(role === 'auditor' && writes && !access.auditorMayWrite);
        const b = browsers.get(role);
        assert.ok(b);
        if (admitted && writes) continue; // acting on it would change state (sign-out, password); covered elsewhere
        const headers: Record<string, string> = writes ? { 'x-csrf-token': await b.csrf() } : {};
        const res = await b.request({ method: method as 'GET', url: concrete(url), headers, html: false, ...(writes ? { json: {} } : {}) });
        if (admitted) assert.ok(res.statusCode !== 401 && res.statusCode !== 403, `${role} may ${method} ${url}, got ${res.statusCode}`);
        else {
          assert.equal(res.statusCode, 403, `${role} must not ${method} ${url}`);
          if (method !== 'HEAD') assert.equal(res.json().error.code, 'forbidden', `${role} ${method} ${url}`);
        }
      }
    }
  });
});
