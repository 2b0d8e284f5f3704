import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import formbody from '@fastify/formbody';
import type { FastifyInstance } from 'fastify';
import { Browser, GOOD_PASSWORD } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { requireStaff } from './require-staff.ts';
import { rolesWith, type Role } from './roles.ts';

// Routes shaped like the ones later features will add, beside the real app's own (GET /console/people, GET
// /console/audit...).
async function sampleRoutes(app: FastifyInstance): Promise<void> {
  await app.register(formbody);
  const ok = async () => ({ ok: true });
  app.post('/console/samples/notes', { preValidation: requireStaff(rolesWith('records.write')) }, ok);
  app.post('/console/audit/export', { preValidation: requireStaff(['auditor', 'dpo']) }, ok);
  app.post('/api/v1/staff/users', { preValidation: requireStaff(['owner']) }, ok);
  app.delete('/api/v1/staff/notes/:id', ok); // no guard written: the plugin adds one
}

let t: TestApp;
const browsers = new Map<Role, Browser>();
before(async () => {
  t = await testApp('image-diagnostic-technology', { routes: sampleRoutes });
  for (const role of ['owner', 'dpo', 'staff', 'auditor'] as const) {
    await t.users.create({ email: `${role}@example.test`, role, password: GOOD_PASSWORD }, 'system:cli');
    const b = new Browser(t.app);
    assert.equal((await b.signIn(`${role}@example.test`, GOOD_PASSWORD)).statusCode, 303);
    browsers.set(role, b);
  }
});
after(async () => t.close());

function as(role: Role): Browser {
  const b = browsers.get(role);
  assert.ok(b);
  return b;
}

describe('CSRF on staff writes', () => {
  test('a missing or wrong token is refused with 403 csrf_invalid; the session token is accepted as a field or a header', async () => {
    const b = as('staff');
    const missing = await b.request({ method: 'POST', url: '/console/samples/notes', form: { name: 'x' }, html: false });
    assert.equal(missing.statusCode, 403);
    assert.equal(missing.json().error.code, 'csrf_invalid');
    const wrong = await b.request({ method: 'POST', url: '/console/samples/notes', form: { _csrf: 'A'.repeat(43) }, html: false });
    assert.equal(wrong.json().error.code, 'csrf_invalid');
    const someoneElses = await b.request({ method: 'POST', url: '/console/samples/notes', form: { _csrf: await as('dpo').csrf() }, html: false });
    assert.equal(someoneElses.statusCode, 403, "another session's token does not fit this session");
    const token = await b.csrf();
    assert.equal((await b.request({ method: 'POST', url: '/console/samples/notes', form: { _csrf: token }, html: false })).statusCode, 200);
    const viaHeader = await b.request({ method: 'POST', url: '/console/samples/notes', json: { name: 'x' }, headers: { 'x-csrf-token': token }, html: false });
    assert.equal(viaHeader.statusCode, 200);
  });

  test('a browser gets the refusal as an accessible page', async () => {
    const res = await as('staff').request({ method: 'POST', url: '/console/people/00000000-0000-4000-8000-000000000000/merge', form: {} });
    assert.equal(res.statusCode, 403);
    assert.match(res.headers['content-type'] as string, /text\/html/);
    assert.match(res.body, /role="alert"/);
    assert.match(res.body, /<h1>Not allowed<\/h1>/);
  });
});

describe('roles', () => {
  test('an auditor can read the console and the audit log but cannot post anything except sign-out and password', async () => {
    const b = as('auditor');
    assert.equal((await b.request({ url: '/console' })).statusCode, 200);
    assert.equal((await b.request({ url: '/console/audit', html: false })).statusCode, 200);
    assert.equal((await b.request({ url: '/console/people', html: false })).statusCode, 403, 'records are not for auditors');
    const csrf = await b.csrf();
    for (const url of ['/console/samples/notes', '/console/audit/export']) {
      const res = await b.request({ method: 'POST', url, form: { _csrf: csrf }, html: false });
      assert.equal(res.statusCode, 403, url);
      assert.equal(res.json().error.code, 'forbidden', url);
    }
    const wrongCurrent = await b.request({
      method: 'POST',
      url: '/console/password',
      form: { _csrf: csrf, current: 'not it at all', next: 'another long phrase 9', confirm: 'another long phrase 9' },
    });
    assert.equal(wrongCurrent.statusCode, 400, 'the password form is open to auditors');
  });

  test('a role below the one a route needs gets 403 forbidden; owner ⊇ dpo ⊇ staff', async () => {
    const staffAudit = await as('staff').request({ url: '/console/audit', html: false });
    assert.equal(staffAudit.statusCode, 403);
    assert.equal(staffAudit.json().error.code, 'forbidden');
    const post = async (role: Role) => {
      const b = as(role);
      return (await b.request({ method: 'POST', url: '/api/v1/staff/users', json: {}, headers: { 'x-csrf-token': await b.csrf() }, html: false })).statusCode;
    };
    assert.equal(await post('dpo'), 403);
    assert.equal(await post('staff'), 403);
    assert.equal(await post('owner'), 200);
    const exportAs = async (role: Role) => {
      const b = as(role);
      return (await b.request({ method: 'POST', url: '/console/audit/export', form: { _csrf: await b.csrf() }, html: false })).statusCode;
    };
    assert.equal(await exportAs('owner'), 200, 'owner ranks above dpo');
    assert.equal(await exportAs('staff'), 403);
  });

  test('a route under /api/v1/staff with no guard of its own still needs a session and a CSRF token', async () => {
    const anon = await new Browser(t.app).request({ method: 'DELETE', url: '/api/v1/staff/notes/1', html: false });
    assert.equal(anon.statusCode, 401);
    const b = as('staff');
    assert.equal((await b.request({ method: 'DELETE', url: '/api/v1/staff/notes/1', html: false })).statusCode, 403);
    assert.equal(
      (await b.request({ method: 'DELETE', url: '/api/v1/staff/notes/1', headers: { 'x-csrf-token': await b.csrf() }, html: false })).statusCode,
      200,
    );
  });

  test('the dashboard links only to what the role may use', async () => {
    const staffPage = (await as('staff').request({ url: '/console' })).body;
    assert.match(staffPage, /Find a person/);
    assert.doesNotMatch(staffPage, /Audit log/);
    const auditorPage = (await as('auditor').request({ url: '/console' })).body;
    assert.match(auditorPage, /Audit log/);
    assert.doesNotMatch(auditorPage, /Find a person/);
  });
});
