// The soft opt-in (PECR reg. 22(3)), only where declared and recorded with its sale: a form the register names as a
// sale, its refusal box left unticked, records a `soft-opt-in` event with the sale in its context; email marketing on
// a soft opt-in channel goes only to someone with such a record and never after an objection, refusal or withdrawal.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { softOptInsOf } from '../register/soft-opt-in.ts';
import { subjectPeople } from '../subjects/people.ts';
import { exampleRegister, testApp, type TestApp } from '../test/helpers/test-app.ts';
import { recordConsentEvents } from './consent-store.ts';
import { mayMarket as mayMarketOf } from './marketing.ts';
import { clinicianRegistration } from '../test/helpers/clinician-registration.ts';

const mayMarket = (deps: Parameters<typeof mayMarketOf>[0], input: Parameters<typeof mayMarketOf>[2]) => mayMarketOf(deps, subjectPeople, input);

let idt: TestApp;
let odl: TestApp;
before(async () => {
  idt = await testApp('image-diagnostic-technology');
  odl = await testApp('odl-dental-lab');
});
after(async () => {
  await idt?.close();
  await odl?.close();
});

const clinician = clinicianRegistration;

const IDT_SALE = 'sale:clinician-registration; Registration to order CT and CBCT scans for your patients';

const ledgerOf = async (t: TestApp, subjectId: string) =>
  (
    await sql<{ state: string; purpose: string; channel: string | null; method: string; point: string | null; context: string | null }>`
      SELECT state, purpose, channel, method, collection_point AS point, context FROM consent_event WHERE subject_id = ${subjectId}
      ORDER BY state, method`.execute(t.db.kysely)
  ).rows;

test('a registration with "no news" unticked is recorded with its sale, and only then may email news go out', async () => {
  const res = await idt.app.inject({ method: 'POST', url: '/api/v1/collect/clinician-registration', payload: clinician(10, false) });
  assert.equal(res.statusCode, 201, res.body);
  const { subjectId } = res.json() as { subjectId: string };
  assert.deepEqual(await ledgerOf(idt, subjectId), [
    { state: 'soft-opt-in', purpose: 'product-news', channel: 'email', method: 'form', point: 'clinician-registration', context: IDT_SALE },
  ]);
  assert.deepEqual(await mayMarket(idt.ctx, { subjectId, purpose: 'product-news', channel: 'email' }), { allowed: true, reason: 'soft-opt-in' });
  assert.deepEqual(await mayMarket(idt.ctx, { subjectId, purpose: 'product-news', channel: 'post' }), { allowed: true, reason: 'opt-out' });
  // What the person and staff see: the state, the proof with its sale, a receipt that claims no consent.
  const state = (await idt.app.inject({ url: `/api/v1/consent/${subjectId}` })).json();
  assert.equal(state.purposes['product-news'].channels.email.state, 'soft-opt-in');
  const staff = await idt.signedIn('staff');
  const proof = (await staff.request({ url: `/api/v1/staff/consent/${subjectId}/proof`, html: false })).json();
  assert.deepEqual(
    proof.events.map((e: { state: string; context?: string }) => [e.state, e.context]),
    [['soft-opt-in', IDT_SALE]],
  );
  const receipt = proof.receipts[0];
  assert.equal(receipt.events[0].event_type, 'dpv:LegitimateInterestOfController');
  assert.equal(receipt.events[0].context, IDT_SALE);
  assert.doesNotMatch(JSON.stringify(receipt), /ExpressedConsent/, 'a soft opt-in is never shown as consent');
  // Audited, without the person's details.
  const audit = (await idt.audits()).filter((e) => e.subjectId === subjectId && e.action === 'consent.record');
  assert.equal(audit.length, 1);
  assert.doesNotMatch(JSON.stringify(audit), /clinician10/);
});

test('a sale sent with a Global Privacy Control signal: the objection, and no soft opt-in beside it', async () => {
  const res = await idt.app.inject({
    method: 'POST',
    url: '/api/v1/collect/clinician-registration',
    headers: { 'sec-gpc': '1' },
    payload: clinician(40, false),
  });
  assert.equal(res.statusCode, 201, res.body);
  const { subjectId } = res.json() as { subjectId: string };
  const ledger = await ledgerOf(idt, subjectId);
  assert.ok(
    ledger.some((e) => e.state === 'objected' && e.purpose === 'product-news' && e.method === 'gpc'),
    JSON.stringify(ledger),
  );
  assert.ok(!ledger.some((e) => e.state === 'soft-opt-in'), JSON.stringify(ledger));
  assert.equal((await mayMarket(idt.ctx, { subjectId, purpose: 'product-news', channel: 'email' })).allowed, false);
});

test('"no news" ticked: the objection and no soft opt-in', async () => {
  const res = await idt.app.inject({ method: 'POST', url: '/api/v1/collect/clinician-registration', payload: clinician(14, true) });
  assert.equal(res.statusCode, 201, res.body);
  const { subjectId } = res.json() as { subjectId: string };
  assert.deepEqual(
    (await ledgerOf(idt, subjectId)).map((e) => [e.state, e.context]),
    [['objected', 'field:no-news']],
  );
  assert.deepEqual(await mayMarket(idt.ctx, { subjectId, purpose: 'product-news', channel: 'email' }), { allowed: false, reason: 'objected' });
});

