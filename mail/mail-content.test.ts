// The content of mail (address, subject line, bodies, headers) is personal data: cleared at once for a person on
// erasure (and what was not sent yet is then never sent), and for everyone after the retention period once a
// message is done with. The row (kind, state, dates, ids) stays as the record that a message went out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { shredSubject } from '../subjects/erase-subject.ts';
import { insertTestSubjects } from '../test/helpers/insert-test-subjects.ts';
import { scanRequest } from '../test/helpers/scan-request.ts';
import { smtpSink } from '../test/helpers/smtp-sink.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { Mailer } from './mailer.ts';
import type { OutgoingMail } from './outgoing-mail.ts';

const DAY = 86_400_000;

function mailAbout(subjectId: string, n: number): OutgoingMail {
  return {
    kind: 'recipient-notice',
    to: `person${n}.canary@patients.example`,
    subjectLine: `Canary subject ${n}`,
    text: `Canary body ${n}: your records were corrected.`,
    html: `<p>Canary html ${n}</p>`,
    headers: { 'List-Unsubscribe': `<https://idt.example/u/canary-token-${n}>` },
    subjectId,
    actor: 'system:test',
  };
}

async function enqueue(t: TestApp, mail: OutgoingMail, mailer = t.ctx.mailer): Promise<string> {
  return t.db.kysely.transaction().execute((trx) => mailer.enqueue(trx, t.ctx.auditor, mail));
}

/** Every value of every row, as text, as a database dump would show it. */
async function tableText(t: TestApp): Promise<string> {
  const { rows } = await sql<{ row: string }>`SELECT mail_outbox::text AS row FROM mail_outbox`.execute(t.db.kysely);
  return rows.map((r) => r.row).join('\n');
}

test('eraseMailOf clears every message about the person, in the caller transaction; others are untouched and unsent ones never go', async () => {
  const sink = await smtpSink();
  const t = await testApp();
  // Flushed only when the test says, so nothing is sent behind its back.
  const mailer = new Mailer({ ...t.ctx, smtp: { url: sink.url() }, flushAfterQueueMs: null });
  try {
    const [erased, kept] = (await insertTestSubjects(t.db, 2)) as [string, string];
    const sentId = await enqueue(t, mailAbout(erased, 1), mailer);
    assert.equal(await mailer.flush(), 1);
    const queuedId = await enqueue(t, mailAbout(erased, 2), mailer);
    const otherId = await enqueue(t, mailAbout(kept, 3), mailer);

    assert.equal(await t.db.kysely.transaction().execute((trx) => t.ctx.mailer.eraseMailOf(trx, erased.toUpperCase(), 'staff:dpo-1')), 2);
    const text = await tableText(t);
    for (const n of [1, 2]) assert.doesNotMatch(text, new RegExp(`person${n}\\.canary|Canary (subject|body|html) ${n}|canary-token-${n}`));
    assert.match(text, /person3\.canary@patients\.example/, 'mail about someone else keeps its content');

    const rows = new Map((await t.db.kysely.selectFrom('mail_outbox').selectAll().execute()).map((r) => [r.id, r]));
    assert.equal(rows.get(sentId)!.state, 'sent', 'what was sent stays recorded as sent');
    assert.ok(rows.get(sentId)!.message_id);
    assert.equal(rows.get(queuedId)!.state, 'failed');
    assert.equal(rows.get(queuedId)!.last_error, 'erased');
    assert.deepEqual(rows.get(queuedId)!.content_erased_at, t.clock.now());
    assert.equal(rows.get(otherId)!.content_erased_at, null);

    const before = sink.received.length;
    assert.equal(await mailer.flush(), 1, 'only the other person’s message goes');
    assert.equal(sink.received.length, before + 1);
    assert.match(sink.received.at(-1)!.raw, /person3\.canary/);

    const erases = (await t.audits()).filter((e) => e.action === 'mail.erase');
    assert.deepEqual(
      erases.map((e) => [e.actor, e.subjectId, e.detail.count]),
      [['staff:dpo-1', erased, 2]],
    );
    assert.equal(await t.db.kysely.transaction().execute((trx) => t.ctx.mailer.eraseMailOf(trx, erased)), 0, 'nothing left to clear');

    // An erasure that rolls back clears nothing. (Last: the auditor refuses further events in the partition of an
    // event it appended in a transaction that rolled back, so nothing about this person may follow.)
    await assert.rejects(
      t.db.kysely.transaction().execute(async (trx) => {
        assert.equal(await t.ctx.mailer.eraseMailOf(trx, kept), 1);
        throw new Error('erasure refused');
      }),
      /erasure refused/,
    );
    assert.match(await tableText(t), /person3\.canary/);
  } finally {
    await mailer.close();
    await t.close();
    await sink.close();
  }
});

