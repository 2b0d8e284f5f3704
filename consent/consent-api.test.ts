// The consent API as the banner and integrations use it: a choice stored before 201, its receipt, the current state
// with dates and expiry, refusals of bad input that store nothing, and Global Privacy Control.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { parseRegister } from '../register/load-register.ts';
import { insertTestSubjects } from '../test/helpers/insert-test-subjects.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';

// The German vendor's register, with analytics consent lasting two months (its Borlabs cookie's lifetime).
const yaml = readFileSync(new URL('../examples/image-information-systems/register.yaml', import.meta.url), 'utf8').replace(
  /(\n {2}analytics:\n(?: {4}.*\n)*? {4}basis: consent\n)/,
  '$1    consent-lasts: P2M\n',
);
const loaded = parseRegister(yaml);
assert.ok(loaded.ok);
const iis = loaded.register;
assert.equal(iis.purposes.analytics?.['consent-lasts'], 'P2M');

let t: TestApp;
before(async () => {
  t = await testApp('image-information-systems', { register: iis });
});
after(async () => t?.close());

const visitor = () => `v-${randomUUID()}`;
const post = (payload: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'POST', url: '/api/v1/consent', payload: payload as object, headers });
const count = async () => Number((await sql<{ n: string }>`SELECT count(*)::text AS n FROM consent_event`.execute(t.db.kysely)).rows[0]!.n);

test('a banner choice is stored before 201: one event per purpose under one receipt, audited, with the notice fingerprint', async () => {
  const id = visitor();
  const res = await post({ visitorId: id, purposes: { analytics: true, newsletter: false } });
  assert.equal(res.statusCode, 201, res.body);
  const body = res.json();
  assert.match(body.receiptId, /^[0-9a-f-]{36}$/);
  assert.equal(body.purposes.analytics.state, 'given');
  assert.equal(body.purposes.newsletter.state, 'refused');
  // Committed: a fresh connection sees it, no wait.
  const rows = (
    await sql<{ purpose: string; state: string; receipt_id: string; notice_fingerprint: string; method: string }>`
    SELECT purpose, state, receipt_id::text, notice_fingerprint, method FROM consent_event WHERE visitor_id = ${id} ORDER BY purpose`.execute(t.db.kysely)
  ).rows;
  assert.deepEqual(
    rows.map((r) => [r.purpose, r.state, r.method]),
    [
      ['analytics', 'given', 'banner'],
      ['newsletter', 'refused', 'banner'],
    ],
  );
  assert.ok(rows.every((r) => r.receipt_id === body.receiptId && r.notice_fingerprint === iis.fingerprint));
  const audit = (await t.audits()).filter((e) => e.action === 'consent.record' && (e.detail as Record<string, unknown>).receipt === body.receiptId);
  assert.equal(audit.length, 1);
});

test('GET /api/v1/consent/{id}: the state per purpose with its dates; a two-month consent is expired after two months', async () => {
  const id = visitor();
  const at = t.clock.now().toISOString();
  await post({ visitorId: id, purposes: { analytics: true } });
  await post({ visitorId: id, purposes: { newsletter: false } });
  const now = (await t.app.inject({ url: `/api/v1/consent/${id}` })).json();
  assert.equal(now.kind, 'visitor');
  assert.equal(now.purposes.analytics.state, 'given');
  assert.equal(now.purposes.analytics.since, at);
  assert.equal(now.purposes.analytics.expiresAt, '2027-01-22T09:00:00.000Z');
  assert.equal(now.purposes.newsletter.state, 'refused');
  t.clock.set('2027-01-23T00:00:00Z');
  try {
    const later = (await t.app.inject({ url: `/api/v1/consent/${id}` })).json();
    assert.equal(later.purposes.analytics.state, 'expired');
    assert.equal(later.purposes.analytics.since, '2027-01-22T09:00:00.000Z');
  } finally {
    t.clock.set('2026-11-22T09:00:00Z');
  }
  assert.equal((await t.app.inject({ url: `/api/v1/consent/${visitor()}` })).statusCode, 404);
});

