// The service's least-privilege role, tried as an attacker holding its credentials would try it on a real PostgreSQL
// server: it runs the application, and it can neither delete, edit nor truncate the audit trail, disable its
// triggers, drop it, nor grant itself more. (PostgreSQL only: the embedded database has no roles.)
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { scanRequest } from '../test/helpers/scan-request.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { connect, type Db } from './connect.ts';
import { migrate } from './migrate.ts';
import { grantToService, rolesSql } from './roles.ts';

const url = process.env.DATABASE_URL;
const skip = url ? false : 'PostgreSQL only (set DATABASE_URL): the embedded database has no roles';
const tag = randomBytes(4).toString('hex');
const [owner, service, schema] = [`own_${tag}`, `svc_${tag}`, `s_${tag}`];
const password = randomBytes(12).toString('hex');
const as = (role: string) => {
  const u = new URL(url!);
  u.username = role;
  u.password = password;
  return u.toString();
};

let admin: Db;
let ownerDb: Db;
let serviceDb: Db;
let t: TestApp;

before(async () => {
  if (!url) return;
  admin = await connect({ url });
  const database = new URL(url).pathname.slice(1) || 'postgres';
  // The documented SQL, as an administrator runs it (with passwords, whatever the server's authentication).
  const script = rolesSql({ owner, service, database, schema, jobsSchema: `${schema}_pgboss` }).replace(/LOGIN;/g, `LOGIN PASSWORD '${password}';`);
  await admin.script(async (run) => {
    await run(script);
  });
  ownerDb = await connect({ url: as(owner), schema });
  await migrate(ownerDb);
  await grantToService(ownerDb, service);
  serviceDb = await connect({ url: as(service), schema });
  t = await testApp('image-diagnostic-technology', { db: serviceDb });
});
after(async () => {
  if (!url) return;
  await t?.app.close();
  await serviceDb?.close();
  await ownerDb?.close();
  await admin.script(async (run) => {
    await run(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${schema}_pgboss CASCADE`);
    await run(`DROP OWNED BY ${owner}, ${service} CASCADE; DROP ROLE ${owner}; DROP ROLE ${service}`);
  });
  await admin.close();
});

test('the service role runs the application: collection, audit and starting up (nothing to migrate, no DDL)', { skip }, async () => {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('roles', 1) });
  assert.equal(res.statusCode, 201, res.body);
  assert.deepEqual(await migrate(serviceDb), [], 'an up-to-date database needs no right to migrate');
  assert.equal((await t.ctx.auditor.verify(serviceDb)).ok, true);
});

test('as the service role the audit trail can only be read and added to', { skip }, async () => {
  const attempts = [
    'DELETE FROM audit_event',
    "UPDATE audit_event SET actor = 'someone-else'",
    'TRUNCATE audit_event',
    'TRUNCATE audit_head',
    'DELETE FROM audit_head',
    'DELETE FROM audit_checkpoint',
    "UPDATE consent_event SET state = 'withdrawn'",
    "UPDATE retention_override SET reason = 'another'",
    'DELETE FROM retention_override',
    'ALTER TABLE audit_event DISABLE TRIGGER USER',
    'ALTER TABLE audit_head DISABLE TRIGGER ALL',
    'DROP TABLE audit_event',
    'CREATE TABLE audit_event_copy AS SELECT * FROM audit_event',
    'SET session_replication_role = replica',
    `ALTER TABLE audit_event OWNER TO ${service}`,
  ];
  for (const text of attempts) {
    await assert.rejects(sql.raw(text).execute(serviceDb.kysely), (e: unknown) => ['42501', '0A000'].includes((e as { code?: string }).code ?? ''), text);
  }
  // Granting itself more does nothing (PostgreSQL only warns), and the refusals stand.
  await sql
    .raw(`GRANT ALL ON audit_event TO ${service}`)
    .execute(serviceDb.kysely)
    .catch(() => {});
  await assert.rejects(sql`DELETE FROM audit_event`.execute(serviceDb.kysely), (e: unknown) => (e as { code?: string }).code === '42501');
  // Heads may move forward only: the trigger refuses moving one back, whoever asks.
  await assert.rejects(sql`UPDATE audit_head SET seq = seq - 1`.execute(serviceDb.kysely), /can only move forward/);
  assert.equal((await t.ctx.auditor.verify(serviceDb)).ok, true, 'and the trail is as it was');
});
