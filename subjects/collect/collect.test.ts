// What a clinic's website relies on when it posts a form to Custodian, on the scan-referral example register.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { verifyAuditChain } from '../../audit/verify/verify-audit-chain.ts';
import { openValue } from '../../crypto/seal.ts';
import { testApp, type TestApp } from '../../test/helpers/test-app.ts';
import { mergeSubjects } from '../merge-subjects.ts';

/** How many subjects and records are stored. */
async function countRows(): Promise<{ subjects: number; records: number }> {
  const r = await sql<{
    subjects: string;
    records: string;
  }>`SELECT (SELECT count(*) FROM subject) AS subjects, (SELECT count(*) FROM record) AS records`.execute(t.db.kysely);
  return { subjects: Number(r.rows[0]!.subjects), records: Number(r.rows[0]!.records) };
}

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => t?.close());

const scanRequest = {
  'patient.name': 'Jane Doe',
  'patient.dob': '1980-02-03',
  'patient.phone': '020 7946 0018',
  'patient.email': 'Jane.Doe@Example.com',
  'scan.type': 'Medical CT',
  'scan.area': 'Lower left molar, suspected cyst',
};

async function post(point: string, body: unknown, form = false) {
  return t.app.inject({
    method: 'POST',
    url: `/api/v1/collect/${point}`,
    ...(form
      ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(body as Record<string, string>).toString() }
      : { payload: body as object }),
  });
}

async function auditCount(): Promise<number> {
  const r = await sql<{ n: string }>`SELECT count(*) AS n FROM audit_event`.execute(t.db.kysely);
  return Number(r.rows[0]!.n);
}

test('a scan request is stored as one record per value, tagged from the register, health data sealed', async () => {
  const res = await post('scan-request', scanRequest);
  assert.equal(res.statusCode, 201, res.body);
  const { subjectId, recordIds } = res.json() as { subjectId: string; recordIds: string[] };
  assert.equal(recordIds.length, 6);

  const records = await t.db.kysely.selectFrom('record').selectAll().where('subject_id', '=', subjectId).execute();
  const byField = new Map(records.map((r) => [r.field, r]));
  const name = byField.get('patient.name')!;
  assert.equal(name.category, 'patient-contact');
  assert.deepEqual(name.purposes, ['provide-scan', 'healthcare-records']);
  assert.deepEqual(name.bases, ['contract', 'legal-obligation']);
  assert.equal(name.source, 'clinician');
  assert.equal(name.channel, 'web');
  assert.equal(name.value_text, 'Jane Doe');
  assert.equal(new Date(name.collected_at).toISOString(), '2026-11-22T09:00:00.000Z');
  assert.equal(byField.get('patient.email')!.value_text, 'jane.doe@example.com', 'emails normalised');
  assert.equal(byField.get('patient.phone')!.value_text, '+442079460018', 'phones in E.164');

  const area = byField.get('scan.area')!;
  assert.equal(area.value_text, null, 'special category values are never stored in clear');
  assert.ok(area.value_sealed);
  const dek = await t.ctx.subjectKeys.get(t.db.kysely, subjectId);
  assert.equal(openValue(dek!, area.value_sealed!, area.id), 'Lower left molar, suspected cyst');

  const events = await t.db.kysely.selectFrom('audit_event').select(['action', 'actor', 'record_ids']).where('subject_id', '=', subjectId).execute();
  assert.deepEqual(events.map((e) => e.action).sort(), ['record.create', 'subject.create']);
  assert.equal(events.find((e) => e.action === 'record.create')!.record_ids.length, 6);
  assert.equal(events[0]!.actor, 'public:scan-request');
});

test('identifiers are stored normalised, however they were typed', async () => {
  const first = (await post('scan-request', { ...scanRequest, 'patient.email': 'SAME@example.COM ', 'patient.phone': '020 7946 0999' }, true)).json();
  const ids = await t.db.kysely
    .selectFrom('subject_identifier')
    .select(['kind', 'value', 'scope', 'strong', 'verified'])
    .where('subject_id', '=', first.subjectId)
    .orderBy('kind')
    .execute();
  assert.deepEqual(ids, [
    { kind: 'email', value: 'same@example.com', scope: '*', strong: false, verified: false },
    { kind: 'phone', value: '+442079460999', scope: '*', strong: false, verified: false },
  ]);
});

test('form-encoded submissions are accepted like JSON', async () => {
  const res = await post('scan-request', { ...scanRequest, 'patient.email': 'form@example.com', 'patient.phone': '020 7946 0123' }, true);
  assert.equal(res.statusCode, 201, res.body);
});