test('withdrawing takes one request, like giving: the newest event is the state', async () => {
  const id = visitor();
  await post({ visitorId: id, purposes: { analytics: true } });
  t.clock.advance(1000);
  await post({ visitorId: id, purposes: { analytics: false } });
  const now = (await t.app.inject({ url: `/api/v1/consent/${id}` })).json();
  assert.equal(now.purposes.analytics.state, 'refused');
});

test('unknown purposes and malformed bodies get 400 and store nothing', async () => {
  const before = await count();
  const auditsBefore = (await t.audits()).length;
  const bad: unknown[] = [
    { visitorId: visitor(), purposes: { analytics: true, 'no-such-purpose': true } },
    { visitorId: visitor(), purposes: { 'contact-forms': true, improve: true } }, // improve: not on consent, not objectable
    { visitorId: visitor(), purposes: { analytics: 'yes' } },
    { visitorId: visitor(), purposes: {} },
    { purposes: { analytics: true } },
    { visitorId: visitor(), subjectId: randomUUID(), purposes: { analytics: true } },
    { visitorId: 'short', purposes: { analytics: true } },
    { visitorId: visitor(), purposes: { analytics: true }, extra: 1 },
    { visitorId: visitor(), purposes: { __proto__: true } },
    { subjectId: 'not-a-uuid', purposes: { analytics: true } },
    [],
    null,
  ];
  for (const b of bad) {
    const res = await post(b);
    assert.equal(res.statusCode, 400, `${JSON.stringify(b)}: ${res.body}`);
    assert.equal(typeof res.json().error.code, 'string');
  }
  const broken = await t.app.inject({ method: 'POST', url: '/api/v1/consent', payload: '{"visitorId":', headers: { 'content-type': 'application/json' } });
  assert.equal(broken.statusCode, 400);
  const unknownPerson = await post({ subjectId: randomUUID(), purposes: { analytics: true } });
  assert.equal(unknownPerson.statusCode, 404);
  assert.equal(await count(), before);
  assert.equal((await t.audits()).length, auditsBefore);
});

test('Sec-GPC: 1 refuses every consent purpose and objects to legitimate-interest marketing, with method gpc, whatever the body says', async () => {
  const id = visitor();
  const res = await post({ visitorId: id, purposes: { analytics: true } }, { 'sec-gpc': '1' });
  assert.equal(res.statusCode, 201);
  const state = (await t.app.inject({ url: `/api/v1/consent/${id}` })).json();
  for (const p of ['analytics', 'newsletter', 'contact-forms']) assert.deepEqual([p, state.purposes[p].state, state.purposes[p].method], [p, 'refused', 'gpc']);
  assert.deepEqual([state.purposes['marketing-post'].state, state.purposes['marketing-post'].method], ['objected', 'gpc']);
  // Any other value is no signal.
  for (const value of ['0', 'true', ' 1', '1, 1']) {
    const other = visitor();
    await post({ visitorId: other, purposes: { analytics: true } }, { 'sec-gpc': value });
    const s = (await t.app.inject({ url: `/api/v1/consent/${other}` })).json();
    assert.equal(s.purposes.analytics.state, 'given', `Sec-GPC: ${JSON.stringify(value)}`);
  }
  // The banner's navigator.globalPrivacyControl, sent as method gpc, counts the same.
  const nav = visitor();
  await post({ visitorId: nav, purposes: { analytics: false }, method: 'gpc' });
  assert.equal((await t.app.inject({ url: `/api/v1/consent/${nav}` })).json().purposes.analytics.method, 'gpc');
});

