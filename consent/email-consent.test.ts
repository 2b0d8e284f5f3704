// Email consent ticked on a public form counts only once confirmed from that mailbox: the IT firm's contact form,
// read from a real SMTP server. The tick is pending; the address the form gave is mailed a signed, expiring link whose
// page has a Confirm button (opening it confirms nothing); pressing it gives the consent by email link, once. An
// address someone else typed in gets no marketing until its owner presses the button, and one mail at a time.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { parseRegister } from '../register/load-register.ts';
import { subjectPeople } from '../subjects/people.ts';
import { headersOf, partOf, type SmtpSink, smtpSink } from '../test/helpers/smtp-sink.ts';
import { staffApi } from '../test/helpers/staff-api.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { withdrawHeldConsents } from '../test/helpers/withdraw-consents.ts';
import { purgeLapsedEmailConsents } from './email-consent.ts';
import { contactHash, mayMarket, suppressHashes } from './marketing.ts';

let t: TestApp;
let sink: SmtpSink;
before(async () => {
  sink = await smtpSink();
  t = await testApp('i-image-it', { smtp: { url: sink.url(), from: 'info@i-image.example' } });
});
after(async () => {
  await t?.close();
  await sink?.close();
});

const contact = (email: string | undefined, extra: Record<string, unknown> = {}) =>
  t.app.inject({
    method: 'POST',
    url: '/api/v1/collect/contact-form',
    payload: { name: 'Ann Example', ...(email ? { email } : {}), message: 'Please tell me more', 'marketing.email': true, ...extra },
  });
