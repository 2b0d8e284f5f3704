// Rectification, restriction, objection, withdrawal of consent and complaints through the staff API, with the
// Art. 19 notices each change sends to the recipients the data was actually disclosed to, read from a real SMTP server.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parseRegister } from '../register/load-register.ts';
import { personView } from '../subjects/person-view.ts';
import { scanRequest } from '../test/helpers/scan-request.ts';
import { smtpSink, type SmtpSink } from '../test/helpers/smtp-sink.ts';
import type { Browser } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { linkedRequest, staffApi } from '../test/helpers/staff-api.ts';

let t: TestApp;
let sink: SmtpSink;
let dpo: Browser;

// The scan-referral example, with an address for Art. 19 notices to the imaging centres.
const yaml = readFileSync(new URL('../examples/image-diagnostic-technology/register.yaml', import.meta.url), 'utf8').replace(
  /( {2}imaging-centres:\n {4}title: [^\n]+\n)/,
  '$1    notify: { email: records@imaging-centre.example }\n',
);

before(async () => {
  const loaded = parseRegister(yaml);
  assert.ok(loaded.ok, 'fixture register is valid');
  sink = await smtpSink();
  t = await testApp('image-diagnostic-technology', {
    now: '2027-02-01T10:00:00Z',
    register: loaded.register,
    smtp: { url: sink.url(), from: 'privacy@idt.example' },
  });
  dpo = await t.signedIn('dpo');
});
after(async () => {
  await t?.close();
  await sink?.close();
});

const call = (method: 'GET' | 'POST', url: string, json?: unknown) => staffApi(dpo, method, url, json);

async function mailsTo(to: string): Promise<string[]> {
  await t.ctx.mailer.flush();
  return sink.received.filter((r) => r.envelopeTo.includes(to)).map((m) => m.raw.replace(/=\r\n/g, ''));
}

async function patient(n: number): Promise<{ subjectId: string; recordIds: string[] }> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('rights', n, `Area ${n}`) });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

describe('rectification', () => {
  test('a plain and a sealed value corrected; the trail holds hashes, not values; the imaging centre is told', async () => {
    const p = await patient(1);
    assert.equal(
      (await call('POST', '/api/v1/staff/disclosures', { subject: p.subjectId, recipient: 'imaging-centres', purpose: 'provide-scan' })).statusCode,
      201,
    );
    const id = await linkedRequest(dpo, 'rectification', 'p1.rights@example.com', p.subjectId);
    const view = await personView(t.ctx, p.subjectId, { reveal: true, actor: 'system:test' });
    const records = view!.purposes.flatMap((g) => g.records);
    const name = records.find((r) => r.field === 'patient.name')!;
    const area = records.find((r) => r.field === 'scan.area')!;
    let r = await call('POST', `/api/v1/staff/requests/${id}/rectify`, { record: name.id, value: 'Patricia One' });
    assert.equal(r.statusCode, 200, r.body);
    r = await call('POST', `/api/v1/staff/requests/${id}/rectify`, { record: area.id, value: 'Upper left canine' });
    assert.equal(r.statusCode, 200, r.body);
    const after = (await personView(t.ctx, p.subjectId, { reveal: true, actor: 'system:test' }))!.purposes.flatMap((g) => g.records);
    assert.equal(after.find((x) => x.id === name.id)!.value, 'Patricia One');
    assert.equal(after.find((x) => x.id === area.id)!.value, 'Upper left canine');
    const sealed = await t.db.kysely.selectFrom('record').select(['value_text', 'value_sealed']).where('id', '=', area.id).executeTakeFirstOrThrow();
    assert.equal(sealed.value_text, null, 'a sealed category stays sealed');
    const updates = (await t.audits()).filter((e) => e.action === 'record.update');
    assert.equal(updates.length, 2);
    const trail = JSON.stringify(updates);
    assert.doesNotMatch(trail, /Patricia|Patient 1|Upper left canine|Area 1/);
    const detail = updates[0]!.detail as { before: string; after: string };
    assert.match(detail.before, /^[0-9a-f]{32}$/);
    assert.match(detail.after, /^[0-9a-f]{32}$/);
    assert.notEqual(detail.before, detail.after);

    const shown = (await call('GET', `/api/v1/requests/${id}`)).json();
    assert.equal(shown.recipientNotices.length, 2);
    assert.ok(shown.recipientNotices.every((n: { recipient: string; state: string }) => n.recipient === 'imaging-centres' && n.state === 'sent'));
    const mail = await mailsTo('records@imaging-centre.example');
    assert.equal(mail.length, 2);
    assert.match(mail[0]!, /Article 19/);
    assert.doesNotMatch(mail.join('\n'), /Patricia|Upper left canine/, 'the notice carries no personal values');
    const done = await call('POST', `/api/v1/staff/requests/${id}/notices/${shown.recipientNotices[0].id}`, { state: 'done' });
    assert.equal(done.statusCode, 204, done.body);
    const again = await call('POST', `/api/v1/staff/requests/${id}/notices/${shown.recipientNotices[0].id}`, { state: 'done' });
    assert.equal(again.statusCode, 409);
  });

  test('a record of someone the request is not about is refused', async () => {
    const p = await patient(2);
    const other = await patient(3);
    const id = await linkedRequest(dpo, 'rectification', 'p2.rights@example.com', p.subjectId);
    const r = await call('POST', `/api/v1/staff/requests/${id}/rectify`, { record: other.recordIds[0], value: 'Someone Else' });
    assert.equal(r.statusCode, 404);
  });
});