test('/.well-known/gpc.json says GPC is honoured', async () => {
  const res = await t.app.inject({ url: '/.well-known/gpc.json' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.json(), { gpc: true, lastUpdate: iis.notice.effective });
  assert.equal(res.headers['access-control-allow-origin'], '*');
});

test('the receipt: ISO/IEC 27560-shaped JSON in DPV terms, downloadable by its id', async () => {
  const id = visitor();
  const { receiptId } = (await post({ visitorId: id, purposes: { analytics: true, newsletter: false }, language: 'de' })).json();
  const res = await t.app.inject({ url: `/api/v1/consent/receipts/${receiptId}` });
  assert.equal(res.statusCode, 200);
  assert.match(String(res.headers['content-disposition']), /attachment/);
  const r = res.json();
  assert.equal(r.record_id, receiptId);
  assert.equal(r.language, 'de');
  assert.deepEqual(r.data_subject, { id, id_type: 'visitor-cookie' });
  assert.equal(r.controllers[0].name, iis.controller.name);
  assert.equal(r.notice.fingerprint, iis.fingerprint);
  const analytics = r.purposes.find((p: { id: string }) => p.id === 'analytics');
  assert.equal(analytics.legal_basis, 'dpv:Consent');
  assert.ok(analytics.recipients.some((x: { id: string }) => x.id === 'google'));
  assert.deepEqual(r.events.map((e: { purpose: string; event_type: string }) => [e.purpose, e.event_type]).sort(), [
    ['analytics', 'dpv:ConsentGiven'],
    ['newsletter', 'dpv:ConsentRefused'],
  ]);
  // Each event says how it was expressed as what it was: a refusal is not an expression of consent.
  assert.deepEqual(r.events.map((e: { purpose: string; method: string }) => [e.purpose, e.method]).sort(), [
    ['analytics', 'dpv:ExpressedConsent (cookie banner)'],
    ['newsletter', 'Consent refused (cookie banner)'],
  ]);
  const expected = new Date(t.clock.now());
  expected.setUTCMonth(expected.getUTCMonth() + 2);
  assert.equal(r.events.find((e: { purpose: string }) => e.purpose === 'analytics').validity.until, expected.toISOString());
  assert.match(r.withdrawal.how, /Borlabs/);
  assert.equal((await t.app.inject({ url: `/api/v1/consent/receipts/${randomUUID()}` })).statusCode, 404);
});

test('a person (subjectId) records a choice; the proof export lists every event and receipt, for staff only', async () => {
  const [subjectId] = (await insertTestSubjects(t.db, 1)) as [string];
  const given = await post({ subjectId, purposes: { newsletter: true } });
  assert.equal(given.statusCode, 201, given.body);
  const state = (await t.app.inject({ url: `/api/v1/consent/${subjectId}` })).json();
  assert.equal(state.kind, 'subject');
  assert.equal(state.purposes.newsletter.state, 'given');
  assert.equal((await t.app.inject({ url: `/api/v1/staff/consent/${subjectId}/proof` })).statusCode, 401);
  const dpo = await t.signedIn('dpo');
  const proof = await dpo.request({ url: `/api/v1/staff/consent/${subjectId}/proof`, html: false });
  assert.equal(proof.statusCode, 200, proof.body);
  const p = proof.json();
  assert.equal(p.kind, 'subject');
  assert.equal(p.events.length, 1);
  assert.equal(p.receipts[0].record_id, given.json().receiptId);
  // The trail vouches for it: the audit event that recorded the receipt, its digest, and the rows still match.
  assert.equal(p.trail.vouched, true);
  assert.equal(p.trail.receipts.length, 1);
  const [vouched] = p.trail.receipts;
  assert.equal(vouched.receiptId, given.json().receiptId);
  assert.match(vouched.event.hash, /^[0-9a-f]{64}$/);
  assert.match(vouched.digest, /^[0-9a-f]{64}$/);
  assert.equal(vouched.matches, true);
  const [event] = (await t.audits()).filter((e) => e.id === vouched.event.id);
  assert.equal(event?.action, 'consent.record');

  // Someone with database rights turns the consent into a refusal: the proof says it no longer matches.
  await sql`ALTER TABLE consent_event DISABLE TRIGGER USER`.execute(t.db.kysely);
  await sql`UPDATE consent_event SET state = 'refused' WHERE subject_id = ${subjectId}`.execute(t.db.kysely);
  await sql`ALTER TABLE consent_event ENABLE TRIGGER USER`.execute(t.db.kysely);
  const after = (await dpo.request({ url: `/api/v1/staff/consent/${subjectId}/proof`, html: false })).json();
  assert.equal(after.trail.vouched, false);
  assert.equal(after.trail.receipts[0].matches, false);
  await sql`ALTER TABLE consent_event DISABLE TRIGGER USER`.execute(t.db.kysely);
  await sql`UPDATE consent_event SET state = 'given' WHERE subject_id = ${subjectId}`.execute(t.db.kysely);
  await sql`ALTER TABLE consent_event ENABLE TRIGGER USER`.execute(t.db.kysely);
});

test('many choices at once are each committed and answered (group commit)', async () => {
  const ids = Array.from({ length: 60 }, visitor);
  const answers = await Promise.all(ids.map((id, i) => post({ visitorId: id, purposes: { analytics: i % 2 === 0 } })));
  assert.ok(answers.every((a) => a.statusCode === 201));
  const { rows } = await sql<{ n: string }>`SELECT count(DISTINCT visitor_id)::text AS n FROM consent_event WHERE visitor_id = ANY(${ids})`.execute(
    t.db.kysely,
  );
  assert.equal(Number(rows[0]!.n), 60);
  assert.equal((await t.ctx.auditor.verify(t.db)).ok, true);
});

test('the console: consent rates per purpose by week as a chart, and the proof look-up for a visitor', async () => {
  const id = visitor();
  await post({ visitorId: id, purposes: { analytics: true, newsletter: false } });
  const dpo = await t.signedIn('dpo');
  const page = await dpo.request({ url: `/console/consent?id=${id}` });
  assert.equal(page.statusCode, 200, page.body.slice(0, 300));
  assert.match(page.body, /<table class="chart">/);
  assert.match(page.body, /<caption>Analyse the use of our website with Google Analytics/);
  assert.match(page.body, /<td>\d+%<\/td>/);
  assert.match(page.body, /Every event for this visitor/);
  assert.match(page.body, /<code>analytics<\/code><\/td><td><\/td><td>given<\/td><td>banner<\/td>/);
  assert.match(page.body, /href="\/api\/v1\/consent\/receipts\/[0-9a-f-]{36}"/);
  assert.match(page.body, /The audit trail vouches for every receipt above/);
  // A row changed by hand: the page says which receipt no longer matches.
  const { rows } = await sql<{ receipt: string }>`SELECT receipt_id::text AS receipt FROM consent_event WHERE visitor_id = ${id} LIMIT 1`.execute(t.db.kysely);
  await sql`ALTER TABLE consent_event DISABLE TRIGGER USER`.execute(t.db.kysely);
  await sql`UPDATE consent_event SET state = 'given' WHERE visitor_id = ${id} AND purpose = 'newsletter'`.execute(t.db.kysely);
  await sql`ALTER TABLE consent_event ENABLE TRIGGER USER`.execute(t.db.kysely);
  const tampered = await dpo.request({ url: `/console/consent?id=${id}` });
  assert.match(
    tampered.body,
    new RegExp(`1 receipt no longer matches the audit trail</strong> \\(changed, deleted or added outside Custodian\\): <code>${rows[0]!.receipt}</code>`),
  );
  await sql`ALTER TABLE consent_event DISABLE TRIGGER USER`.execute(t.db.kysely);
  await sql`UPDATE consent_event SET state = 'refused' WHERE visitor_id = ${id} AND purpose = 'newsletter'`.execute(t.db.kysely);
  await sql`ALTER TABLE consent_event ENABLE TRIGGER USER`.execute(t.db.kysely);
  const auditor = await t.signedIn('auditor');
  assert.equal((await auditor.request({ url: '/console/consent' })).statusCode, 403);
});
