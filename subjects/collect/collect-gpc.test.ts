// Global Privacy Control on form submissions: `Sec-GPC: 1` (exactly) with a hosted form or a collection API call
// records, for the person, legitimate-interest marketing and profiling as objected to and every consent purpose the
// form does not tick as refused, method gpc; a box ticked on the form stays a consent. The objection stops that
// marketing at once and suppresses the address on its channels; the hosted form says the signal was honoured.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { contactHash, mayMarket } from '../../consent/marketing.ts';
import { testApp, type TestApp } from '../../test/helpers/test-app.ts';
import { subjectPeople } from '../people.ts';

let it: TestApp; // the IT firm: email, phone and SMS marketing on consent, post on legitimate interests
let iq: TestApp; // the German vendor: bilingual forms, a newsletter on consent
let idt: TestApp; // the scan-referral service: product news by email and post on legitimate interests
before(async () => {
  it = await testApp('i-image-it');
  iq = await testApp('image-information-systems');
  idt = await testApp('image-diagnostic-technology');
});
after(async () => {
  await it?.close();
  await iq?.close();
  await idt?.close();
});

const contactForm = (email: string, headers: Record<string, string | string[]> = {}, extra: Record<string, unknown> = {}) =>
  it.app.inject({
    method: 'POST',
    url: '/api/v1/collect/contact-form',
    headers,
    payload: { name: 'Gina Private', email, message: 'A question', ...extra },
  });
async function subjectOf(res: { statusCode: number; body: string; json(): unknown }): Promise<string> {
  assert.equal(res.statusCode, 201, res.body);
  return (res.json() as { subjectId: string }).subjectId;
}
async function ledgerOf(t: TestApp, subjectId: string): Promise<string[]> {
  const { rows } = await sql<{ purpose: string; channel: string | null; state: string; method: string }>`
    SELECT purpose, channel, state, method FROM consent_event WHERE subject_id = ${subjectId}`.execute(t.db.kysely);
  return rows.map((r) => `${r.purpose}/${r.channel ?? '*'}: ${r.state} (${r.method})`).sort();
}
const verdict = (subjectId: string, purpose: string, channel: string) => mayMarket(it.ctx, subjectPeople, { subjectId, purpose, channel });

test('Sec-GPC: 1 on the contact form: post marketing objected to and suppressed, untouched consents refused, the ticked email box still a consent', async () => {
  const address = 'gina@example.com';
  const subjectId = await subjectOf(await contactForm(address, { 'sec-gpc': '1' }, { 'marketing.email': true }));
  assert.deepEqual(await ledgerOf(it, subjectId), [
    'analytics-cookies/*: refused (gpc)',
    'marketing-consent/email: pending (form)',
    'marketing-consent/phone: refused (gpc)',
    'marketing-consent/sms: refused (gpc)',
    'marketing-post/*: objected (gpc)',
  ]);
  // Marketing stops at once where GPC objected or refused; the tick waits for its mailbox as any tick does.
  assert.deepEqual(await verdict(subjectId, 'marketing-post', 'post'), { allowed: false, reason: 'objected' });
  assert.deepEqual(await verdict(subjectId, 'marketing-consent', 'phone'), { allowed: false, reason: 'refused' });
  assert.deepEqual(await verdict(subjectId, 'marketing-consent', 'sms'), { allowed: false, reason: 'refused' });
  assert.deepEqual(await verdict(subjectId, 'marketing-consent', 'email'), { allowed: false, reason: 'consent-unconfirmed' });

  // The address is suppressed for post (the channel objected to), not for email (the channel ticked).
  const hash = await contactHash(it.ctx, it.db.kysely, 'email', address);
  const { rows } = await sql<{ channel: string; reason: string }>`SELECT channel, reason FROM marketing_suppression WHERE hash = ${hash}`.execute(it.db.kysely);
  assert.deepEqual(rows, [{ channel: 'post', reason: 'objected' }]);
  // So the same address as someone new, without the signal, is still not sent post.
  const again = await subjectOf(await contactForm(address));
  assert.deepEqual(await verdict(again, 'marketing-post', 'post'), { allowed: false, reason: 'suppressed' });

  // Audited by counts and codes, never the address.
  const events = (await it.audits()).filter((e) => e.subjectId === subjectId);
  assert.ok(events.some((e) => e.action === 'consent.record' && e.detail.method === 'gpc' && e.detail.objected === 1 && e.detail.refused === 3));
  assert.ok(events.some((e) => e.action === 'marketing.suppress' && e.detail.reason === 'objected' && e.detail.channels === 'post'));
  assert.ok(!JSON.stringify(events).includes('gina'));
});

test('GPC objects to product news by email and post; a marketing email box ticked on the same form keeps email off the suppression list', async () => {
  const address = 'hugo@example.com';
  const res = await idt.app.inject({
    method: 'POST',
    url: '/api/v1/collect/enquiry-form',
    headers: { 'sec-gpc': '1' },
    payload: { name: 'Hugo Enquirer', email: address, message: 'Scans?', marketing: true },
  });
  const subjectId = await subjectOf(res);
  assert.deepEqual(await ledgerOf(idt, subjectId), ['marketing-consent/email: pending (form)', 'product-news/*: objected (gpc)']);
  const hash = await contactHash(idt.ctx, idt.db.kysely, 'email', address);
  const { rows } = await sql<{ channel: string }>`SELECT channel FROM marketing_suppression WHERE hash = ${hash}`.execute(idt.db.kysely);
  assert.deepEqual(
    rows.map((r) => r.channel),
    ['post'],
  );
  const idtVerdict = (purpose: string, channel: string) => mayMarket(idt.ctx, subjectPeople, { subjectId, purpose, channel });
  assert.deepEqual(await idtVerdict('product-news', 'email'), { allowed: false, reason: 'objected' });
  assert.deepEqual(await idtVerdict('marketing-consent', 'email'), { allowed: false, reason: 'consent-unconfirmed' });
});

