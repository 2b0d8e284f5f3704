// The consent ledger held to the audit trail, tested as someone with database rights would attack it: every way a
// consent is written leaves rows that hash to the digest their audit event carries; a consent edited, a refusal
// deleted to uncover an older consent, or a consent slipped in by hand is named by `custodian audit verify`.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { verifyTrail } from '../audit/verify-trail.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { withdrawHeldConsents } from '../test/helpers/withdraw-consents.ts';
import { insertLedgerRows } from './consent-store.ts';
import { reconcileConsentLedger } from './reconcile-ledger.ts';

let t: TestApp;
before(async () => {
  t = await testApp('i-image-it');
});
after(async () => t?.close());

const asAdmin = async (change: () => Promise<unknown>) => {
  await sql`ALTER TABLE consent_event DISABLE TRIGGER USER`.execute(t.db.kysely);
  try {
    await change();
  } finally {
    await sql`ALTER TABLE consent_event ENABLE TRIGGER USER`.execute(t.db.kysely);
  }
};
const verify = () => verifyTrail(t.db, t.ctx.auditor, { vouchesFor: () => reconcileConsentLedger(t.db) });

let banner: string;
let formSubject: string;

test('every way a consent is written is vouched for by its audit event', async () => {
  // The banner (the one-statement batch after the first, locking one).
  for (let i = 0; i < 3; i++) {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/consent',
      payload: { visitorId: `visitor-${randomUUID()}`, purposes: { 'analytics-cookies': i % 2 === 0 } },
    });
    assert.equal(res.statusCode, 201, res.body);
    banner = res.json().receiptId;
  }
  // A public form: an email consent ticked (pending), an objection box, and a Global Privacy Control signal.
  const form = await t.app.inject({
    method: 'POST',
    url: '/api/v1/collect/contact-form',
    headers: { 'sec-gpc': '1' },
    payload: { name: 'Ann Example', email: 'ann.ledger@example.com', message: 'Hello', 'marketing.email': true, 'marketing.no-post': true },
  });
  assert.equal(form.statusCode, 201, form.body);
  formSubject = form.json().subjectId;
  const states = await t.db.kysely.selectFrom('consent_event').select('state').where('subject_id', '=', formSubject).execute();
  assert.ok(states.length >= 3, JSON.stringify(states));
  // A withdrawal (a rights request), and rows whose text needs escaping (quotes, a newline, a control character,
  // non-ASCII), written the way the newsletter and confirmation links write them.
  t.clock.advance(1000);
  await t.db.kysely.transaction().execute(async (trx) => {
    await withdrawHeldConsents(t, trx, formSubject);
    const receiptId = randomUUID();
    await insertLedgerRows(
      trx,
      t.ctx.auditor,
      [
        {
          id: randomUUID(),
          receiptId,
          subjectId: formSubject,
          visitorId: null,
          purpose: 'marketing-consent',
          channel: 'email',
          state: 'given',
          method: 'email-link',
          point: null,
          expiresAt: new Date('2027-06-01T12:34:56.789Z'),
          language: 'de',
          context: 'confirms: "Grüße" \\ zurück\nline two \u0001 — ✓',
        },
      ],
      [{ actor: 'public:test', action: 'consent.record', subjectId: formSubject, detail: { receipt: receiptId } }],
      t.register.fingerprint,
      t.clock.now(),
    );
  });
  assert.deepEqual(await reconcileConsentLedger(t.db), []);
  const verdict = await verify();
  assert.equal(verdict.ok, true, JSON.stringify(verdict.shortfalls));
});

test('a refusal turned into a consent by hand is named, with its receipt', async () => {
  const [row] = await t.db.kysely.selectFrom('consent_event').select(['id', 'state']).where('receipt_id', '=', banner).execute();
  assert.ok(row);
  const forged = row.state === 'given' ? 'refused' : 'given';
  await asAdmin(() => t.db.kysely.updateTable('consent_event').set({ state: forged }).where('id', '=', row.id).execute());
  const problems = await reconcileConsentLedger(t.db);
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.match(problems[0]!, new RegExp(`^1 consent receipt or event no longer matches the digest its audit event carries \\(the first: ${banner}\\)`));
  assert.equal((await verify()).ok, false);
  // Put back as it was, the ledger matches again: the digest is of the rows, not of when they were checked.
  await asAdmin(() => t.db.kysely.updateTable('consent_event').set({ state: row.state }).where('id', '=', row.id).execute());
  assert.deepEqual(await reconcileConsentLedger(t.db), []);
});

test('a later refusal or withdrawal deleted to uncover an older consent is named', async () => {
  const withdrawal = await t.db.kysely
    .selectFrom('consent_event')
    .select(['id'])
    .where('subject_id', '=', formSubject)
    .where('state', '=', 'withdrawn')
    .executeTakeFirstOrThrow();
  const saved = await sql`SELECT * FROM consent_event WHERE id = ${withdrawal.id}`.execute(t.db.kysely);
  await asAdmin(() => t.db.kysely.deleteFrom('consent_event').where('id', '=', withdrawal.id).execute());
  const problems = await reconcileConsentLedger(t.db);
  assert.equal(problems.length, 1, JSON.stringify(problems));
  assert.match(problems[0]!, new RegExp(`the first: ${withdrawal.id}\\): ledger rows were changed or deleted behind the trail`));
  await asAdmin(() =>
    sql`INSERT INTO consent_event SELECT * FROM json_populate_record(NULL::consent_event, ${JSON.stringify(saved.rows[0])}::json)`.execute(t.db.kysely),
  );
  assert.deepEqual(await reconcileConsentLedger(t.db), []);
});

test('a consent slipped in behind the trail is named', async () => {
  const id = randomUUID();
  await sql`
    INSERT INTO consent_event (id, receipt_id, subject_id, purpose, channel, state, method, notice_fingerprint, at)
    VALUES (${id}, ${id}, ${formSubject}, 'marketing-consent', 'email', 'given', 'email-link', ${t.register.fingerprint}, ${t.clock.now()})`.execute(
    t.db.kysely,
  );
  const problems = await reconcileConsentLedger(t.db);
  assert.deepEqual(problems, [`1 consent ledger row has no audit event naming it (the first: ${id}): rows were added behind the trail`]);
  const verdict = await verify();
  assert.equal(verdict.ok, false);
  assert.deepEqual(verdict.shortfalls, problems);
});
