// Outgoing mail against a real SMTP server on a local port: what a recipient's server receives (envelope, headers,
// bodies, the one-click unsubscribe headers), retries with backoff on a fixed clock until a refusal becomes
// 'failed' with its code and never the address, an unreachable server, STARTTLS required unless the URL says
// otherwise, and a message that exists only when its caller's transaction commits.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { insertTestSubjects } from '../test/helpers/insert-test-subjects.ts';
import { headersOf, partOf, smtpSink, type SmtpSink } from '../test/helpers/smtp-sink.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { Mailer } from './mailer.ts';
import type { OutgoingMail } from './outgoing-mail.ts';

const MINUTE = 60_000;
const ADDRESS = 'Ada.Recipient+verify@patients.example';

let sink: SmtpSink;
before(async () => {
  sink = await smtpSink();
});
after(() => sink.close());

function verification(subjectId: string | null, over: Partial<OutgoingMail> = {}): OutgoingMail {
  return {
    kind: 'request-verification',
    to: ADDRESS,
    subjectLine: 'Please confirm your request',
    text: 'Open this link to confirm your access request: https://idt.example/r/abc123\n\nThank you.',
    html: '<p>Open <a href="https://idt.example/r/abc123">this link</a> to confirm your access request.</p>',
    headers: { 'List-Unsubscribe': '<https://idt.example/unsubscribe/tok123>', 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    subjectId,
    actor: 'system:test',
    ...over,
  };
}

async function enqueue(t: TestApp, mail: OutgoingMail, mailer = t.ctx.mailer): Promise<string> {
  return t.db.kysely.transaction().execute((trx) => mailer.enqueue(trx, t.ctx.auditor, mail));
}

const rowOf = (t: TestApp, id: string) => t.db.kysely.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

/** A mailer on the test app's database whose log lines are kept, flushed only when the test says. */
function loggedMailer(t: TestApp, url: string): { mailer: Mailer; lines: string[] } {
  const lines: string[] = [];
  const log = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) };
  return { mailer: new Mailer({ db: t.db, auditor: t.ctx.auditor, clock: t.clock, log, register: t.register, smtp: { url }, flushAfterQueueMs: null }), lines };
}

