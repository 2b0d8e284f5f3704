// The outbox as a DPO uses it: with no SMTP server, mail is held and listed (kind and state, never the address);
// opening a message shows its address and words and is recorded in the audit log; a held message sent by hand is
// marked so; with an SMTP server, a failed message is sent again. Staff without the right to sealed values get 403.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { OutgoingMail } from '../mail/outgoing-mail.ts';
import { hiddenFields } from '../test/helpers/staff-client.ts';
import { smtpSink, type SmtpSink } from '../test/helpers/smtp-sink.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';

const mail: OutgoingMail = {
  kind: 'request-verification',
  to: 'held.recipient@patients.example',
  subjectLine: 'Confirm your request <please>',
  text: 'Open https://idt.example/r/held-token to confirm.',
  headers: { 'List-Unsubscribe': '<https://idt.example/u/held>' },
  actor: 'system:test',
};

const enqueue = (t: TestApp, m: OutgoingMail = mail) => t.db.kysely.transaction().execute((trx) => t.ctx.mailer.enqueue(trx, t.ctx.auditor, m));

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => t?.close());

test('held mail is listed for a DPO without its content; opening it shows the content and is audited; staff get 403', async () => {
  const id = await enqueue(t);
  const dpo = await t.signedIn('dpo');
  const list = await dpo.request({ url: '/console/outbox' });
  assert.equal(list.statusCode, 200);
  assert.match(list.body, /No SMTP server is configured/);
  assert.match(list.body, new RegExp(`href="/console/outbox/${id}"`));
  assert.match(list.body, /request-verification/);
  assert.match(list.body, /held: send it by hand/);
  assert.doesNotMatch(list.body, /held\.recipient|Confirm your request|held-token/, 'the list shows no address or content');
  assert.match(list.body, /href="\/console\/outbox" aria-current="page"|aria-current="page"[^>]*href="\/console\/outbox"/, 'in the navigation');

  const reads = () => t.audits().then((events) => events.filter((e) => e.action === 'mail.read'));
  assert.equal((await reads()).length, 0, 'listing opens nothing');
  const page = await dpo.request({ url: `/console/outbox/${id}` });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /held\.recipient@patients\.example/);
  assert.match(page.body, /Confirm your request &lt;please&gt;/, 'escaped');
  assert.match(page.body, /https:\/\/idt\.example\/r\/held-token/);
  assert.match(page.body, /List-Unsubscribe/);
  assert.match(page.body, /mark as sent/);
  assert.doesNotMatch(page.body, /Send it again/, 'no SMTP server: nothing to send it with');
  const opened = await reads();
  assert.equal(opened.length, 1);
  assert.equal(opened[0]!.detail.message, id);
  assert.match(opened[0]!.actor, /^staff:[0-9a-f-]{36}$/);

  const staff = await t.signedIn('staff');
  assert.equal((await staff.request({ url: '/console/outbox' })).statusCode, 403);
  const denied = await staff.request({ url: `/console/outbox/${id}` });
  assert.equal(denied.statusCode, 403);
  assert.doesNotMatch(denied.body, /held\.recipient/);
  assert.equal((await reads()).length, 1, 'a refused opening reads nothing');
  const auditor = await t.signedIn('auditor');
  assert.equal((await auditor.request({ url: '/console/outbox' })).statusCode, 403);
});

test('a DPO marks a held message as sent by hand (with the CSRF token); it is audited and cannot be marked twice', async () => {
  const id = await enqueue(t);
  const dpo = await t.signedIn('dpo');
  const page = await dpo.request({ url: `/console/outbox/${id}` });
  const form = hiddenFields(page.body);
  assert.ok(form._csrf);

  const forged = await dpo.request({ method: 'POST', url: `/console/outbox/${id}/sent`, form: { _csrf: 'x'.repeat(43) } });
  assert.equal(forged.statusCode, 403);
  const done = await dpo.request({ method: 'POST', url: `/console/outbox/${id}/sent`, form });
  assert.equal(done.statusCode, 303);
  assert.equal(done.headers.location, `/console/outbox/${id}?done=sent`);
  const row = await t.db.kysely.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  assert.equal(row.state, 'sent');
  assert.deepEqual(row.sent_at, t.clock.now());
  const sent = (await t.audits()).filter((e) => e.action === 'mail.send' && e.detail.message === id);
  assert.deepEqual(
    sent.map((e) => e.detail.by),
    ['hand'],
  );
  assert.match((await dpo.request({ url: `/console/outbox/${id}?done=sent` })).body, /Marked as sent by hand/);
  assert.equal((await dpo.request({ method: 'POST', url: `/console/outbox/${id}/sent`, form })).statusCode, 409);
  assert.equal((await dpo.request({ method: 'POST', url: `/console/outbox/${id}/retry`, form })).statusCode, 409);
});

test('with an SMTP server, a DPO sends a failed message again and it goes', async () => {
  const sink: SmtpSink = await smtpSink();
  const s = await testApp('image-diagnostic-technology', { smtp: { url: sink.url(), from: 'office@idtscans.example' } });
  try {
    sink.refuseRecipients(550);
    const id = await s.db.kysely.transaction().execute((trx) => s.ctx.mailer.enqueue(trx, s.ctx.auditor, mail));
    for (const wait of [0, 1, 5, 30, 120]) {
      s.clock.advance(wait * 60_000);
      await s.ctx.mailer.flush();
    }
    const failed = await s.db.kysely.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(failed.state, 'failed');
    sink.refuseRecipients(null);

    const owner = await s.signedIn('owner');
    const list = await owner.request({ url: '/console/outbox' });
    assert.match(list.body, /EENVELOPE 550/);
    const page = await owner.request({ url: `/console/outbox/${id}` });
    assert.match(page.body, /Send it again/);
    const res = await owner.request({ method: 'POST', url: `/console/outbox/${id}/retry`, form: hiddenFields(page.body) });
    assert.equal(res.statusCode, 303);
    await s.ctx.mailer.flush(); // or the one the retry started: either way, done when this one is
    const row = await s.db.kysely.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.state, 'sent');
    assert.equal(row.attempts, 1, 'a fresh round of attempts');
    assert.equal(sink.received.length, 1);
    assert.ok((await s.audits()).some((e) => e.action === 'mail.retry' && e.detail.message === id));
  } finally {
    await s.close();
    await sink.close();
  }
});