test('undeclared or invalid fields are each listed and nothing is stored', async () => {
  const before = { ...(await countRows()), audit: await auditCount() };
  const res = await post('scan-request', {
    ...scanRequest,
    'patient.dob': '1980-02-30',
    'scan.type': 'MRI',
    'patient.phone': '12',
    nhs_number: '123',
    'patient.name': '',
  });
  assert.equal(res.statusCode, 400);
  const body = res.json() as { error: { code: string; details: { problems: { field: string; problem: string }[] } } };
  assert.equal(body.error.code, 'invalid_fields');
  const fields = body.error.details.problems.map((p) => p.field).sort();
  assert.deepEqual(fields, ['nhs_number', 'patient.dob', 'patient.name', 'patient.phone', 'scan.type']);
  assert.match(body.error.details.problems.find((p) => p.field === 'scan.type')!.problem, /one of: CBCT/);
  assert.deepEqual({ ...(await countRows()), audit: await auditCount() }, before);
});

test('an unknown collection point is a coded 404; a non-object body a coded 400', async () => {
  const unknown = await post('no-such-form', { a: 1 });
  assert.equal(unknown.statusCode, 404);
  assert.equal(unknown.json().error.code, 'not_found');
  const array = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: '[1,2]', headers: { 'content-type': 'application/json' } });
  assert.equal(array.statusCode, 400);
  assert.equal(array.json().error.code, 'invalid_body');
  const broken = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: '{"a":', headers: { 'content-type': 'application/json' } });
  assert.equal(broken.statusCode, 400);
  assert.equal(broken.json().error.code, 'bad_request');
  const xml = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: '<a/>', headers: { 'content-type': 'application/xml' } });
  assert.equal(xml.statusCode, 415);
  assert.equal(xml.json().error.code, 'unsupported_media_type');
});

