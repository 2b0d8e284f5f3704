// The German vendor's newsletter, double opt-in, read from a real SMTP server: the signed, expiring confirmation link;
// a page with a Confirm button (opening it confirms nothing); every issue with an unsubscribe link and the RFC 8058
// headers; one-click unsubscribing deletes the sign-up and leaves only the suppression entry.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { headersOf, partOf, type SmtpSink, smtpSink } from '../test/helpers/smtp-sink.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { purgeUnconfirmed, sendIssue } from './newsletter.ts';

let t: TestApp;
let sink: SmtpSink;
before(async () => {
  sink = await smtpSink();
  t = await testApp('image-information-systems', { smtp: { url: sink.url(), from: 'info@iq-image.example' } });
});
after(async () => {
  await t?.close();
  await sink?.close();
});

const subscribe = (payload: object) => t.app.inject({ method: 'POST', url: '/api/v1/newsletter/subscribe', payload });
async function lastMailTo(address: string) {
  await t.ctx.mailer.flush();
  const m = sink.received.filter((r) => r.envelopeTo.includes(address)).at(-1);
  assert.ok(m, `no mail to ${address}`);
  return { headers: headersOf(m.raw), text: partOf(m.raw, 'text/plain') ?? m.raw };
}
const decodeQp = (s: string) => s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
const linkIn = (text: string, path: string) => {
  const m = new RegExp(`https?://[^\\s]+${path}\\?token=([A-Za-z0-9_.-]+)`).exec(decodeQp(text));
  assert.ok(m, `no ${path} link in ${text.slice(0, 300)}`);
  return m[1]!;
};
const stateOf = async (email: string) =>
  (await sql<{ state: string }>`SELECT state FROM newsletter_subscriber WHERE email = ${email}`.execute(t.db.kysely)).rows[0]?.state ?? null;

