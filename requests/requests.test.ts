// Rights requests through the HTTP API, as a requester and staff use them: intake, the confirmation email read back
// from a real SMTP server, the statutory deadline at fixed dates (month ends, bank holidays), pauses and extensions,
// duplicates, people linked only by staff, and the disclosure ledger's register checks.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { headersOf, smtpSink, type SmtpSink } from '../test/helpers/smtp-sink.ts';
import type { Browser } from '../test/helpers/staff-client.ts';
import { scanRequest } from '../test/helpers/scan-request.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';

let t: TestApp;
let sink: SmtpSink;
let dpo: Browser;
let staff: Browser;

before(async () => {
  sink = await smtpSink();
  // Monday 1 February 2027, 10:00 in London.
  t = await testApp('image-diagnostic-technology', { now: '2027-02-01T10:00:00Z', smtp: { url: sink.url(), from: 'privacy@idt.example' } });
  dpo = await t.signedIn('dpo');
  staff = await t.signedIn('staff');
});
after(async () => {
  await t?.close();
  await sink?.close();
});

/** A staff API call as a script would make it: JSON, with the session's CSRF token on writes. */
async function call(who: Browser, method: 'GET' | 'POST', url: string, json?: unknown) {
  return who.request({ method, url, html: false, ...(json !== undefined ? { json, headers: { 'x-csrf-token': await who.csrf() } } : {}) });
}