describe('restriction', () => {
  test('restricted records are not disclosed; lifting emails the person first, then they are active again', async () => {
    const p = await patient(4);
    const id = await linkedRequest(dpo, 'restriction', 'p4.rights@example.com', p.subjectId);
    const r = await call('POST', `/api/v1/staff/requests/${id}/restrict`, {});
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().restricted, p.recordIds.length);
    const refused = await call('POST', '/api/v1/staff/disclosures', { subject: p.subjectId, recipient: 'imaging-centres', purpose: 'provide-scan' });
    assert.equal(refused.json().error.code, 'record_restricted');
    assert.equal((await call('POST', `/api/v1/staff/requests/${id}/lift-restriction`, { reason: 'short' })).statusCode, 400);
    const lifted = await call('POST', `/api/v1/staff/requests/${id}/lift-restriction`, {
      reason: 'The accuracy of the data has been verified with your dentist.',
    });
    assert.equal(lifted.statusCode, 200, lifted.body);
    assert.equal(lifted.json().lifted, p.recordIds.length);
    const told = await mailsTo('p4.rights@example.com');
    assert.ok(told.some((m) => /lifting the restriction/.test(m) && /verified with your dentist/.test(m)));
    const allowed = await call('POST', '/api/v1/staff/disclosures', { subject: p.subjectId, recipient: 'imaging-centres', purpose: 'provide-scan' });
    assert.equal(allowed.statusCode, 201, allowed.body);
  });
});

