// The privacy centre as a visitor uses it: every right explained, a request made through its form (in English and
// in German), the emailed link that opens a page and confirms only when the person presses "Confirm", and what a
// wrong or cross-site submission gets: a clear page, and nothing stored.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Browser, hiddenFields } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';

let t: TestApp;

before(async () => {
  // Monday 1 February 2027 in London (the example register is a UK controller).
  t = await testApp('image-diagnostic-technology', { now: '2027-02-01T10:00:00Z' });
});
after(async () => t?.close());

async function requestCount(): Promise<number> {
  const r = await t.db.kysely
    .selectFrom('rights_request')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** The one request made with this address (each test uses its own). */
async function requestFrom(email: string) {
  return t.db.kysely.selectFrom('rights_request').selectAll().where('contact_email', '=', email).executeTakeFirstOrThrow();
}

/** The confirmation link's token from the message held for this request (no SMTP server: the outbox keeps it). */
async function tokenFor(requestId: string): Promise<string> {
  const entry = (await t.ctx.mailer.outbox({ limit: 100 })).find((m) => m.request_id === requestId);
  assert.ok(entry, 'a confirmation message was queued');
  const mail = await t.ctx.mailer.open(entry.id, 'system:test');
  const token = /\/privacy-center\/confirm\?token=([A-Za-z0-9_-]{43})/.exec(mail.body_text ?? '')?.[1];
  assert.ok(token, mail.body_text ?? '');
  return token;
}

/** Fills in a right's form the way a person would: load it, then post what they typed. */
async function ask(right: string, fields: Record<string, string>, lang = 'en', who = new Browser(t.app)) {
  const page = await who.request({ url: `/privacy-center/${right}?lang=${lang}` });
  assert.equal(page.statusCode, 200);
  return who.request({ method: 'POST', url: `/privacy-center/${right}?lang=${lang}`, form: { ...hiddenFields(page.body), ...fields } });
}

const text = (html: string) =>
  html
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ');

describe('the list of rights', () => {
  test('names every right with what it means and its limits, and links to its form', async () => {
    const res = await t.app.inject({ url: '/privacy-center' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/html/);
    const body = text(res.body);
    for (const right of ['access', 'rectification', 'erasure', 'restriction', 'objection', 'portability', 'withdraw-consent', 'complaint'])
      assert.match(res.body, new RegExp(`href="/privacy-center/${right}\\?lang=en"`), right);
    assert.match(body, /health records the law requires us to keep are kept and restricted instead/);
    assert.match(body, /objection to direct marketing is always honoured/i);
    assert.match(body, /Information Commissioner's Office/);
    assert.equal((res.body.match(/<h1>/g) ?? []).length, 1);
  });

  test('in German on ?lang=de, every phrase German', async () => {
    const res = await t.app.inject({ url: '/privacy-center?lang=de' });
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /<html lang="de">/);
    const body = text(res.body);
    assert.match(body, /Ihre Datenschutzrechte/);
    assert.match(body, /Gesundheitsunterlagen, die wir gesetzlich aufbewahren müssen, bleiben erhalten und werden stattdessen gesperrt/);
    assert.match(body, /Einem Widerspruch gegen Direktwerbung folgen wir immer sofort/);
    assert.doesNotMatch(body, /\b(Your|Ask for this|Erase your data|privacy notice)\b/);
    // The way back to English is offered, marked as English.
    assert.match(res.body, /<a href="\/privacy-center\?lang=en" lang="en" hreflang="en">English<\/a>/);
  });

  test('a right that does not exist is a 404 with the list', async () => {
    const res = await t.app.inject({ url: '/privacy-center/everything' });
    assert.equal(res.statusCode, 404);
    assert.match(text(res.body), /Erase your data/);
  });
});

describe('making a request', () => {
  test('stores it unconfirmed from the web, emails the link and explains the deadline', async () => {
    const before = await requestCount();
    const res = await ask('access', { email: 'ann@example.com', name: 'Ann Example', details: 'X-rays from 2024' });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/privacy-center/sent?due=2027-03-01&lang=en');
    assert.equal(await requestCount(), before + 1);
    const row = await requestFrom('ann@example.com');
    assert.equal(row.type, 'access');
    assert.equal(row.status, 'unconfirmed');
    assert.equal(row.channel, 'web');
    assert.equal(row.created_by, 'public:privacy-centre');
    assert.equal(row.contact_email, 'ann@example.com');
    assert.equal(row.contact_name, 'Ann Example');
    assert.equal(row.details, 'X-rays from 2024');
    assert.equal(row.on_behalf, null);
    await tokenFor(row.id);

    const sent = await t.app.inject({ url: res.headers.location as string });
    assert.equal(sent.statusCode, 200);
    const body = text(sent.body);
    assert.match(body, /Check your email/);
    assert.match(body, /counted from the day you confirm: if you confirm today, we will answer by 1 March 2027/);
    assert.match(body, /up to two further months/);
  });

  test('for someone else: who asks, their relationship and authority are kept; the request names the person it is about', async () => {
    const res = await ask('erasure', {
      email: 'parent@example.com',
      name: 'Dee Parent',
      behalf: 'yes',
      theirName: 'Kim Parent',
      relationship: 'parent',
      authority: 'parental responsibility',
    });
    assert.equal(res.statusCode, 303);
    const row = await requestFrom('parent@example.com');
    assert.equal(row.type, 'erasure');
    assert.equal(row.contact_name, 'Kim Parent');
    assert.deepEqual(row.on_behalf, { name: 'Dee Parent', relationship: 'parent', authority: 'parental responsibility' });
  });

  test('mistakes re-show the form with each problem, keep what was typed, and store nothing', async () => {
    const before = await requestCount();
    const missing = await ask('rectification', { email: '', details: 'my address is wrong' });
    assert.equal(missing.statusCode, 400);
    assert.match(missing.body, /<div class="error-summary" role="alert"/);
    assert.match(missing.body, /<a href="#email">Enter your email address<\/a>/);
    assert.match(missing.body, /aria-invalid="true" aria-describedby="email-error email-hint"/);
    assert.match(missing.body, />my address is wrong<\/textarea>/);

    const wrong = await ask('rectification', { email: 'not-an-address', behalf: 'yes', authority: 'x'.repeat(501) });
    assert.equal(wrong.statusCode, 400);
    const problems = [...wrong.body.matchAll(/<li><a href="#([a-zA-Z]+)">/g)].map((m) => m[1]);
    assert.deepEqual(problems, ['email', 'name', 'theirName', 'relationship', 'authority']);
    assert.match(wrong.body, /value="not-an-address"/);

    const long = await ask('rectification', { email: 'a@example.com', details: 'x'.repeat(5001) });
    assert.equal(long.statusCode, 400);
    assert.match(text(long.body), /Use no more than 5,000 characters/);
    assert.equal(await requestCount(), before);
  });

  test('a flood from one address is refused kindly (429) and nothing more is stored', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await ask('objection', { email: 'flood@example.com' })).statusCode, 303);
    const before = await requestCount();
    const res = await ask('objection', { email: 'flood@example.com' });
    assert.equal(res.statusCode, 429);
    assert.match(text(res.body), /already waiting for confirmation\. Please use the link we emailed you, or try again tomorrow/);
    assert.match(res.body, /value="flood@example.com"/);
    assert.equal(await requestCount(), before);
  });

  test('a form posted from another site is refused and stores nothing', async () => {
    const before = await requestCount();
    const foreign: Record<string, string>[] = [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { origin: 'https://evil.example' }];
    for (const headers of foreign) {
      const res = await new Browser(t.app).request({ method: 'POST', url: '/privacy-center/access', form: { email: 'victim@example.com' }, headers });
      assert.equal(res.statusCode, 403, JSON.stringify(headers));
      assert.match(text(res.body), /sent from another website/);
    }
    // The browser's own post: same origin (and, with no referrer sent, `Origin: null`).
    const own = await new Browser(t.app).request({
      method: 'POST',
      url: '/privacy-center/access',
      form: { email: 'own@example.com' },
      headers: { 'sec-fetch-site': 'same-origin', origin: 'null' },
    });
    assert.equal(own.statusCode, 303);
    assert.equal(await requestCount(), before + 1);
  });

  test('in German: the form, its problems and the deadline', async () => {
    const form = await t.app.inject({ url: '/privacy-center/portability?lang=de' });
    const body = text(form.body);
    assert.match(body, /Übertragung Ihrer Daten/);
    assert.match(body, /Ihre E-Mail-Adresse/);
    assert.match(body, /Ich stelle die Anfrage für eine andere Person/);
    assert.match(form.body, /action="\/privacy-center\/portability\?lang=de"/);
    assert.doesNotMatch(body, /\b(Your|email address|Send the request)\b/);

    const bad = await ask('portability', { email: 'kein-an-adresse' }, 'de');
    assert.equal(bad.statusCode, 400);
    assert.match(text(bad.body), /Es gibt ein Problem Geben Sie eine E-Mail-Adresse wie name@example.com ein/);

    const res = await ask('portability', { email: 'jonas@example.de', name: 'Jonas Beispiel' }, 'de');
    assert.equal(res.statusCode, 303);
    const sent = text((await t.app.inject({ url: res.headers.location as string })).body);
    assert.match(sent, /Bitte prüfen Sie Ihre E-Mails/);
    assert.match(sent, /Wenn Sie heute bestätigen, antworten wir bis zum 1\. März 2027/);
  });
});

