// The foundation's HTTP contract: /healthz, /privacy, /privacy.md, /privacy/versions, /openapi.json, and the
// coded error shape for unknown routes and malformed input.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createAppContext } from '../app/app-context.ts';
import { fixedClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import type { Db } from '../db/connect.ts';
import { parseRegister, type Register } from '../register/load-register.ts';
import { recordServedVersion } from '../register/notice-versions-store.ts';
import { allAuditEvents } from '../test/helpers/test-app.ts';
import { openTestDb } from '../test/helpers/test-db.ts';
import { testKeyring } from '../test/helpers/test-keyring.ts';
import { buildApp } from './app.ts';

const fixture = readFileSync(new URL('../test/fixtures/minimal.yaml', import.meta.url), 'utf8');
function load(text: string): Register {
  const r = parseRegister(text);
  if (!r.ok) throw new Error('fixture invalid');
  return r.register;
}

let db: Db;
let app: FastifyInstance;
const clock = fixedClock('2026-11-22T09:00:00Z');
const v1 = load(fixture);
const v2 = load(fixture.replace('keep: P8Y', 'keep: P11Y').replace('version: "1"', 'version: "2"'));

const keyring = testKeyring();
/** What `custodian serve` does at start with a register: one app context, the version recorded as served. */
const serve = (register: Register) => {
  const ctx = createAppContext({ db, register, clock, keyring, log: silentLogger });
  return recordServedVersion(db, ctx.auditor, register, fixture, clock.now()).then((served) => ({ ctx, served }));
};

before(async () => {
  db = await openTestDb();
  await serve(v1);
  clock.set('2026-11-23T09:00:00Z');
  const { ctx } = await serve(v2);
  app = await buildApp(ctx);
});
after(async () => {
  await app.close();
  await db.close();
});

test('/healthz answers with the database engine and the active register', async () => {
  const res = await app.inject('/healthz');
  assert.equal(res.statusCode, 200);
  const body = res.json();
  assert.equal(body.status, 'ok');
  assert.equal(body.database.reachable, true);
  assert.equal(body.register.fingerprint, v2.fingerprint);
});

test('/privacy is the HTML notice generated from the register, with security headers', async () => {
  const res = await app.inject('/privacy');
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /text\/html/);
  assert.match(res.body, /Example Imaging Ltd/);
  assert.match(res.body, /Arrange the scan your dentist requested/);
  assert.match(res.body, /11 years after your scan is completed/);
  assert.equal(res.headers['x-content-type-options'], 'nosniff');
  assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'none'/);
  const de = await app.inject('/privacy?lang=de');
  assert.match(de.body, /11 Jahre nach Abschluss Ihrer Untersuchung/);
});

test('/privacy.md is the same notice in Markdown', async () => {
  const res = await app.inject('/privacy.md');
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-type']), /text\/markdown/);
  assert.match(res.body, /^# /m);
  assert.match(res.body, /Example Imaging Ltd/);
});

test('/privacy/versions lists every served version with the changes from the one before', async () => {
  const res = await app.inject('/privacy/versions');
  assert.equal(res.statusCode, 200);
  const { versions } = res.json() as {
    versions: { fingerprint: string; active: boolean; firstServedAt: string; changesFromPrevious: { text: string }[] | null }[];
  };
  assert.equal(versions.length, 2);
  assert.equal(versions[0]!.fingerprint, v1.fingerprint);
  assert.equal(versions[0]!.changesFromPrevious, null);
  assert.equal(versions[0]!.firstServedAt, '2026-11-22T09:00:00.000Z');
  assert.equal(versions[1]!.active, true);
  assert.ok(
    versions[1]!.changesFromPrevious!.some((c) => /longer/i.test(c.text) && /11 years/.test(c.text)),
    JSON.stringify(versions[1]!.changesFromPrevious),
  );
});

test('/openapi.json documents the routes from their schemas', async () => {
  const res = await app.inject('/openapi.json');
  assert.equal(res.statusCode, 200);
  const doc = res.json() as { openapi: string; paths: Record<string, unknown> };
  assert.match(doc.openapi, /^3\./);
  for (const path of ['/healthz', '/privacy', '/privacy.md', '/privacy/versions']) assert.ok(doc.paths[path], `${path} documented`);
});

test('unknown routes answer 404 with a coded JSON error', async () => {
  const res = await app.inject('/no/such/page');
  assert.equal(res.statusCode, 404);
  assert.equal(res.json().error.code, 'route_not_found');
});

test('malformed input answers 400 with a code and no stack trace', async () => {
  const bad = await app.inject('/privacy?lang=fr');
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.code, 'invalid_query');
  assert.doesNotMatch(bad.body, /at .*\.ts:\d+/);
});

test('a register becoming active is in the audit trail: a new version, and an older one served again', async () => {
  const activations = async () => (await allAuditEvents(db)).filter((e) => e.action === 'register.activate');
  assert.deepEqual(
    (await activations()).map((e) => [e.fingerprint, e.detail.newVersion]),
    [
      [v1.fingerprint, true],
      [v2.fingerprint, true],
    ],
  );
  clock.set('2026-11-24T09:00:00Z');
  assert.deepEqual((await serve(v2)).served, { isNew: false, activated: false }, 'a restart on the same register activates nothing');
  clock.set('2026-11-25T09:00:00Z');
  assert.deepEqual((await serve(v1)).served, { isNew: false, activated: true }, 'going back to an older register does');
  const last = (await activations()).at(-1)!;
  assert.deepEqual([last.fingerprint, last.detail], [v1.fingerprint, { newVersion: false, previous: v2.fingerprint }]);
  assert.equal(last.actor, 'system:serve');
});