test('a queued message reaches the SMTP server as written, from the controller, and the row is sent with its Message-ID', async () => {
  const t = await testApp('image-diagnostic-technology', { smtp: { url: sink.url('mailer:p%40ss%3Aword'), from: 'requests@idtscans.example' } });
  try {
    const [subjectId] = (await insertTestSubjects(t.db, 1)) as [string];
    const id = await enqueue(t, verification(subjectId));
    assert.equal((await rowOf(t, id)).state, 'queued');
    const before = sink.received.length;
    await t.ctx.mailer.flush(); // or the flush a second after queueing: either way, done when this one is

    const got = sink.received.slice(before);
    assert.equal(got.length, 1);
    const mail = got[0]!;
    assert.equal(mail.envelopeFrom, 'requests@idtscans.example');
    assert.deepEqual(mail.envelopeTo, [ADDRESS]);
    const h = headersOf(mail.raw);
    assert.equal(h.get('to'), ADDRESS);
    assert.equal(h.get('from'), 'Image Diagnostic Technology Ltd <requests@idtscans.example>', 'the controller names itself');
    assert.equal(h.get('subject'), 'Please confirm your request');
    assert.equal(h.get('list-unsubscribe'), '<https://idt.example/unsubscribe/tok123>');
    assert.equal(h.get('list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
    assert.equal(h.get('message-id'), `<${id}@idtscans.example>`);
    assert.equal(partOf(mail.raw, 'text/plain'), verification(null).text);
    assert.equal(partOf(mail.raw, 'text/html'), verification(null).html);
    assert.deepEqual(sink.logins.at(-1), { username: 'mailer', password: 'p@ss:word' }, 'credentials from the URL, percent-decoded');

    const row = await rowOf(t, id);
    assert.equal(row.state, 'sent');
    assert.equal(row.attempts, 1);
    assert.equal(row.message_id, `<${id}@idtscans.example>`);
    assert.deepEqual(row.sent_at, t.clock.now());
    assert.equal(row.subject_id, subjectId);
    assert.equal(await t.ctx.mailer.flush(), 0, 'sent once');

    const events = (await t.audits()).filter((e) => e.action.startsWith('mail.'));
    assert.deepEqual(
      events.map((e) => [e.action, e.subjectId, e.detail.message, e.detail.kind]),
      [
        ['mail.queue', subjectId, id, 'request-verification'],
        ['mail.send', subjectId, id, 'request-verification'],
      ],
    );
    assert.doesNotMatch(JSON.stringify(events), /patients\.example|Recipient|confirm|abc123|tok123/i, 'ids and the kind only');
  } finally {
    await t.close();
  }
});

test('two processes flushing at once send each message once (FOR UPDATE SKIP LOCKED)', async () => {
  const t = await testApp('image-diagnostic-technology');
  const a = loggedMailer(t, sink.url()).mailer;
  const b = loggedMailer(t, sink.url()).mailer;
  try {
    const before = sink.received.length;
    const ids = [];
    for (let i = 0; i < 8; i++) ids.push(await enqueue(t, verification(null, { subjectLine: `Message ${i}` }), a));
    const [sentA, sentB] = await Promise.all([a.flush(), b.flush()]);
    assert.equal(sentA + sentB, 8);
    const got = sink.received.slice(before).map((m) => headersOf(m.raw).get('message-id'));
    assert.deepEqual(got.sort(), ids.map((id) => `<${id}@idtscans.example>`).sort());
    const rows = await t.db.kysely.selectFrom('mail_outbox').select(['state', 'attempts']).execute();
    assert.ok(rows.every((r) => r.state === 'sent' && r.attempts === 1));
  } finally {
    await a.close();
    await b.close();
    await t.close();
  }
});

test('a refusing server: retried after 1, 5, 30 and 120 minutes, then failed with the code, never the address', async () => {
  const t = await testApp('image-diagnostic-technology');
  const { mailer, lines } = loggedMailer(t, sink.url());
  sink.refuseRecipients(550);
  try {
    const id = await enqueue(t, verification(null), mailer);
    const start = t.clock.now().getTime();
    const waits = [1, 5, 30, 120];
    for (const [i, wait] of waits.entries()) {
      assert.equal(await mailer.flush(), 0);
      const row = await rowOf(t, id);
      assert.equal(row.state, 'queued', `after attempt ${i + 1}`);
      assert.equal(row.attempts, i + 1);
      assert.equal(row.last_error, 'EENVELOPE 550');
      assert.equal(row.next_attempt_at!.getTime(), t.clock.now().getTime() + wait * MINUTE);
      t.clock.advance(wait * MINUTE - 1000);
      await mailer.flush();
      assert.equal((await rowOf(t, id)).attempts, i + 1, 'not before it is due');
      t.clock.advance(1000);
    }
    assert.equal(await mailer.flush(), 0);
    const row = await rowOf(t, id);
    assert.equal(row.state, 'failed');
    assert.equal(row.attempts, 5);
    assert.equal(row.last_error, 'EENVELOPE 550');
    assert.equal(row.next_attempt_at, null);
    assert.equal(t.clock.now().getTime() - start, (1 + 5 + 30 + 120) * MINUTE);
    t.clock.advance(24 * 60 * MINUTE);
    await mailer.flush();
    assert.equal((await rowOf(t, id)).attempts, 5, 'a failed message is not tried again by itself');

    const fails = (await t.audits()).filter((e) => e.action === 'mail.fail');
    assert.deepEqual(
      fails.map((e) => [e.detail.attempt, e.detail.error, e.detail.reply, e.detail.final]),
      [
        [1, 'EENVELOPE', 550, false],
        [2, 'EENVELOPE', 550, false],
        [3, 'EENVELOPE', 550, false],
        [4, 'EENVELOPE', 550, false],
        [5, 'EENVELOPE', 550, true],
      ],
    );
    assert.equal(lines.length, 5);
    assert.match(lines.at(-1)!, new RegExp(`^mail ${id}: failed after 5 attempts \\(EENVELOPE 550\\)$`));
    assert.doesNotMatch(JSON.stringify({ lines, fails, error: row.last_error }), /patients\.example|Recipient|Mailbox/i);
  } finally {
    sink.refuseRecipients(null);
    await mailer.close();
    await t.close();
  }
});

test('an unreachable SMTP server: the attempt fails with a code and the message is queued again', async () => {
  const closed = createServer();
  closed.listen(0, '127.0.0.1');
  await once(closed, 'listening');
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));

  const t = await testApp('image-diagnostic-technology');
  const { mailer, lines } = loggedMailer(t, `smtp://127.0.0.1:${port}?tls=off`);
  try {
    const id = await enqueue(t, verification(null), mailer);
    assert.equal(await mailer.flush(), 0);
    let row = await rowOf(t, id);
    assert.equal(row.state, 'queued');
    assert.match(row.last_error!, /^E[A-Z]+$/, 'a connection error code, no reply code');
    assert.equal(row.next_attempt_at!.getTime(), t.clock.now().getTime() + MINUTE);
    t.clock.advance(MINUTE);
    await mailer.flush();
    row = await rowOf(t, id);
    assert.equal(row.attempts, 2);
    assert.equal(row.next_attempt_at!.getTime(), t.clock.now().getTime() + 5 * MINUTE);
    assert.match(lines.join('\n'), new RegExp(`mail ${id}: attempt 2 failed \\(${row.last_error}\\); next attempt at `));
  } finally {
    await mailer.close();
    await t.close();
  }
});