test('sign-up, confirmation by button, an issue with RFC 8058 headers, one-click unsubscribe, and never again', async () => {
  const email = 'anna@klinik.example';
  const res = await subscribe({ email, language: 'de', interests: ['User forum'] });
  assert.equal(res.statusCode, 202, res.body);
  assert.equal(await stateOf(email), 'pending');

  const confirmation = await lastMailTo(email);
  const subject = (confirmation.headers.get('subject') ?? '').replace(/=\?UTF-8\?Q\?(.*?)\?=\s*/g, (_, q: string) =>
    Buffer.from(decodeQp(q.replaceAll('_', ' ')), 'latin1').toString('utf8'),
  );
  assert.equal(subject, `Bitte bestätigen Sie Ihre Newsletter-Anmeldung bei ${t.register.controller.name}`);
  const token = linkIn(confirmation.text, '/newsletter/confirm');

  // Opening the link (a mail scanner does) shows a button and confirms nothing.
  const opened = await t.app.inject({ url: `/newsletter/confirm?token=${token}` });
  assert.equal(opened.statusCode, 200);
  assert.match(opened.body, /<form method="post" action="\/newsletter\/confirm">/);
  assert.match(opened.body, /<button type="submit">/);
  assert.equal(await stateOf(email), 'pending');
  // Not a consent yet: the ledger says pending.
  const pending = await sql<{ state: string; method: string }>`SELECT state, method FROM consent_event WHERE purpose = 'newsletter' ORDER BY at, state`.execute(
    t.db.kysely,
  );
  assert.deepEqual(pending.rows, [{ state: 'pending', method: 'form' }]);

  t.clock.advance(60_000);
  const confirmed = await t.app.inject({
    method: 'POST',
    url: '/newsletter/confirm',
    payload: `token=${token}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(confirmed.statusCode, 200);
  assert.equal(await stateOf(email), 'confirmed');
  const again = await t.app.inject({
    method: 'POST',
    url: '/newsletter/confirm',
    payload: `token=${token}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(again.statusCode, 404, 'a used link does not work twice');

  assert.equal(await sendIssue(t.ctx, { subjectLine: 'Neue Version 4.2', text: 'Was ist neu …', publicUrl: 'https://iq.example', actor: 'staff:test' }), 1);
  const issue = await lastMailTo(email);
  const listUnsubscribe = issue.headers.get('list-unsubscribe') ?? '';
  assert.match(listUnsubscribe, /^<https:\/\/iq\.example\/unsubscribe\?token=[A-Za-z0-9_.-]+>$/);
  assert.equal(issue.headers.get('list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
  const unsubscribeToken = linkIn(issue.text, '/unsubscribe');
  assert.match(decodeQp(issue.text), /Abmelden mit einem Klick/);
  assert.match(decodeQp(issue.text), new RegExp(t.register.controller.name));

  // RFC 8058 one click: a POST to the header's URL with List-Unsubscribe=One-Click.
  t.clock.advance(60_000);
  const one = await t.app.inject({
    method: 'POST',
    url: `/unsubscribe?token=${unsubscribeToken}`,
    payload: 'List-Unsubscribe=One-Click',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(one.statusCode, 200, one.body);
  assert.equal(await stateOf(email), null, 'the sign-up and its address are deleted');
  const left = await sql<{ n: string }>`SELECT count(*)::text AS n FROM marketing_suppression WHERE reason = 'unsubscribed' AND channel = 'email'`.execute(
    t.db.kysely,
  );
  assert.equal(left.rows[0]!.n, '1');
  const events = await sql<{ state: string }>`SELECT state FROM consent_event WHERE purpose = 'newsletter' ORDER BY at, state`.execute(t.db.kysely);
  assert.deepEqual(
    events.rows.map((r) => r.state),
    ['pending', 'given', 'withdrawn'],
  );
  const dump = await sql<{
    t: string;
  }>`SELECT (SELECT coalesce(string_agg(c::text, ' '), '') FROM consent_event c) || (SELECT coalesce(string_agg(a::text, ' '), '') FROM audit_event a) AS t`.execute(
    t.db.kysely,
  );
  assert.ok(!dump.rows[0]!.t.includes('anna@'), 'the ledger and the trail never held the address');

  // Unsubscribed: signing up again sends nothing, and says the same.
  const before = sink.received.length;
  assert.equal((await subscribe({ email: 'ANNA@klinik.example' })).statusCode, 202);
  await t.ctx.mailer.flush();
  assert.equal(sink.received.length, before);
  assert.equal(await sendIssue(t.ctx, { subjectLine: 'x', text: 'y', publicUrl: 'https://iq.example', actor: 'staff:test' }), 0);
});

test('an unconfirmed sign-up: its link expires with the declared period and the sign-up is purged', async () => {
  const email = 'late@klinik.example';
  assert.equal((await subscribe({ email })).statusCode, 202);
  const token = linkIn((await lastMailTo(email)).text, '/newsletter/confirm');
  // Asking again while it is pending sends nothing: nobody can flood a mailbox with sign-ups.
  const sent = sink.received.length;
  const twice = await Promise.all([subscribe({ email }), subscribe({ email })]);
  assert.deepEqual(
    twice.map((r) => r.statusCode),
    [202, 202],
  );
  await t.ctx.mailer.flush();
  assert.equal(sink.received.length, sent);
  const start = t.clock.now();
  t.clock.advance(3 * 86_400_000 + 1000); // confirm-within: P3D
  try {
    assert.equal((await t.app.inject({ url: `/newsletter/confirm?token=${token}` })).statusCode, 404);
    assert.equal(await purgeUnconfirmed(t.ctx), 1);
    assert.equal(await stateOf(email), null);
  } finally {
    t.clock.set(start.toISOString());
  }
});

test('malformed sign-ups are refused; forged or altered links do nothing', async () => {
  for (const body of [{ email: 'not-an-address' }, { email: 'a@b.example', interests: ['Gossip'] }, { email: 'a@b.example', extra: 1 }, {}]) {
    const res = await subscribe(body);
    assert.equal(res.statusCode, 400, JSON.stringify(body));
  }
  const email = 'forge@klinik.example';
  await subscribe({ email });
  const token = linkIn((await lastMailTo(email)).text, '/newsletter/confirm');
  const altered = `${token.slice(0, 5)}${token[5] === 'A' ? 'B' : 'A'}${token.slice(6)}`;
  for (const bad of [altered, 'x', '']) {
    const res = await t.app.inject({
      method: 'POST',
      url: '/newsletter/confirm',
      payload: `token=${bad}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(res.statusCode, 404);
  }
  // A confirmation link is not an unsubscribe link.
  assert.equal((await t.app.inject({ method: 'POST', url: `/unsubscribe?token=${token}` })).statusCode, 404);
  assert.equal(await stateOf(email), 'pending');
});
