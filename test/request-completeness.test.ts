// Proof of completeness for rights requests. One person's identifiers and values are planted in every table the product
// writes (records through the API and through staff, identifiers, consent, a disclosure, a rights request, mail in the
// outbox, a staff session's audited search, the access log): the access answer holds every record of theirs; after a
// full erasure, a dump of every table of the database holds none of the planted values except what the erasure
// answer lists as kept (with its reason) and the request itself, kept as evidence until the date it names.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { scanRequest } from './helpers/scan-request.ts';
import type { Browser } from './helpers/staff-client.ts';
import { testApp, type TestApp } from './helpers/test-app.ts';
import { staffApi } from './helpers/staff-api.ts';

let t: TestApp;
let dpo: Browser;

before(async () => {
  t = await testApp('image-diagnostic-technology', { now: '2027-02-01T10:00:00Z' });
  dpo = await t.signedIn('dpo');
});
after(async () => t?.close());

const call = (method: 'GET' | 'POST', url: string, json?: unknown) => staffApi(dpo, method, url, json);

/** Every row of every table in the database's schema, as text (all but `except`). */
async function dump(except: readonly string[] = []): Promise<string> {
  const tables = await sql<{
    name: string;
  }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`.execute(t.db.kysely);
  assert.ok(tables.rows.length >= 20, `tables: ${tables.rows.map((r) => r.name).join(', ')}`);
  const parts: string[] = [];
  for (const { name } of tables.rows.filter((r) => !except.includes(r.name))) {
    const rows = await sql<{ row: string }>`SELECT row_to_json(x)::text AS row FROM ${sql.table(name)} x`.execute(t.db.kysely);
    parts.push(`${name}: ${rows.rows.map((r) => r.row).join('\n')}`);
  }
  return parts.join('\n');
}

// What is planted: distinctive values a dump would show if any copy survived.
const NAME = 'Wilhelmina Quarrington';
const EMAIL = 'wilhelmina.quarrington@example.com';
const PHONE_TYPED = '020 7946 0123';
const PHONE_STORED = '+442079460123';
const ENQUIRY = 'Zygomatic arch enquiry about pricing';
const SECOND_ENQUIRY = 'Follow-up letter about the quotation';

test('the access answer holds every planted record; after erasure the dump holds only what the answer says is kept', async () => {
  // An enquiry through the public API (identifiers: email, phone), and a letter staff add to the same person.
  const first = await t.app.inject({
    method: 'POST',
    url: '/api/v1/collect/enquiry-form',
    payload: { name: NAME, email: EMAIL, phone: PHONE_TYPED, message: ENQUIRY, marketing: 'true' },
  });
  assert.equal(first.statusCode, 201, first.body);
  const subjectId = first.json().subjectId as string;
  const letter = await call('POST', '/api/v1/staff/collect/telephone-enquiry', {
    channel: 'phone',
    receivedAt: '2027-01-30',
    subject: subjectId,
    fields: { name: NAME, phone: PHONE_TYPED, email: EMAIL, notes: SECOND_ENQUIRY },
  });
  assert.equal(letter.statusCode, 201, letter.body);
  // Someone else entirely: never in the answer, untouched by the erasure.
  const other = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('other', 1) });
  assert.equal(other.statusCode, 201);
  // A staff search for the person (audited with kinds and counts only), and their rights request by email.
  assert.equal((await dpo.request({ url: `/console/people?q=${encodeURIComponent(EMAIL)}` })).statusCode, 200);
  const access = await call('POST', '/api/v1/staff/requests', {
    type: 'access',
    channel: 'email',
    receivedAt: '2027-01-31',
    email: EMAIL,
    name: NAME,
    verified: { method: 'call-back' },
  });
  const accessId = access.json().id as string;
  assert.equal((await call('POST', `/api/v1/staff/requests/${accessId}/link`, { subject: subjectId })).statusCode, 200);

  const planted = await t.db.kysely.selectFrom('record').select(['id', 'value_text']).where('subject_id', '=', subjectId).execute();
  assert.ok(planted.length >= 7, `records planted: ${planted.length}`);
  const answer = (await call('GET', `/api/v1/staff/requests/${accessId}/answer`)).json() as { records: { id: string; value: string | null }[] };
  assert.deepEqual(answer.records.map((r) => r.id).sort(), planted.map((r) => r.id).sort(), 'every record of the person, and only theirs');
  for (const r of planted) assert.equal(answer.records.find((a) => a.id === r.id)!.value, r.value_text);
  const issued = await call('POST', `/api/v1/staff/requests/${accessId}/answer`);
  assert.equal(issued.statusCode, 200, issued.body);

  // Before the erasure, the values are there (so the dump below can see them when they are).
  const beforeDump = await dump();
  for (const v of [NAME, EMAIL, PHONE_STORED, ENQUIRY, SECOND_ENQUIRY]) assert.ok(beforeDump.includes(v), `${v} planted`);

  const erasure = await call('POST', '/api/v1/staff/requests', {
    type: 'erasure',
    channel: 'email',
    receivedAt: '2027-02-01',
    email: EMAIL,
    verified: { method: 'call-back' },
  });
  const erasureId = erasure.json().id as string;
  assert.equal((await call('POST', `/api/v1/staff/requests/${erasureId}/link`, { subject: subjectId })).statusCode, 200);
  const done = await call('POST', `/api/v1/staff/requests/${erasureId}/erase`, {});
  assert.equal(done.statusCode, 200, done.body);
  const outcome = done.json() as { kept: { recordId: string; reason: string }[]; shredded: string[]; requestKeptUntil: string };
  assert.deepEqual(outcome.kept, [], 'an enquirer has nothing the law keeps');
  assert.deepEqual(outcome.shredded, [subjectId]);
  assert.equal(outcome.requestKeptUntil, '2033-02-01');

  // The requests themselves (who asked, their address) are the evidence the answer names, in their own table and
  // nowhere else; every other table holds none of the planted values.
  const after = await dump(['rights_request']);
  for (const v of [NAME, EMAIL, PHONE_STORED, PHONE_TYPED, ENQUIRY, SECOND_ENQUIRY, '2079460123'])
    assert.ok(!after.includes(v), `${v} survives the erasure outside the request evidence`);
  const requests = await dump().then((all) => all.slice(all.indexOf('rights_request:')));
  assert.ok(requests.includes(EMAIL), 'the request evidence keeps who asked');
  for (const v of [ENQUIRY, SECOND_ENQUIRY, PHONE_STORED]) assert.ok(!requests.split('\n')[0]!.includes(v));
  // The other person is untouched.
  assert.ok(after.includes('Patient 1'));
});