test('a consent given before two records of one person were merged still counts for them', async () => {
  const given = await post('enquiry-form', { name: 'Lee Park', email: 'lee@example.com', message: 'Newsletter please', marketing: 'yes' }, true);
  const other = await post('enquiry-form', { name: 'Lee Park', email: 'lee.work@example.com', message: 'Opening hours?' });
  assert.equal(given.statusCode, 201, given.body);
  assert.equal(other.statusCode, 201, other.body);
  const staff = await t.signedIn('staff');
  // Staff record a call from the person they know as the second record.
  const purposesOfLatest = async () => {
    const again = await staff.request({
      method: 'POST',
      url: '/api/v1/staff/collect/enquiry-form',
      json: {
        channel: 'phone',
        receivedAt: '2026-11-21',
        subject: other.json().subjectId,
        fields: { name: 'Lee Park', email: 'lee.work@example.com', message: 'And on Sundays?' },
      },
      html: false,
      headers: { 'x-csrf-token': await staff.csrf() },
    });
    assert.equal(again.statusCode, 201, again.body);
    assert.equal(again.json().subjectId, other.json().subjectId);
    const named = await t.db.kysely
      .selectFrom('record')
      .select('purposes')
      .where('id', 'in', again.json().recordIds)
      .where('field', '=', 'name')
      .executeTakeFirstOrThrow();
    return named.purposes;
  };
  assert.deepEqual(await purposesOfLatest(), ['enquiries'], 'before the merge, the work address gave no consent');
  await mergeSubjects(t.ctx, { from: given.json().subjectId, into: other.json().subjectId, actor: 'staff:test' });
  assert.deepEqual(await purposesOfLatest(), ['enquiries'], 'an email consent not yet confirmed from its mailbox counts for nothing');
  // Confirmed from the mailbox after the merge (the mail is held in the outbox: no SMTP server here).
  const mail = await t.db.kysely
    .selectFrom('mail_outbox')
    .select('body_text')
    .where('kind', '=', 'consent-confirm')
    .where('subject_id', '=', given.json().subjectId)
    .executeTakeFirstOrThrow();
  const token = /\/consent\/confirm\?token=([A-Za-z0-9_.-]+)/.exec(mail.body_text)![1]!;
  t.clock.advance(1000);
  const confirmed = await t.app.inject({
    method: 'POST',
    url: '/consent/confirm',
    payload: `token=${token}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  assert.deepEqual(await purposesOfLatest(), ['enquiries', 'marketing-consent'], 'after it, the consent given under the other address counts');
});

test('a consent purpose only gets data when the person ticks its box, and the consent is recorded', async () => {
  const enquiry = { name: 'Sam Smith', email: 'sam@example.com', message: 'Do you scan on Saturdays?' };
  const without = await post('enquiry-form', enquiry);
  assert.equal(without.statusCode, 201, without.body);
  const rows = await t.db.kysely.selectFrom('record').select(['field', 'purposes']).where('subject_id', '=', without.json().subjectId).execute();
  assert.ok(
    rows.every((r) => r.purposes.join() === 'enquiries'),
    JSON.stringify(rows),
  );

  const withConsent = await post('enquiry-form', { ...enquiry, email: 'kim@example.com', marketing: 'yes' }, true);
  assert.equal(withConsent.statusCode, 201, withConsent.body);
  const subjectId = withConsent.json().subjectId as string;
  const named = await t.db.kysely
    .selectFrom('record')
    .select(['field', 'purposes'])
    .where('subject_id', '=', subjectId)
    .where('field', '=', 'name')
    .executeTakeFirstOrThrow();
  assert.deepEqual(named.purposes, ['enquiries', 'marketing-consent']);
  const consent = await t.db.kysely.selectFrom('consent_event').selectAll().where('subject_id', '=', subjectId).execute();
  assert.equal(consent.length, 1);
  assert.equal(consent[0]!.purpose, 'marketing-consent');
  assert.equal(consent[0]!.channel, 'email');
  // Pending until confirmed from that mailbox (consent/email-consent.test.ts); its data is kept for the purpose meanwhile.
  assert.equal(consent[0]!.state, 'pending');
  assert.equal(consent[0]!.notice_fingerprint, t.register.fingerprint);
  // The ledger is append-only in the database: a consent is withdrawn by a new event, never edited away.
  await assert.rejects(sql`UPDATE consent_event SET state = 'withdrawn'`.execute(t.db.kysely), /append-only/);
  await assert.rejects(sql`DELETE FROM consent_event`.execute(t.db.kysely), /append-only/);
  // The checkbox itself is consent, not data: no record is made of it.
  assert.equal((await t.db.kysely.selectFrom('record').select('id').where('subject_id', '=', subjectId).where('field', '=', 'marketing').execute()).length, 0);
});

test('staff record a letter through the same path, with channel and date received; the public cannot', async () => {
  const body = { channel: 'post', receivedAt: '2026-11-20', fields: { name: 'Pat Post', phone: '020 7946 0001', notes: 'Asked for a price list' } };
  const anonymous = await t.app.inject({ method: 'POST', url: '/api/v1/staff/collect/telephone-enquiry', payload: body });
  assert.equal(anonymous.statusCode, 401);
  const auditor = await t.signedIn('auditor');
  const refused = await auditor.request({
    method: 'POST',
    url: '/api/v1/staff/collect/telephone-enquiry',
    json: body,
    html: false,
    headers: { 'x-csrf-token': await auditor.csrf() },
  });
  assert.equal(refused.statusCode, 403);

  const staff = await t.signedIn('staff');
  const res = await staff.request({
    method: 'POST',
    url: '/api/v1/staff/collect/telephone-enquiry',
    json: body,
    html: false,
    headers: { 'x-csrf-token': await staff.csrf() },
  });
  assert.equal(res.statusCode, 201, res.body);
  const rec = await t.db.kysely
    .selectFrom('record')
    .selectAll()
    .where('subject_id', '=', res.json().subjectId)
    .where('field', '=', 'notes')
    .executeTakeFirstOrThrow();
  assert.equal(rec.channel, 'post');
  assert.equal(new Date(rec.received_at!).toISOString().slice(0, 10), '2026-11-20');
  const event = await t.db.kysely
    .selectFrom('audit_event')
    .select('actor')
    .where('subject_id', '=', res.json().subjectId)
    .where('action', '=', 'record.create')
    .executeTakeFirstOrThrow();
  assert.match(event.actor, /^staff:[0-9a-f-]{36}$/);
});

test('after all of this the audit chain verifies', async () => {
  const result = await verifyAuditChain(t.db, { checkpointKey: t.checkpointKeys });
  assert.equal(result.ok, true, JSON.stringify(result.firstBad));
  assert.ok(result.events > 5);
});

test('a form field named __proto__ is refused like any undeclared field, not dropped', async () => {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/collect/enquiry-form',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'name=A&email=a%40b.co&message=hi&__proto__=x',
  });
  assert.equal(res.statusCode, 400, res.body);
  assert.equal(res.json().error.details.problems[0].field, '__proto__');
});