describe('the confirmation link', () => {
  test('opening it only shows a Confirm button; pressing it confirms and shows the due date; it works once', async () => {
    assert.equal((await ask('access', { email: 'cora@example.com' })).statusCode, 303);
    const row = await requestFrom('cora@example.com');
    const token = await tokenFor(row.id);

    // A mail scanner (or the person) opens the link, as often as it likes: nothing is confirmed.
    for (let i = 0; i < 2; i++) {
      const page = await t.app.inject({ url: `/privacy-center/confirm?token=${token}` });
      assert.equal(page.statusCode, 200);
      assert.match(page.body, /<form method="post" action="\/privacy-center\/confirm\?lang=en">/);
      assert.match(page.body, /<button type="submit">Confirm<\/button>/);
    }
    // The same page in German keeps the link's token.
    const german = await t.app.inject({ url: `/privacy-center/confirm?token=${token}` });
    const href = /<a href="([^"]+)" lang="de"/.exec(german.body)?.[1]?.replace(/&amp;/g, '&');
    assert.equal(href, `/privacy-center/confirm?token=${token}&lang=de`);
    assert.match(text((await t.app.inject({ url: href! })).body), /Anfrage bestätigen .* Bestätigen/);
    const head = await t.app.inject({ method: 'HEAD', url: `/privacy-center/confirm?token=${token}` });
    assert.equal(head.statusCode, 200);
    assert.equal((await t.db.kysely.selectFrom('rights_request').select('status').where('id', '=', row.id).executeTakeFirstOrThrow()).status, 'unconfirmed');

    // Confirmed on Wednesday 3 February: UK, the month runs from then.
    t.clock.set('2027-02-03T11:00:00Z');
    const who = new Browser(t.app);
    const page = await who.request({ url: `/privacy-center/confirm?token=${token}` });
    const res = await who.request({ method: 'POST', url: '/privacy-center/confirm?lang=en', form: hiddenFields(page.body) });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/privacy-center/confirmed?due=2027-03-03&lang=en');
    const done = text((await t.app.inject({ url: res.headers.location as string })).body);
    assert.match(done, /Your request is confirmed/);
    assert.match(done, /We will answer by 3 March 2027/);
    const confirmed = await t.db.kysely.selectFrom('rights_request').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
    assert.equal(confirmed.status, 'open');
    assert.equal(confirmed.due_on, '2027-03-03');

    const again = await who.request({ method: 'POST', url: '/privacy-center/confirm?lang=en', form: hiddenFields(page.body) });
    assert.equal(again.statusCode, 404);
    assert.match(text(again.body), /This link does not work/);
    t.clock.set('2027-02-01T10:00:00Z');
  });

  test('a malformed, unknown or expired link gets a clear 404 page, in German too', async () => {
    const malformed = await t.app.inject({ url: '/privacy-center/confirm?token=abc' });
    assert.equal(malformed.statusCode, 404);
    assert.match(text(malformed.body), /The link is not valid, has already been used or has expired \(links work for 14 days\)/);
    assert.equal((await t.app.inject({ url: '/privacy-center/confirm' })).statusCode, 404);

    const unknown = await new Browser(t.app).request({ method: 'POST', url: '/privacy-center/confirm?lang=de', form: { token: 'A'.repeat(43) } });
    assert.equal(unknown.statusCode, 404);
    assert.match(text(unknown.body), /Dieser Link funktioniert nicht/);

    assert.equal((await ask('restriction', { email: 'late@example.com' })).statusCode, 303);
    const token = await tokenFor((await requestFrom('late@example.com')).id);
    t.clock.set('2027-02-16T10:00:01Z');
    try {
      const expired = await new Browser(t.app).request({ method: 'POST', url: '/privacy-center/confirm', form: { token } });
      assert.equal(expired.statusCode, 404);
    } finally {
      t.clock.set('2027-02-01T10:00:00Z');
    }
  });

  test('a confirmation posted from another site is refused', async () => {
    const res = await new Browser(t.app).request({
      method: 'POST',
      url: '/privacy-center/confirm',
      form: { token: 'A'.repeat(43) },
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    assert.equal(res.statusCode, 403);
  });
});