test('nobody is sent email news without the sale; bad input records nothing; an objection is never undone by a later sale', async () => {
  // An enquirer never bought or asked to: no sale, no news by email.
  const enquiry = await idt.app.inject({
    method: 'POST',
    url: '/api/v1/collect/enquiry-form',
    payload: { name: 'Nora Enquirer', email: 'nora@example.com', message: 'Do you scan on Saturdays?' },
  });
  assert.equal(enquiry.statusCode, 201, enquiry.body);
  const enquirer = (enquiry.json() as { subjectId: string }).subjectId;
  assert.deepEqual(await ledgerOf(idt, enquirer), []);
  assert.deepEqual(await mayMarket(idt.ctx, { subjectId: enquirer, purpose: 'product-news', channel: 'email' }), {
    allowed: false,
    reason: 'no-sale-context',
  });

  // A registration refused for bad input records nothing.
  const count = async () => (await sql<{ n: string }>`SELECT count(*)::text AS n FROM consent_event`.execute(idt.db.kysely)).rows[0]!.n;
  const before = await count();
  const bad = await idt.app.inject({
    method: 'POST',
    url: '/api/v1/collect/clinician-registration',
    payload: { ...clinician(11, false), email: 'not an email' },
  });
  assert.equal(bad.statusCode, 400);
  assert.equal(bad.json().error.code, 'invalid_fields');
  assert.equal(await count(), before);

  // Registered (the sale), then refused: stopped. Registering again later, box unticked, does not undo it.
  const registered = (
    (await idt.app.inject({ method: 'POST', url: '/api/v1/collect/clinician-registration', payload: clinician(12, false) })).json() as { subjectId: string }
  ).subjectId;
  idt.clock.advance(60_000);
  await idt.db.kysely
    .transaction()
    .execute((trx) =>
      recordConsentEvents(
        trx,
        idt.ctx.auditor,
        [{ subjectId: registered, purpose: 'product-news', channel: null, state: 'refused', method: 'staff', actor: 'staff:test' }],
        idt.register.fingerprint,
        idt.clock.now(),
      ),
    );
  assert.deepEqual(await mayMarket(idt.ctx, { subjectId: registered, purpose: 'product-news', channel: 'email' }), { allowed: false, reason: 'refused' });
  idt.clock.advance(60_000);
  const staff = await idt.signedIn('staff');
  const again = await staff.request({
    method: 'POST',
    url: '/api/v1/staff/collect/clinician-registration',
    json: { channel: 'phone', receivedAt: '2026-11-22', subject: registered, fields: clinician(12, false) },
    html: false,
    headers: { 'x-csrf-token': await staff.csrf() },
  });
  assert.equal(again.statusCode, 201, again.body);
  assert.equal(again.json().subjectId, registered);
  assert.deepEqual(
    (await ledgerOf(idt, registered)).map((e) => [e.state, e.method]),
    [
      ['refused', 'staff'],
      ['soft-opt-in', 'form'],
      ['soft-opt-in', 'staff'],
    ],
  );
  assert.deepEqual(await mayMarket(idt.ctx, { subjectId: registered, purpose: 'product-news', channel: 'email' }), { allowed: false, reason: 'refused' });
});

test('the dental lab: an account application recorded by staff is its sale; "no advertising" ticked records only the objection', async () => {
  const staff = await odl.signedIn('staff');
  const apply = async (n: number, noAdvertising: boolean) => {
    const res = await staff.request({
      method: 'POST',
      url: '/api/v1/staff/collect/account-application',
      json: {
        channel: 'post',
        receivedAt: '2026-11-20',
        fields: {
          'clinician.name': `Dr Lab ${n}`,
          'practice.name': `Practice ${n}`,
          address: '2 Mill Lane, Exampletown',
          postcode: 'XX1 1XX',
          phone: `01234 56000${n}`,
          email: `practice${n}@dental.example`,
          ...(noAdvertising ? { 'no-advertising': true } : {}),
        },
      },
      html: false,
      headers: { 'x-csrf-token': await staff.csrf() },
    });
    assert.equal(res.statusCode, 201, res.body);
    return (res.json() as { subjectId: string }).subjectId;
  };
  const customer = await apply(1, false);
  assert.deepEqual(await ledgerOf(odl, customer), [
    {
      state: 'soft-opt-in',
      purpose: 'advertising',
      channel: 'email',
      method: 'staff',
      point: 'account-application',
      context: 'sale:account-application; An account with the laboratory for the appliances your practice orders',
    },
  ]);
  assert.deepEqual(await mayMarket(odl.ctx, { subjectId: customer, purpose: 'advertising', channel: 'email' }), { allowed: true, reason: 'soft-opt-in' });
  const refuser = await apply(2, true);
  assert.deepEqual(
    (await ledgerOf(odl, refuser)).map((e) => [e.state, e.context]),
    [['objected', 'field:no-advertising']],
  );
  assert.deepEqual(await mayMarket(odl.ctx, { subjectId: refuser, purpose: 'advertising', channel: 'email' }), { allowed: false, reason: 'objected' });
});

test('a sale without the contact for the channel, or a point that is no sale, gives no soft opt-in', () => {
  const register = exampleRegister('image-diagnostic-technology');
  const values = new Map<string, unknown>(Object.entries(clinician(13, false)));
  assert.deepEqual(
    softOptInsOf(register, 'clinician-registration', (n) => values.get(n)),
    [{ purpose: 'product-news', channel: 'email', context: IDT_SALE }],
  );
  values.delete('email');
  assert.deepEqual(
    softOptInsOf(register, 'clinician-registration', (n) => values.get(n)),
    [],
  );
  assert.deepEqual(
    softOptInsOf(register, 'enquiry-form', () => 'x'),
    [],
  );
});