test('only "1" is the signal: other values, or no header, record nothing for GPC; nor does a staff member\'s browser', async () => {
  for (const value of ['0', 'true', 'yes', '1, 1', '']) {
    const subjectId = await subjectOf(await contactForm(`other-${value.length}@example.com`, { 'sec-gpc': value }));
    assert.deepEqual(await ledgerOf(it, subjectId), [], JSON.stringify(value));
  }
  const twice = await subjectOf(await contactForm('twice@example.com', { 'sec-gpc': ['1', '1'] }));
  assert.deepEqual(await ledgerOf(it, twice), []);
  const plain = await subjectOf(await contactForm('plain@example.com'));
  assert.deepEqual(await ledgerOf(it, plain), []);
  assert.deepEqual(await verdict(plain, 'marketing-post', 'post'), { allowed: true, reason: 'opt-out' });

  const staff = await it.signedIn('staff');
  const res = await staff.request({
    method: 'POST',
    url: '/api/v1/staff/collect/contact-form',
    html: false,
    json: { channel: 'post', receivedAt: '2026-11-20', fields: { name: 'Lettie Post', email: 'lettie@example.com', message: 'By post' } },
    headers: { 'x-csrf-token': await staff.csrf(), 'sec-gpc': '1' },
  });
  assert.deepEqual(await ledgerOf(it, await subjectOf(res)), []);
});

test('the hosted form honours the signal and says so, in English and in German', async () => {
  const form = await iq.app.inject({ url: '/forms/contact-form', headers: { 'sec-gpc': '1' } });
  assert.equal(form.statusCode, 200);
  assert.match(form.body, /<p class="notice" data-gpc>Your browser sends a Global Privacy Control signal, and we honour it/);
  assert.doesNotMatch((await iq.app.inject({ url: '/forms/contact-form' })).body, /data-gpc/);

  iq.clock.advance(1000);
  const posted = await iq.app.inject({
    method: 'POST',
    url: '/forms/contact-form?lang=de',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-gpc': '1' },
    payload: new URLSearchParams({ topic: 'Contact', name: 'Greta Signal', email: 'greta@example.de', agree: 'yes', message: 'Eine Frage' }).toString(),
  });
  assert.equal(posted.statusCode, 303, posted.body);
  assert.equal(posted.headers.location, '/forms/contact-form/thanks?lang=de');
  const thanks = await iq.app.inject({ url: posted.headers.location, headers: { 'sec-gpc': '1' } });
  assert.match(thanks.body, /<p class="notice" data-gpc>Ihr Browser hat das Signal „Global Privacy Control“ gesendet, und wir haben es beachtet/);
  assert.doesNotMatch((await iq.app.inject({ url: posted.headers.location })).body, /data-gpc/);

  const { rows } = await sql<{ subject_id: string }>`
    SELECT subject_id::text AS subject_id FROM consent_event WHERE collection_point = 'contact-form' ORDER BY at DESC LIMIT 1`.execute(iq.db.kysely);
  assert.deepEqual(await ledgerOf(iq, rows[0]!.subject_id), [
    'analytics/*: refused (gpc)',
    'contact-forms/*: given (form)',
    'marketing-post/*: objected (gpc)',
    'newsletter/*: refused (gpc)',
  ]);
});

test('a newsletter tick on the German hosted form: the thanks page says a confirmation mail went out, and the mail is German', async () => {
  iq.clock.advance(1000);
  const posted = await iq.app.inject({
    method: 'POST',
    url: '/forms/newsletter-signup?lang=de',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ email: 'leser@example.de', subscribe: 'yes' }).toString(),
  });
  assert.equal(posted.statusCode, 303, posted.body);
  assert.equal(posted.headers.location, '/forms/newsletter-signup/thanks?lang=de&confirm=email');
  const thanks = await iq.app.inject({ url: posted.headers.location });
  assert.match(thanks.body, /<p data-confirm-email>Wir haben Ihnen eine E-Mail geschickt/);
  const mail = await iq.db.kysely.selectFrom('mail_outbox').select(['subject_line', 'body_text']).where('kind', '=', 'consent-confirm').execute();
  assert.equal(mail.length, 1);
  assert.equal(mail[0]!.subject_line, `Bitte bestätigen Sie, dass ${iq.register.controller.name} Ihnen E-Mails senden darf`);
  assert.match(mail[0]!.body_text, /\/consent\/confirm\?token=[A-Za-z0-9_.-]+&lang=de/);
  // The page behind the link speaks German too.
  const link = /\/consent\/confirm\?token=[A-Za-z0-9_.-]+&lang=de/.exec(mail[0]!.body_text)![0];
  const page = await iq.app.inject({ url: link });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /<html lang="de">/);
  assert.match(page.body, /<button type="submit">Bestätigen<\/button>/);

  // Without a tick, no mail and no such sentence.
  const plain = await iq.app.inject({
    method: 'POST',
    url: '/forms/newsletter-signup?lang=de',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ email: 'nur-lesen@example.de' }).toString(),
  });
  assert.equal(plain.statusCode, 400, 'the newsletter form keeps nothing without its consent');
  assert.doesNotMatch(plain.body, /data-confirm-email/);
  assert.equal((await iq.db.kysely.selectFrom('mail_outbox').select('id').where('kind', '=', 'consent-confirm').execute()).length, 1);
});