async function rows(table: 'rights_request' | 'disclosure'): Promise<number> {
  const r = await t.db.kysely
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** The body of the last message to `to`, decoded from quoted-printable. */
async function lastMailTo(to: string): Promise<{ raw: string; text: string }> {
  for (let i = 0; i < 50; i++) {
    await t.ctx.mailer.flush();
    const m = sink.received.filter((r) => r.envelopeTo.includes(to)).at(-1);
    if (m) {
      const body = m.raw.slice(m.raw.indexOf('\r\n\r\n') + 4);
      return { raw: m.raw, text: body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))) };
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no mail to ${to}`);
}

describe('a web request', () => {
  test('is stored unconfirmed, emails a one-time link, and opens once confirmed; UK: the clock starts on confirmation', async () => {
    // Received Tue 26 Jan 2027: one month is Fri 26 Feb.
    t.clock.set('2027-01-26T10:00:00Z');
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { type: 'access', email: 'ann@example.com', name: 'Ann Example' } });
    assert.equal(res.statusCode, 201, res.body);
    const created = res.json();
    assert.deepEqual(Object.keys(created).sort(), ['dueAt', 'id', 'receivedAt', 'status', 'type']);
    assert.equal(created.status, 'unconfirmed');
    assert.equal(created.type, 'access');
    assert.equal(created.dueAt, '2027-02-26');

    const mail = await lastMailTo('ann@example.com');
    const headers = headersOf(mail.raw);
    assert.match(headers.get('subject') ?? '', /Please confirm your request/);
    assert.match(headers.get('from') ?? '', /privacy@idt\.example/);
    const link = /http:\/\/localhost:8080\/privacy-center\/confirm\?token=([A-Za-z0-9_-]{43})/.exec(mail.text);
    assert.ok(link, mail.text);
    assert.match(mail.text, /a copy of your data/);

    // Confirmed on Mon 1 Feb: UK, the clock starts then (Art. 12(6)); the deadline is Mon 1 Mar.
    t.clock.set('2027-02-01T10:00:00Z');
    const { confirmRequest } = await import('./request-service.ts');
    const confirmed = await confirmRequest(t.ctx, link[1]!);
    assert.equal(confirmed.status, 'open');
    assert.equal(confirmed.relevantOn, '2027-02-01');
    assert.equal(confirmed.dueAt, '2027-03-01');
    assert.equal(confirmed.verification?.method, 'email-link');
    // The link works once.
    await assert.rejects(confirmRequest(t.ctx, link[1]!), { code: 'not_found' });
    // Staff see it; the public do not.
    assert.equal((await t.app.inject({ method: 'GET', url: `/api/v1/requests/${created.id}` })).statusCode, 401);
    const shown = await call(staff, 'GET', `/api/v1/requests/${created.id}`);
    assert.equal(shown.statusCode, 200);
    assert.equal(shown.json().contact.email, 'ann@example.com');
  });

  test('a second one from the same address is linked as a repeat; a flood of unconfirmed ones is refused', async () => {
    const first = (await t.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { type: 'erasure', email: 'Bob@Example.com' } })).json();
    const second = (await t.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { type: 'erasure', email: 'bob@example.com ' } })).json();
    const shown = (await call(staff, 'GET', `/api/v1/requests/${second.id}`)).json();
    assert.equal(shown.duplicateOf, first.id, JSON.stringify({ first, second, shown }));
    const third = await t.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { type: 'erasure', email: 'bob@example.com' } });
    assert.equal(third.statusCode, 201);
    const before = await rows('rights_request');
    const fourth = await t.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { type: 'erasure', email: 'bob@example.com' } });
    assert.equal(fourth.statusCode, 429);
    assert.equal(await rows('rights_request'), before);
  });

  test('bad input is refused with a code and stores nothing', async () => {
    const before = await rows('rights_request');
    for (const payload of [
      { type: 'access' },
      { type: 'everything', email: 'a@example.com' },
      { type: 'access', email: 'not-an-address' },
      { type: 'access', email: 'a@example.com', details: 'x'.repeat(5001) },
    ]) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/requests', payload });
      assert.equal(res.statusCode, 400, JSON.stringify(payload));
      assert.equal(res.json().error.code, 'invalid_body');
    }
    assert.equal(await rows('rights_request'), before);
  });
});

describe('staff record a request that came by letter', () => {
  test('the deadline counts from the date received: 31 Dec 2026 → 1 Feb 2027 (31 Jan is a Sunday)', async () => {
    const res = await call(staff, 'POST', '/api/v1/staff/requests', { type: 'access', channel: 'post', receivedAt: '2026-12-31', name: 'Carol Example' });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().status, 'open');
    assert.equal(res.json().dueAt, '2027-02-01');
  });

  test('received 30 Dec 2026 → 1 Feb 2027 from 30 Jan, a Saturday; on behalf of a child, with the authority recorded', async () => {
    const res = await call(staff, 'POST', '/api/v1/staff/requests', {
      type: 'access',
      channel: 'email',
      receivedAt: '2026-12-30',
      email: 'parent@example.com',
      onBehalf: { name: 'Dee Parent', relationship: 'parent', authority: 'parental responsibility, birth certificate seen' },
    });
    assert.equal(res.json().dueAt, '2027-02-01');
    const shown = (await call(staff, 'GET', `/api/v1/requests/${res.json().id}`)).json();
    assert.equal(shown.onBehalf.relationship, 'parent');
    assert.match(shown.onBehalf.authority, /parental responsibility/);
  });

  test('a date in the future is refused', async () => {
    const res = await call(staff, 'POST', '/api/v1/staff/requests', { type: 'access', channel: 'post', receivedAt: '2027-02-02' });
    assert.equal(res.statusCode, 400);
  });

  test('pause for clarification (UK access), resume, extend within the first month, then close', async () => {
    const id = (await call(staff, 'POST', '/api/v1/staff/requests', { type: 'access', channel: 'post', receivedAt: '2027-01-04' })).json().id as string;
    const act = (path: string, json: unknown) => call(dpo, 'POST', `/api/v1/staff/requests/${id}/${path}`, json);
    // Staff may record; only a DPO or owner may move a request along.
    assert.equal((await call(staff, 'POST', `/api/v1/staff/requests/${id}/pause`, { justification: 'we hold ten years of scans' })).statusCode, 403);
    let r = await act('pause', { from: '2027-01-11', justification: 'Ten years of scans are held: which years does the request cover?' });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().dueAt, '2027-02-04', 'paused: the deadline stays until the answer arrives');
    r = await act('resume', { to: '2027-01-15' });
    // 4 Feb + 5 paused days (11-15 Jan, both included) = Tue 9 Feb.
    assert.equal(r.json().dueAt, '2027-02-09');
    assert.deepEqual(r.json().pauses, [
      { from: '2027-01-11', to: '2027-01-15', justification: 'Ten years of scans are held: which years does the request cover?' },
    ]);
    r = await act('extend', { months: 2, reason: 'The request covers many studies across several sites.', toldOn: '2027-02-01' });
    assert.equal(r.statusCode, 200, r.body);
    // 4 Apr 2027 + 5 days = Fri 9 Apr 2027.
    assert.equal(r.json().dueAt, '2027-04-09');
    assert.equal(r.json().extension.noticeBy, '2027-02-09');
    r = await act('close', { outcome: 'done' });
    assert.equal(r.json().status, 'completed');
    r = await act('pause', { justification: 'too late for this one now' });
    assert.equal(r.statusCode, 409);
  });

  test('a refusal is emailed with its reasons, the right to complain to the ICO and to a court', async () => {
    const id = (
      await call(staff, 'POST', '/api/v1/staff/requests', { type: 'erasure', channel: 'email', receivedAt: '2027-01-20', email: 'refused@example.com' })
    ).json().id as string;
    const r = await call(dpo, 'POST', `/api/v1/staff/requests/${id}/close`, { outcome: 'refused', reasons: ['manifestly-excessive'] });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().status, 'refused');
    const mail = await lastMailTo('refused@example.com');
    assert.match(mail.text, /manifestly excessive/);
    assert.match(mail.text, /Information Commissioner/);
    assert.match(mail.text, /courts/);
    const none = await call(dpo, 'POST', `/api/v1/staff/requests/${id}/close`, { outcome: 'refused', reasons: [] });
    assert.equal(none.statusCode, 409, 'already closed');
  });

  test('an extension told after the first month is refused; an erasure request cannot be paused', async () => {
    const id = (await call(staff, 'POST', '/api/v1/staff/requests', { type: 'erasure', channel: 'post', receivedAt: '2026-12-01' })).json().id as string;
    const r = await call(dpo, 'POST', `/api/v1/staff/requests/${id}/extend`, { months: 1, reason: 'Many records in several systems.' });
    assert.equal(r.statusCode, 409);
    assert.match(r.json().error.message, /by 2027-01-04/);
    const p = await call(dpo, 'POST', `/api/v1/staff/requests/${id}/pause`, { justification: 'Which records do you mean?' });
    assert.equal(p.statusCode, 409);
  });

  test('asking for proof of identity moves the start of the clock to the day it arrives (UK)', async () => {
    const id = (await call(staff, 'POST', '/api/v1/staff/requests', { type: 'access', channel: 'phone', receivedAt: '2027-01-05' })).json().id as string;
    let r = await call(dpo, 'POST', `/api/v1/staff/requests/${id}/ask-identity`, { askedOn: '2027-01-05' });
    assert.equal(r.json().awaitingIdentity, true);
    r = await call(dpo, 'POST', `/api/v1/staff/requests/${id}/verify`, {
      method: 'document-seen',
      seen: 'passport, last digits 123',
      receivedOn: '2027-01-12',
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().awaitingIdentity, false);
    assert.equal(r.json().relevantOn, '2027-01-12');
    assert.equal(r.json().dueAt, '2027-02-12');
    assert.equal(r.json().verification.seen, 'passport, last digits 123');
  });

  test('the queue lists open requests soonest due first, with flags', async () => {
    const r = await call(staff, 'GET', '/api/v1/staff/requests');
    const list = r.json().requests as { dueAt: string; flag: string; status: string }[];
    assert.ok(list.length >= 4);
    assert.deepEqual(
      list.map((x) => x.dueAt),
      [...list.map((x) => x.dueAt)].sort(),
    );
    assert.ok(list.every((x) => x.status === 'open' || x.status === 'unconfirmed'));
    // Today is 1 Feb 2027: a request due today is due soon, none is overdue yet.
    assert.ok(list.some((x) => x.dueAt === '2027-02-01' && x.flag === 'due-soon'));
  });
});

describe('linking people and the disclosure ledger', () => {
  let subjectId: string;
  before(async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('req', 1) });
    assert.equal(res.statusCode, 201, res.body);
    subjectId = res.json().subjectId;
  });

  test('staff link the person a request is about; an unknown id is refused', async () => {
    const id = (await call(staff, 'POST', '/api/v1/staff/requests', { type: 'access', channel: 'email', receivedAt: '2027-01-20' })).json().id as string;
    let r = await call(dpo, 'POST', `/api/v1/staff/requests/${id}/link`, { subject: subjectId });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json().subjects, [subjectId]);
    r = await call(dpo, 'POST', `/api/v1/staff/requests/${id}/link`, { subject: '00000000-0000-4000-8000-000000000000' });
    assert.equal(r.statusCode, 404);
  });

  test('a disclosure to a recipient the register names for the purpose is recorded with the records sent', async () => {
    const r = await call(staff, 'POST', '/api/v1/staff/disclosures', {
      subject: subjectId,
      recipient: 'imaging-centres',
      purpose: 'provide-scan',
      reference: 'ORDER-1',
    });
    assert.equal(r.statusCode, 201, r.body);
    assert.deepEqual(r.json().categories, ['patient-contact', 'scan-request']);
    assert.ok(r.json().recordIds.length >= 5);
    const audit = (await t.audits()).filter((e) => e.action === 'disclosure');
    assert.equal(audit.length, 1);
    assert.equal(audit[0]!.subjectId, subjectId);
  });

  test('a recipient the purpose does not name, or a category it does not use, is refused and nothing recorded', async () => {
    const before = await rows('disclosure');
    for (const json of [
      { subject: subjectId, recipient: 'paypal', purpose: 'provide-scan' },
      { subject: subjectId, recipient: 'nobody', purpose: 'provide-scan' },
      { subject: subjectId, recipient: 'imaging-centres', purpose: 'provide-scan', categories: ['session'] },
      { subject: subjectId, recipient: 'authorities', purpose: 'healthcare-records', categories: ['order'] },
    ]) {
      const r = await call(staff, 'POST', '/api/v1/staff/disclosures', json);
      assert.equal(r.statusCode, 409, JSON.stringify(json));
      assert.equal(r.json().error.code, 'disclosure_refused');
    }
    const other = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('req', 2) });
    const foreign = other.json().recordIds[0] as string;
    const r = await call(staff, 'POST', '/api/v1/staff/disclosures', {
      subject: subjectId,
      recipient: 'imaging-centres',
      purpose: 'provide-scan',
      records: [foreign],
    });
    assert.equal(r.statusCode, 404);
    assert.equal(await rows('disclosure'), before);
  });
});

test('an EU request cannot be paused, and its deadline follows the holidays of Mecklenburg-Western Pomerania', async () => {
  const eu = await testApp('image-information-systems', { now: '2027-03-01T10:00:00Z' });
  try {
    const dpoEu = await eu.signedIn('dpo');
    // Received Mon 8 Feb 2027 → 8 Mar 2027, International Women's Day, a public holiday in MV: Tue 9 Mar.
    const r = await call(dpoEu, 'POST', '/api/v1/staff/requests', { type: 'access', channel: 'email', receivedAt: '2027-02-08' });
    assert.equal(r.json().dueAt, '2027-03-09');
    const p = await call(dpoEu, 'POST', `/api/v1/staff/requests/${r.json().id}/pause`, { justification: 'Which systems do you mean?' });
    assert.equal(p.statusCode, 409);
    assert.match(p.json().error.message, /EU/);
  } finally {
    await eu.close();
  }
});