describe('objection and withdrawal of consent', () => {
  async function enquirer(n: number, marketing: boolean): Promise<string> {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/collect/enquiry-form',
      payload: { name: `Enquirer ${n}`, email: `e${n}@example.com`, message: `Question number ${n}`, ...(marketing ? { marketing: 'true' } : {}) },
    });
    assert.equal(res.statusCode, 201, res.body);
    return res.json().subjectId;
  }

  test('objection: legitimate-interest records erased unless compelling grounds are recorded for their purpose', async () => {
    const a = await enquirer(1, false);
    const id = await linkedRequest(dpo, 'objection', 'e1@example.com', a);
    const r = await call('POST', `/api/v1/staff/requests/${id}/object`, {});
    assert.equal(r.statusCode, 200, r.body);
    assert.ok(r.json().erased >= 2);
    const left = await t.db.kysely.selectFrom('record').select(['state', 'value_text']).where('subject_id', '=', a).execute();
    assert.ok(left.every((x) => x.state === 'erased' && x.value_text === null));

    const b = await enquirer(2, false);
    const id2 = await linkedRequest(dpo, 'objection', 'e2@example.com', b);
    const kept = await call('POST', `/api/v1/staff/requests/${id2}/object`, {
      compellingGrounds: [{ purpose: 'enquiries', reason: 'An open warranty claim about this enquiry' }],
    });
    assert.equal(kept.statusCode, 200, kept.body);
    assert.deepEqual(kept.json().continued, ['enquiries']);
    assert.equal(kept.json().erased, 0);
    const marketing = await call('POST', `/api/v1/staff/requests/${id2}/object`, {
      compellingGrounds: [{ purpose: 'product-news', reason: 'We would like to keep sending it' }],
    });
    assert.equal(marketing.statusCode, 409, 'an objection to direct marketing is absolute');
  });

  test('withdrawal: a ledger event per consent given; records that also serve another purpose stay', async () => {
    const c = await enquirer(3, true);
    const id = await linkedRequest(dpo, 'withdraw-consent', 'e3@example.com', c);
    const r = await call('POST', `/api/v1/staff/requests/${id}/withdraw-consent`, {});
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().withdrawn, 1);
    const ledger = await t.db.kysely.selectFrom('consent_event').select(['purpose', 'state', 'method']).where('subject_id', '=', c).orderBy('at').execute();
    // Ticked on the public form, the email consent was still awaiting confirmation from the mailbox: withdrawn all the same.
    assert.deepEqual(
      ledger.map((e) => e.state),
      ['pending', 'withdrawn'],
    );
    const records = await t.db.kysely.selectFrom('record').select(['field', 'state', 'purposes']).where('subject_id', '=', c).execute();
    // Name and email also serve the enquiry (legitimate interests): withdrawing marketing consent erases none of them.
    assert.equal(r.json().erased, 0);
    assert.ok(records.every((x) => x.state === 'active'));
    assert.equal(records.find((x) => x.field === 'message')?.state, 'active', 'the enquiry itself rests on another basis');
  });
});

test('a complaint is due for acknowledgement within 30 days of receipt, and acknowledged by email', async () => {
  const res = await call('POST', '/api/v1/staff/requests', {
    type: 'complaint',
    channel: 'email',
    receivedAt: '2027-01-25',
    email: 'unhappy@example.com',
    verified: { method: 'known-to-staff' },
  });
  assert.equal(res.statusCode, 201, res.body);
  // Received Mon 25 Jan 2027, day 1: day 30 is Tue 23 Feb 2027.
  assert.equal(res.json().dueAt, '2027-02-23');
  const ack = await call('POST', `/api/v1/staff/requests/${res.json().id}/acknowledge`, {});
  assert.equal(ack.statusCode, 200, ack.body);
  assert.equal(ack.json().acknowledgedOn, '2027-02-01');
  const mail = await mailsTo('unhappy@example.com');
  assert.ok(mail.some((m) => /acknowledge your complaint/.test(m) && /Information Commissioner/.test(m)));
  assert.equal((await call('POST', `/api/v1/staff/requests/${res.json().id}/acknowledge`, {})).statusCode, 409);
  // The outcome is told in words, with the route to the regulator.
  assert.equal((await call('POST', `/api/v1/staff/requests/${res.json().id}/close`, { outcome: 'done' })).statusCode, 400);
  const closed = await call('POST', `/api/v1/staff/requests/${res.json().id}/close`, {
    outcome: 'done',
    message: 'We found that your scan was sent to the wrong imaging centre; it has been deleted there and we have changed our checks.',
  });
  assert.equal(closed.statusCode, 200, closed.body);
  const outcome = (await mailsTo('unhappy@example.com')).at(-1)!;
  assert.match(outcome, /the outcome/);
  assert.match(outcome, /wrong imaging centre/);
  assert.match(outcome, /Information Commissioner/);
});