async function submitted(email: string | undefined, extra: Record<string, unknown> = {}): Promise<string> {
  const res = await contact(email, extra);
  assert.equal(res.statusCode, 201, res.body);
  return (res.json() as { subjectId: string }).subjectId;
}
const emailVerdict = (subjectId: string) => mayMarket(t.ctx, subjectPeople, { subjectId, purpose: 'marketing-consent', channel: 'email' });
async function mailsTo(address: string) {
  await t.ctx.mailer.flush();
  return sink.received.filter((r) => r.envelopeTo.includes(address)).map((m) => ({ headers: headersOf(m.raw), text: partOf(m.raw, 'text/plain') ?? '' }));
}
const linkIn = (text: string) => {
  const m = /http:\/\/localhost:8080(\/consent\/confirm\?token=[A-Za-z0-9_.-]+&lang=(?:en|de))/.exec(text);
  assert.ok(m, `no confirmation link in ${text.slice(0, 400)}`);
  return m[1]!;
};
const tokenOf = (path: string) => new URL(path, 'http://x').searchParams.get('token')!;
const press = (token: string) =>
  t.app.inject({ method: 'POST', url: '/consent/confirm', payload: `token=${token}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
const ledger = async (subjectId: string) =>
  (
    await sql<{ id: string; purpose: string; channel: string | null; state: string; method: string; expires_at: Date | null; context: string | null }>`
      SELECT id::text AS id, purpose, channel, state, method, expires_at, context FROM consent_event WHERE subject_id = ${subjectId} ORDER BY at, state`.execute(
      t.db.kysely,
    )
  ).rows;

test('a tick for email on the contact form is pending until the Confirm button in the mail to that address is pressed, once', async () => {
  const address = 'ann@example.com';
  const subjectId = await submitted(address);
  const [pending] = await ledger(subjectId);
  assert.deepEqual(
    { ...pending, id: undefined },
    {
      id: undefined,
      purpose: 'marketing-consent',
      channel: 'email',
      state: 'pending',
      method: 'form',
      expires_at: new Date('2026-11-29T09:00:00Z'), // P7D, the default confirm-within
      context: null,
    },
  );
  assert.deepEqual(await emailVerdict(subjectId), { allowed: false, reason: 'consent-unconfirmed' });

  const mails = await mailsTo(address);
  assert.equal(mails.length, 1);
  assert.equal(mails[0]!.headers.get('subject'), 'Please confirm that i-Image IT Limited may email you');
  assert.match(mails[0]!.text, /Send you marketing by email, phone or text message that you asked for/);
  assert.match(mails[0]!.text, /The link works until 29 November 2026/);
  const link = linkIn(mails[0]!.text);

  // Opening the link (a mail scanner does) shows the button and records nothing.
  const opened = await t.app.inject({ url: link });
  assert.equal(opened.statusCode, 200);
  assert.match(
    opened.body,
    /<form method="post" action="\/consent\/confirm\?lang=en"><input type="hidden" name="token" value="[^"]+"><button type="submit">Confirm<\/button>/,
  );
  assert.equal(opened.headers['cache-control'], 'no-store');
  assert.equal((await ledger(subjectId)).length, 1);
  assert.deepEqual(await emailVerdict(subjectId), { allowed: false, reason: 'consent-unconfirmed' });

  t.clock.advance(60_000);
  const confirmed = await press(tokenOf(link));
  assert.equal(confirmed.statusCode, 200, confirmed.body);
  assert.match(confirmed.body, /your consent is confirmed/);
  assert.deepEqual(await emailVerdict(subjectId), { allowed: true, reason: 'consent' });
  const events = await ledger(subjectId);
  assert.deepEqual(
    events.map((e) => [e.state, e.method, e.channel, e.context]),
    [
      ['pending', 'form', 'email', null],
      ['given', 'email-link', 'email', `confirms:${pending!.id}`],
    ],
  );
  const state = (await t.app.inject({ url: `/api/v1/consent/${subjectId}` })).json();
  assert.equal(state.purposes['marketing-consent'].channels.email.state, 'given');
  assert.equal(state.purposes['marketing-consent'].channels.email.method, 'email-link');

  // Audited by ids and codes; the address is in neither the ledger nor the trail.
  const audit = (await t.audits()).filter((e) => e.action === 'consent.record' && e.subjectId === subjectId && e.detail.method === 'email-link');
  assert.equal(audit.length, 1);
  assert.equal(audit[0]!.detail.confirms, pending!.id);
  const dump = await sql<{ t: string }>`
    SELECT (SELECT coalesce(string_agg(c::text, ' '), '') FROM consent_event c) || (SELECT coalesce(string_agg(a::text, ' '), '') FROM audit_event a)
           || (SELECT coalesce(string_agg(k::text, ' '), '') FROM consent_confirmation k) AS t`.execute(t.db.kysely);
  assert.ok(!dump.rows[0]!.t.includes('ann@'), 'no address in the ledger, the confirmations or the trail');

  // A link works once: pressing again, or opening it again, does nothing.
  assert.equal((await press(tokenOf(link))).statusCode, 404);
  assert.equal((await t.app.inject({ url: link })).statusCode, 404);
  assert.equal((await ledger(subjectId)).filter((e) => e.method === 'email-link').length, 1);
});

test("someone else's address: no marketing permission until its owner presses the button; one mail at a time; unconfirmed, it lapses", async () => {
  const victim = 'bea@victim.example';
  const start = t.clock.now();
  const first = await submitted(victim, { name: 'Mallory' });
  assert.deepEqual(await emailVerdict(first), { allowed: false, reason: 'consent-unconfirmed' });
  // The link goes to the mailbox typed in, never back to whoever typed it.
  const [mail] = await mailsTo(victim);
  const link = linkIn(mail!.text);

  // Submitting again while the link is out sends nothing more: nobody can flood a mailbox through the form.
  const again = await Promise.all([submitted(victim), submitted(victim.toUpperCase()), submitted(victim)]);
  assert.equal((await mailsTo(victim)).length, 1);
  for (const id of again) assert.deepEqual(await emailVerdict(id), { allowed: false, reason: 'consent-unconfirmed' });

  try {
    // The week runs out unconfirmed: the consent has lapsed, the link does nothing, nothing is sent.
    t.clock.advance(7 * 86_400_000 + 1000);
    assert.deepEqual(await emailVerdict(first), { allowed: false, reason: 'consent-unconfirmed' });
    const state = (await t.app.inject({ url: `/api/v1/consent/${first}` })).json();
    assert.equal(state.purposes['marketing-consent'].channels.email.state, 'expired');
    assert.equal(state.purposes['marketing-consent'].channels.email.since, new Date(start.getTime() + 7 * 86_400_000).toISOString());
    assert.equal((await t.app.inject({ url: link })).statusCode, 404);
    assert.equal((await press(tokenOf(link))).statusCode, 404);
    assert.deepEqual(
      (await ledger(first)).map((e) => e.state),
      ['pending'],
    );
    // The lapsed confirmations are deleted by the hourly job, audited by count.
    assert.equal(await purgeLapsedEmailConsents(t.ctx), 1);
    assert.equal(await purgeLapsedEmailConsents(t.ctx), 0);
    const purge = (await t.audits()).filter((e) => e.actor === 'system:email-consent');
    assert.deepEqual(purge.at(-1)!.detail, { state: 'expired', unconfirmed: 1 });
    // Once the first link has run out, a new submission sends a new one.
    await submitted(victim);
    assert.equal((await mailsTo(victim)).length, 2);
  } finally {
    t.clock.set(start.toISOString());
  }
});

test('nothing is sent to an address on the suppression list for email; its tick stays pending and never counts', async () => {
  const address = 'gone@example.com';
  const hash = await contactHash(t.ctx, t.db.kysely, 'email', address);
  await t.db.kysely
    .transaction()
    .execute((trx) => suppressHashes(t.ctx, trx, { hashes: [hash], channels: ['email'], reason: 'unsubscribed', subjectId: null, actor: 'system:test' }));
  const subjectId = await submitted(address);
  assert.equal((await mailsTo(address)).length, 0);
  assert.deepEqual(
    (await ledger(subjectId)).map((e) => e.state),
    ['pending'],
  );
  assert.deepEqual(await emailVerdict(subjectId), { allowed: false, reason: 'suppressed' });
});

test('a tick for the phone counts at once; only email waits for its mailbox', async () => {
  const address = 'phone@example.com';
  const subjectId = await submitted(address, { 'marketing.email': false, 'marketing.phone': true, phone: '+44 20 7946 0001' });
  assert.equal((await mailsTo(address)).length, 0);
  assert.deepEqual(await mayMarket(t.ctx, subjectPeople, { subjectId, purpose: 'marketing-consent', channel: 'phone' }), {
    allowed: true,
    reason: 'consent',
  });
});

test('forged, altered or foreign links, and a link of another kind, change nothing', async () => {
  const address = 'forge@example.com';
  const subjectId = await submitted(address);
  const token = tokenOf(linkIn((await mailsTo(address))[0]!.text));
  const altered = `${token.slice(0, 5)}${token[5] === 'A' ? 'B' : 'A'}${token.slice(6)}`;
  for (const bad of [altered, 'x', '', `${token}x`]) {
    assert.equal((await press(bad)).statusCode, 404, bad);
    assert.equal((await t.app.inject({ url: `/consent/confirm?token=${encodeURIComponent(bad)}` })).statusCode, 404);
  }
  assert.equal((await t.app.inject({ url: '/consent/confirm' })).statusCode, 404);
  // Too long to be a link: refused at the edge with its code.
  const long = await t.app.inject({ url: `/consent/confirm?token=${'a'.repeat(300)}` });
  assert.equal(long.statusCode, 400);
  assert.equal(long.json().error.code, 'invalid_query');
  // The newsletter's links are signed with the same secret but are another kind: not a consent confirmation.
  assert.equal((await t.app.inject({ method: 'POST', url: `/unsubscribe?token=${token}` })).statusCode, 404);
  assert.deepEqual(
    (await ledger(subjectId)).map((e) => e.state),
    ['pending'],
  );
  // The real link still works, once, even pressed twice at the same moment.
  t.clock.advance(1000);
  const both = await Promise.all([press(token), press(token)]);
  assert.deepEqual(both.map((r) => r.statusCode).sort(), [200, 404]);
  assert.deepEqual(
    (await ledger(subjectId)).map((e) => e.state),
    ['pending', 'given'],
  );
});

test('staff recording a letter with the box ticked vouch for it: given at once, no mail', async () => {
  const staff = await t.signedIn('staff');
  const res = await staffApi(staff, 'POST', '/api/v1/staff/collect/contact-form', {
    channel: 'post',
    receivedAt: '2026-11-20',
    fields: { name: 'Carl Letter', email: 'carl@example.com', message: 'By post', 'marketing.email': true },
  });
  assert.equal(res.statusCode, 201, res.body);
  const { subjectId } = res.json() as { subjectId: string };
  assert.deepEqual(
    (await ledger(subjectId)).map((e) => [e.state, e.method]),
    [['given', 'staff']],
  );
  assert.equal((await mailsTo('carl@example.com')).length, 0);
});

test('a form without an email value sends nothing: the tick stays pending and lapses', async () => {
  const yaml = readFileSync(new URL('../examples/i-image-it/register.yaml', import.meta.url), 'utf8');
  const required = 'email: { data: contact, type: email, required: true, identifier: email, label: Email address }';
  assert.ok(yaml.includes(required));
  const parsed = parseRegister(yaml.replace(required, 'email: { data: contact, type: email, identifier: email, label: Email address }'));
  assert.ok(parsed.ok);
  const own = await testApp('i-image-it', { register: parsed.register, smtp: { url: sink.url(), from: 'info@i-image.example' } });
  try {
    const before = sink.received.length;
    const res = await own.app.inject({
      method: 'POST',
      url: '/api/v1/collect/contact-form',
      payload: { name: 'No Mail', phone: '+44 20 7946 0002', message: 'Call me', 'marketing.email': true },
    });
    assert.equal(res.statusCode, 201, res.body);
    await own.ctx.mailer.flush();
    assert.equal(sink.received.length, before);
    const { subjectId } = res.json() as { subjectId: string };
    const { rows } = await sql<{ state: string }>`SELECT state FROM consent_event WHERE subject_id = ${subjectId}`.execute(own.db.kysely);
    assert.deepEqual(
      rows.map((r) => r.state),
      ['pending'],
    );
    assert.equal((await own.db.kysely.selectFrom('consent_confirmation').select('event_id').execute()).length, 0);
  } finally {
    await own.close();
  }
});

test('withdrawn before it is confirmed (a withdrawal request): the link then confirms nothing', async () => {
  const address = 'withdraws.early@example.com';
  const subjectId = await submitted(address);
  const [mail] = await mailsTo(address);
  const link = linkIn(mail!.text);
  t.clock.advance(60_000);
  // What fulfilling a withdraw-consent request records for a consent awaiting confirmation.
  const held = await t.db.kysely.transaction().execute((trx) => withdrawHeldConsents(t, trx, subjectId));
  assert.deepEqual(held, [{ subjectId, purpose: 'marketing-consent', channel: 'email' }]);
  t.clock.advance(60_000);
  const pressed = await press(tokenOf(link));
  assert.doesNotMatch(pressed.body, /your consent is confirmed/);
  assert.deepEqual(
    (await ledger(subjectId)).map((e) => e.state),
    ['pending', 'withdrawn'],
  );
  assert.deepEqual(await emailVerdict(subjectId), { allowed: false, reason: 'withdrawn' });
});
