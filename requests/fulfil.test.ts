// Fulfilling requests end to end through the API: an access answer built only from the people staff linked, with
// health data held back until a health professional's opinion, delivered by an expiring link read from the real
// mail; an erasure decided per record (clinical records kept and restricted, the rest erased, a person with nothing
// kept shredded), and a full dump afterwards holding none of the erased values.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { scanRequest } from '../test/helpers/scan-request.ts';
import { smtpSink, type SmtpSink } from '../test/helpers/smtp-sink.ts';
import type { Browser } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { linkedRequest, staffApi } from '../test/helpers/staff-api.ts';

let t: TestApp;
let sink: SmtpSink;
let dpo: Browser;

before(async () => {
  sink = await smtpSink();
  t = await testApp('image-diagnostic-technology', { now: '2027-02-01T10:00:00Z', smtp: { url: sink.url(), from: 'privacy@idt.example' } });
  dpo = await t.signedIn('dpo');
});
after(async () => {
  await t?.close();
  await sink?.close();
});

const call = (method: 'GET' | 'POST', url: string, json?: unknown) => staffApi(dpo, method, url, json);

async function mailTo(to: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    await t.ctx.mailer.flush();
    const m = sink.received.filter((r) => r.envelopeTo.includes(to)).at(-1);
    if (m) return m.raw.replace(/=\r\n/g, '');
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no mail to ${to}`);
}

describe('access', () => {
  let subjectId: string;
  let requestId: string;
  before(async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/collect/scan-request',
      payload: scanRequest('access', 1, 'Upper right molar, suspected abscess'),
    });
    subjectId = res.json().subjectId;
    // Someone else who shares the family email: never part of this answer.
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/collect/scan-request',
      payload: { ...scanRequest('access', 2, 'Sibling scan, lower jaw'), 'patient.email': 'p1.access@example.com' },
    });
    requestId = await linkedRequest(dpo, 'access', 'p1.access@example.com', subjectId);
  });

  test('health records supplied by the clinician are held back until a health professional gives an opinion', async () => {
    const res = await call('GET', `/api/v1/staff/requests/${requestId}/answer`);
    assert.equal(res.statusCode, 200, res.body);
    const answer = res.json();
    const scan = answer.records.filter((r: { category: string }) => r.category === 'scan-request');
    assert.ok(scan.length >= 2);
    assert.ok(scan.every((r: { withheld: string; value: null }) => r.withheld === 'health-opinion-needed' && r.value === null));
    const contact = answer.records.find((r: { field: string }) => r.field === 'patient.name');
    assert.equal(contact.value, 'Patient 1');
    assert.equal(
      answer.records.some((r: { value: string | null }) => r.value === 'Sibling scan, lower jaw' || r.value === 'Patient 2'),
      false,
      'only the linked person',
    );
    // Every Art. 15 item is there.
    for (const key of ['purposes', 'categories', 'recipients', 'retention', 'rights', 'complaint', 'sources', 'automatedDecisions', 'transfers'])
      assert.ok(key in answer, key);
    assert.ok(answer.purposes.some((p: { key: string; basis: string }) => p.key === 'healthcare-records' && /6\(1\)\(c\)/.test(p.basis)));
    assert.ok(answer.recipients.declared.some((r: { key: string }) => r.key === 'imaging-centres'));
    assert.match(answer.complaint, /Information Commissioner/);
  });

  test('with the opinion recorded, the answer is issued by an expiring link; the download shows the data and disclosures', async () => {
    const disclosed = await call('POST', '/api/v1/staff/disclosures', { subject: subjectId, recipient: 'imaging-centres', purpose: 'provide-scan' });
    assert.equal(disclosed.statusCode, 201, disclosed.body);
    const op = await call('POST', `/api/v1/staff/requests/${requestId}/health-opinion`, {
      professional: 'Dr A. Jones, consultant radiologist',
      givenOn: '2027-01-28',
      decision: 'release',
    });
    assert.equal(op.statusCode, 204, op.body);
    const issued = await call('POST', `/api/v1/staff/requests/${requestId}/answer`);
    assert.equal(issued.statusCode, 200, issued.body);
    assert.equal(issued.json().withheld, 0);
    const shown = (await call('GET', `/api/v1/requests/${requestId}`)).json();
    assert.equal(shown.status, 'completed');
    assert.equal(shown.outcome, 'done');

    const raw = await mailTo('p1.access@example.com');
    const token = /privacy-center\/answer\?token=3D([A-Za-z0-9_-]{43})|privacy-center\/answer\?token=([A-Za-z0-9_-]{43})/.exec(raw);
    assert.ok(token, raw);
    const tok = token[1] ?? token[2];
    const page = await t.app.inject({ method: 'GET', url: `/privacy-center/answer?token=${tok}` });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /Upper right molar, suspected abscess/);
    assert.match(page.body, /Imaging centre staff and radiographers who carry out the scan/);
    assert.doesNotMatch(page.body, /Sibling scan/);
    assert.equal(page.headers['cache-control'], 'no-store');
    const json = await t.app.inject({ method: 'GET', url: `/privacy-center/answer?token=${tok}&format=json` });
    assert.equal(json.json().recipients.disclosed.length, 1);
    assert.equal(json.json().recipients.disclosed[0].recipient, 'imaging-centres');
    const audits = await t.audits();
    assert.ok(audits.some((e) => e.action === 'request.download'));
    assert.ok(audits.some((e) => e.action === 'record.read-sealed' && e.actor === 'subject:answer-link'));

    // Thirty-one days later the link no longer works.
    t.clock.set('2027-03-05T10:00:00Z');
    const late = await t.app.inject({ method: 'GET', url: `/privacy-center/answer?token=${tok}` });
    assert.equal(late.statusCode, 404);
    assert.match(late.body, /This link does not work/);
    assert.match(String(late.headers['content-type']), /text\/html/);
    t.clock.set('2027-02-01T10:00:00Z');
    dpo = await t.signedIn('dpo');
  });

  test('issued without an opinion, the download still lists the health records held back, with why, and never their values', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('access', 4, 'Held back area text') });
    const id = await linkedRequest(dpo, 'access', 'p4.access@example.com', res.json().subjectId);
    const issued = await call('POST', `/api/v1/staff/requests/${id}/answer`);
    assert.equal(issued.statusCode, 200, issued.body);
    assert.ok(issued.json().withheld >= 2);
    assert.equal((await call('GET', `/api/v1/requests/${id}`)).json().outcome, 'partly-done');
    const raw = await mailTo('p4.access@example.com');
    const m = /answer\?token=(?:3D)?([A-Za-z0-9_-]{43})/.exec(raw);
    assert.ok(m, raw);
    const json = (await t.app.inject({ method: 'GET', url: `/privacy-center/answer?token=${m[1]}&format=json` })).json();
    assert.equal(json.withheldCount, issued.json().withheld);
    const held = json.records.filter((r: { withheld: string | null }) => r.withheld);
    assert.ok(held.every((r: { withheld: string; value: null }) => r.withheld === 'health-opinion-needed' && r.value === null));
    const page = await t.app.inject({ method: 'GET', url: `/privacy-center/answer?token=${m[1]}` });
    assert.match(page.body, /held back/);
    assert.doesNotMatch(page.body, /Held back area text/);
  });

  test('a request nobody is linked to, or not verified, cannot be answered', async () => {
    const res = await call('POST', '/api/v1/staff/requests', { type: 'access', channel: 'post', receivedAt: '2027-01-25' });
    const id = res.json().id as string;
    const a = await call('GET', `/api/v1/staff/requests/${id}/answer`);
    assert.equal(a.statusCode, 409);
  });
});

describe('erasure', () => {
  test('clinical records are kept and restricted (legal obligation), and say so; then they cannot be disclosed', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('erase', 3, 'Kept scan area') });
    const subjectId = res.json().subjectId as string;
    const id = await linkedRequest(dpo, 'erasure', 'p3.erase@example.com', subjectId);
    const done = await call('POST', `/api/v1/staff/requests/${id}/erase`, {});
    assert.equal(done.statusCode, 200, done.body);
    const out = done.json();
    assert.equal(out.erased, 0);
    assert.ok(out.kept.length >= 5);
    assert.ok(out.kept.every((k: { reason: string }) => k.reason === 'health-record-retention' || k.reason === 'legal-obligation'));
    assert.ok(out.kept.some((k: { reason: string }) => k.reason === 'health-record-retention'));
    assert.deepEqual(out.shredded, []);
    const shown = (await call('GET', `/api/v1/requests/${id}`)).json();
    assert.equal(shown.outcome, 'partly-done');
    const r = await call('POST', '/api/v1/staff/disclosures', { subject: subjectId, recipient: 'imaging-centres', purpose: 'provide-scan' });
    assert.equal(r.statusCode, 409);
    assert.equal(r.json().error.code, 'record_restricted');
  });

  test('an enquirer with nothing kept is erased completely: values gone from a full dump, key shredded, identifiers removed', async () => {
    const enquiry = await t.app.inject({
      method: 'POST',
      url: '/api/v1/collect/enquiry-form',
      payload: { name: 'Quentin Quill', email: 'quentin.quill@example.com', phone: '020 7946 0999', message: 'Zebra-striped enquiry text' },
    });
    assert.equal(enquiry.statusCode, 201, enquiry.body);
    const subjectId = enquiry.json().subjectId as string;
    const id = await linkedRequest(dpo, 'erasure', 'quentin.quill@example.com', subjectId);
    const done = await call('POST', `/api/v1/staff/requests/${id}/erase`, {});
    assert.equal(done.statusCode, 200, done.body);
    assert.deepEqual(done.json().kept, []);
    assert.deepEqual(done.json().shredded, [subjectId]);

    const records = await t.db.kysely.selectFrom('record').select(['state', 'value_text', 'value_sealed']).where('subject_id', '=', subjectId).execute();
    assert.ok(records.length >= 3);
    assert.ok(records.every((r) => r.state === 'erased' && r.value_text === null && r.value_sealed === null));
    const identifiers = await t.db.kysely.selectFrom('subject_identifier').select('kind').where('subject_id', '=', subjectId).execute();
    assert.deepEqual(identifiers, []);
    // Nothing of the enquiry is left in any table but the request itself (its contact kept as evidence, listed).
    const dump = JSON.stringify(
      await Promise.all(
        (['record', 'subject_identifier', 'audit_event', 'disclosure', 'rights_request_decision', 'mail_outbox'] as const).map((table) =>
          t.db.kysely.selectFrom(table).selectAll().execute(),
        ),
      ),
    );
    for (const value of ['Quentin Quill', 'Zebra-striped enquiry text', '2079460999', '7946 0999']) assert.doesNotMatch(dump, new RegExp(value), value);
  });
});