test('shredding a person (erasure) clears their mail in the same transaction', async () => {
  const t = await testApp();
  try {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('mail-shred', 1) });
    assert.equal(res.statusCode, 201, res.body);
    const subjectId: string = res.json().subjectId;
    await enqueue(t, mailAbout(subjectId, 7));
    await shredSubject(t.ctx, { subjectId, actor: 'staff:dpo-1', overrideRetention: 'Erasure upheld' });
    assert.doesNotMatch(await tableText(t), /canary/i);
    const erase = (await t.audits()).find((e) => e.action === 'mail.erase');
    assert.equal(erase?.subjectId, subjectId);
  } finally {
    await t.close();
  }
});

test('purgeSent clears the content of messages done with before the retention period, at a fixed date', async () => {
  const sink = await smtpSink();
  const t = await testApp('image-diagnostic-technology', { now: '2026-11-22T09:00:00Z', mailRetention: 'P7D' });
  const mailer = new Mailer({ ...t.ctx, smtp: { url: sink.url() }, flushAfterQueueMs: null });
  try {
    const [subjectId] = (await insertTestSubjects(t.db, 1)) as [string];
    const sent = await enqueue(t, mailAbout(subjectId, 1), mailer);
    assert.equal(await mailer.flush(), 1); // sent 2026-11-22T09:00
    t.clock.set('2026-11-25T09:00:00Z');
    const queued = await enqueue(t, mailAbout(subjectId, 2), mailer); // due, never flushed: still to be sent

    assert.equal(await t.ctx.mailer.purgeSent(new Date('2026-11-29T08:59:59Z')), 0, 'not yet seven days');
    assert.equal(await t.ctx.mailer.purgeSent(new Date('2026-11-29T09:00:01Z')), 1);
    const rows = new Map((await t.db.kysely.selectFrom('mail_outbox').selectAll().execute()).map((r) => [r.id, r]));
    const purged = rows.get(sent)!;
    assert.deepEqual(
      [purged.state, purged.to_address, purged.subject_line, purged.body_text, purged.body_html, purged.headers],
      ['sent', '', '', '', null, {}],
    );
    assert.deepEqual(purged.content_erased_at, new Date('2026-11-29T09:00:01Z'));
    assert.deepEqual(purged.sent_at, new Date('2026-11-22T09:00:00Z'));
    assert.ok(purged.message_id, 'the record that it went out stays');
    assert.equal(rows.get(queued)!.to_address, 'person2.canary@patients.example', 'a message still to be sent keeps its content');

    assert.equal(await t.ctx.mailer.purgeSent(new Date('2026-12-30T00:00:00Z')), 0, 'queued mail is not purged, and purged mail not twice');
    const purges = (await t.audits()).filter((e) => e.action === 'mail.purge');
    assert.deepEqual(
      purges.map((e) => [e.actor, e.detail.count, e.detail.before]),
      [['system:purge-mail', 1, '2026-11-22T09:00:01.000Z']],
    );
  } finally {
    await mailer.close();
    await t.close();
    await sink.close();
  }
});

test('held mail is purged too once the period has passed without anyone sending it (the default period: 30 days)', async () => {
  const t = await testApp();
  try {
    const [subjectId] = (await insertTestSubjects(t.db, 1)) as [string];
    await enqueue(t, mailAbout(subjectId, 1));
    t.clock.advance(30 * DAY - 1000);
    assert.equal(await t.ctx.mailer.purgeSent(), 0);
    t.clock.advance(2000);
    assert.equal(await t.ctx.mailer.purgeSent(), 1);
    assert.doesNotMatch(await tableText(t), /canary/i);
  } finally {
    await t.close();
  }
});