test('smtp:// requires STARTTLS unless the URL says tls=off: nothing goes in clear to a server without it', async () => {
  const t = await testApp('image-diagnostic-technology');
  const { mailer } = loggedMailer(t, `smtp://127.0.0.1:${sink.port}`);
  try {
    const before = sink.received.length;
    const id = await enqueue(t, verification(null), mailer);
    assert.equal(await mailer.flush(), 0);
    const row = await rowOf(t, id);
    assert.equal(row.state, 'queued');
    assert.ok(row.last_error, 'the attempt failed');
    assert.equal(sink.received.length, before, 'the server received nothing');
  } finally {
    await mailer.close();
    await t.close();
  }
});

test('a message queued in a transaction that rolls back does not exist, and nothing of it is audited', async () => {
  const t = await testApp('image-diagnostic-technology', { smtp: { url: sink.url() } });
  try {
    const before = sink.received.length;
    await assert.rejects(
      t.db.kysely.transaction().execute(async (trx) => {
        await t.ctx.mailer.enqueue(trx, t.ctx.auditor, verification(null));
        throw new Error('the request it belonged to was refused');
      }),
      /refused/,
    );
    assert.equal((await t.db.kysely.selectFrom('mail_outbox').select('id').execute()).length, 0);
    assert.equal((await t.audits()).filter((e) => e.action.startsWith('mail.')).length, 0);
    assert.equal(await t.ctx.mailer.flush(), 0);
    assert.equal(sink.received.length, before);
  } finally {
    await t.close();
  }
});

test('without an SMTP server a message is held for staff, and no flush touches it', async () => {
  const t = await testApp();
  try {
    assert.equal(t.ctx.mailer.configured, false);
    const id = await enqueue(t, verification(null));
    assert.equal(await t.ctx.mailer.flush(), 0);
    const row = await rowOf(t, id);
    assert.equal(row.state, 'held');
    assert.equal(row.attempts, 0);
    assert.equal(row.from_address, 'dpo@idtscans.example', 'the register has no controller email: its DPO sends');
    assert.equal((await t.audits()).find((e) => e.action === 'mail.queue')?.detail.state, 'held');
  } finally {
    await t.close();
  }
});

test('what cannot be sent safely is refused before it is stored, naming the part and never the value', async () => {
  const t = await testApp();
  try {
    const refusals: Partial<OutgoingMail>[] = [
      { to: 'someone@example.com, other@example.com' },
      { to: 'Someone <someone@example.com>' },
      { to: 'someone@example.com\r\nBcc: x@example.com' },
      { to: 'no-domain@localhost' },
      { subjectLine: 'Hello\r\nBcc: x@example.com' },
      { headers: { 'List-Unsubscribe': '<https://x.example>\r\nBcc: x@example.com' } },
      { headers: { Bcc: 'x@example.com' } },
      { headers: { 'Bad Name': 'x' } },
      { text: '' },
      { subjectId: 'not-a-uuid' },
      { kind: 'not-a-kind' as OutgoingMail['kind'] },
    ];
    for (const over of refusals) {
      await assert.rejects(enqueue(t, verification(null, over)), (e: { code?: string; message?: string }) => {
        assert.equal(e.code, 'mail_invalid', JSON.stringify(over));
        assert.doesNotMatch(e.message ?? '', /example\.com/);
        return true;
      });
    }
    assert.equal((await t.db.kysely.selectFrom('mail_outbox').select('id').execute()).length, 0);
  } finally {
    await t.close();
  }
});

test('a wrong SMTP URL or From address is refused at start, without echoing the password', () => {
  const t = { db: null as never, auditor: null as never, clock: null as never, log: null as never, register: null };
  for (const [url, from, message] of [
    ['http://user:s3cret@mail.example', undefined, /smtp:\/\/ or smtps:\/\//],
    ['smtp://user:s3cret@mail.example:587?tls=maybe', undefined, /tls takes only "off"/],
    ['smtps://user:s3cret@mail.example?tls=off', undefined, /contradicts/],
    ['smtp://user:s3cret@mail.example', undefined, /no From address/],
    ['smtp://user:s3cret@mail.example', 'DPO <dpo@x.example>', /not one plain email address/],
    ['smtp//user:s3cret@', undefined, /not a URL/],
  ] as const) {
    assert.throws(
      () => new Mailer({ ...t, smtp: { url, ...(from ? { from } : {}) } }),
      (e: { code?: string; message?: string }) => e.code === 'mail_config_invalid' && message.test(e.message!) && !/s3cret/.test(e.message!),
      url,
    );
  }
});
