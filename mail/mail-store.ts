// The only SQL for mail_outbox. A message is queued in its caller's transaction with its audit event; every change
// of its state after that (sent, failed, retried, erased, purged) and every opening of its content by staff appends
// its event here, in the same transaction. Audit events carry the message id, its kind and codes: never the address,
// the subject line or a word of the body.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Auditor } from '../audit/auditor.ts';
import type { Tables } from '../db/tables.ts';
import type { MailOutboxTable, MailState } from './tables.ts';

type Executor = Kysely<Tables>;

export type MailRow = Selectable<MailOutboxTable>;

export interface NewMail {
  readonly id: string;
  readonly kind: string;
  readonly subjectId: string | null;
  readonly requestId: string | null;
  readonly to: string;
  readonly from: string;
  readonly subjectLine: string;
  readonly text: string;
  readonly html: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** 'queued' when an SMTP server is configured, else 'held' for staff. */
  readonly state: 'queued' | 'held';
  readonly now: Date;
  readonly actor: string;
}

const erasedContent = (now: Date) => ({ to_address: '', subject_line: '', body_text: '', body_html: null, headers: '{}', content_erased_at: now });

export async function insertMail(trx: Executor, auditor: Auditor, mail: NewMail): Promise<void> {
  await trx
    .insertInto('mail_outbox')
    .values({
      id: mail.id,
      kind: mail.kind,
      subject_id: mail.subjectId,
      request_id: mail.requestId,
      to_address: mail.to,
      from_address: mail.from,
      subject_line: mail.subjectLine,
      body_text: mail.text,
      body_html: mail.html,
      headers: JSON.stringify(mail.headers),
      state: mail.state,
      next_attempt_at: mail.state === 'queued' ? mail.now : null,
      created_at: mail.now,
    })
    .execute();
  await auditor.append(
    trx,
    {
      actor: mail.actor,
      action: 'mail.queue',
      subjectId: mail.subjectId,
      detail: { message: mail.id, kind: mail.kind, state: mail.state, request: mail.requestId },
    },
    mail.now,
  );
}

/**
 * Takes the next due message for one attempt: queued and due, or left 'sending' by a process that died (its lease ran
 * out). Rows another process is taking are skipped, not waited for. The attempt is counted and leased until
 * `leaseUntil`; its outcome is recorded (and audited) by recordMailSent or recordMailFailure.
 */
export async function claimDueMail(ex: Executor, now: Date, leaseUntil: Date): Promise<MailRow | undefined> {
  const due = ex
    .selectFrom('mail_outbox')
    .select('id')
    .where('state', 'in', ['queued', 'sending'])
    .where('next_attempt_at', '<=', now)
    .orderBy('next_attempt_at')
    .limit(1)
    .forUpdate()
    .skipLocked();
  return ex
    .updateTable('mail_outbox')
    .set((eb) => ({ state: 'sending', attempts: eb('attempts', '+', 1), next_attempt_at: leaseUntil }))
    .where('id', '=', due)
    .returningAll()
    .executeTakeFirst();
}

export async function recordMailSent(ex: Executor, auditor: Auditor, sent: { id: string; messageId: string; now: Date; actor: string }): Promise<void> {
  await ex.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('mail_outbox')
      .set({ state: 'sent', sent_at: sent.now, message_id: sent.messageId, next_attempt_at: null, last_error: null })
      .where('id', '=', sent.id)
      .where('state', '=', 'sending')
      .returning(['subject_id', 'kind', 'attempts'])
      .executeTakeFirst();
    if (!row) return;
    await auditor.append(
      trx,
      { actor: sent.actor, action: 'mail.send', subjectId: row.subject_id, detail: { message: sent.id, kind: row.kind, attempt: row.attempts } },
      sent.now,
    );
  });
}

/** A failed attempt (an error code and the SMTP reply code): queued again for `retryAt`, or failed for good when there is none. */
export async function recordMailFailure(
  ex: Executor,
  auditor: Auditor,
  failure: { id: string; code: string; reply: number | null; retryAt: Date | null; now: Date; actor: string },
): Promise<void> {
  await ex.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('mail_outbox')
      .set({
        state: failure.retryAt ? 'queued' : 'failed',
        next_attempt_at: failure.retryAt,
        last_error: failure.reply ? `${failure.code} ${failure.reply}` : failure.code,
      })
      .where('id', '=', failure.id)
      .where('state', '=', 'sending')
      .returning(['subject_id', 'kind', 'attempts'])
      .executeTakeFirst();
    if (!row) return;
    await auditor.append(
      trx,
      {
        actor: failure.actor,
        action: 'mail.fail',
        subjectId: row.subject_id,
        detail: { message: failure.id, kind: row.kind, attempt: row.attempts, error: failure.code, reply: failure.reply, final: !failure.retryAt },
      },
      failure.now,
    );
  });
}

/**
 * Erasure: the content of every message about the person is cleared, and what was still to be sent is not sent
 * (state 'failed', error 'erased'). Returns how many messages were cleared.
 */
export async function eraseMailOfSubject(trx: Executor, auditor: Auditor, erase: { subjectId: string; actor: string; now: Date }): Promise<number> {
  const rows = await trx
    .updateTable('mail_outbox')
    .set({
      ...erasedContent(erase.now),
      state: sql<MailState>`CASE WHEN state IN ('queued', 'held') THEN 'failed' ELSE state END`,
      last_error: sql<string | null>`CASE WHEN state IN ('queued', 'held') THEN 'erased' ELSE last_error END`,
      next_attempt_at: sql<Date | null>`CASE WHEN state IN ('queued', 'held') THEN NULL ELSE next_attempt_at END`,
    })
    // About the person, or about a rights request staff linked to them (the answer sent to the address they gave).
    .where((eb) =>
      eb.or([
        eb('subject_id', '=', erase.subjectId),
        eb('request_id', 'in', eb.selectFrom('rights_request_subject').select('request_id').where('rights_request_subject.subject_id', '=', erase.subjectId)),
      ]),
    )
    .where('content_erased_at', 'is', null)
    .returning('id')
    .execute();
  if (rows.length > 0) {
    await auditor.append(trx, { actor: erase.actor, action: 'mail.erase', subjectId: erase.subjectId, detail: { count: rows.length } }, erase.now);
  }
  return rows.length;
}

/**
 * Retention: clears the content of messages done with before `cutoff` (sent before it; failed or held and never sent,
 * created before it). Returns how many.
 */
export async function purgeMailContent(ex: Executor, auditor: Auditor, cutoff: Date, now: Date): Promise<number> {
  return ex.transaction().execute(async (trx) => {
    const r = await trx
      .updateTable('mail_outbox')
      .set(erasedContent(now))
      .where('content_erased_at', 'is', null)
      .where('state', 'in', ['sent', 'failed', 'held'])
      .where(sql<Date>`coalesce(sent_at, created_at)`, '<', cutoff)
      .executeTakeFirst();
    const count = Number(r.numUpdatedRows);
    if (count > 0) await auditor.append(trx, { actor: 'system:purge-mail', action: 'mail.purge', detail: { count, before: cutoff.toISOString() } }, now);
    return count;
  });
}

export type OutboxEntry = Pick<
  MailRow,
  'id' | 'kind' | 'subject_id' | 'request_id' | 'state' | 'attempts' | 'next_attempt_at' | 'last_error' | 'created_at' | 'sent_at' | 'content_erased_at'
>;

/** The outbox newest first, without content (no address, no subject line): `before` is the id the last page ended on. */
export async function listOutbox(ex: Executor, page: { before?: string; limit: number }): Promise<OutboxEntry[]> {
  let q = ex
    .selectFrom('mail_outbox')
    .select(['id', 'kind', 'subject_id', 'request_id', 'state', 'attempts', 'next_attempt_at', 'last_error', 'created_at', 'sent_at', 'content_erased_at'])
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit);
  if (page.before) {
    const before = page.before;
    q = q.where((eb) =>
      eb(
        eb.refTuple('created_at', 'id'),
        '<',
        eb.selectFrom('mail_outbox as b').select(['b.created_at', 'b.id']).where('b.id', '=', before).$asTuple('created_at', 'id'),
      ),
    );
  }
  return q.execute();
}

/** One message with its content, for staff: the opening is in the audit trail, like a read of sealed values. */
export async function readMailMessage(ex: Executor, auditor: Auditor, id: string, actor: string): Promise<MailRow | undefined> {
  return ex.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    await auditor.append(trx, { actor, action: 'mail.read', subjectId: row.subject_id, detail: { message: id, kind: row.kind } });
    return row;
  });
}

/** Staff sent a held (or failed) message themselves. False when it is not in such a state (or its content is gone). */
export async function markMailSentByHand(ex: Executor, auditor: Auditor, mark: { id: string; actor: string; now: Date }): Promise<boolean> {
  return ex.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('mail_outbox')
      .set({ state: 'sent', sent_at: mark.now, next_attempt_at: null })
      .where('id', '=', mark.id)
      .where('state', 'in', ['held', 'failed'])
      .where('content_erased_at', 'is', null)
      .returning(['subject_id', 'kind'])
      .executeTakeFirst();
    if (!row) return false;
    await auditor.append(
      trx,
      { actor: mark.actor, action: 'mail.send', subjectId: row.subject_id, detail: { message: mark.id, kind: row.kind, by: 'hand' } },
      mark.now,
    );
    return true;
  });
}

/** Staff ask for another round of attempts: the message is queued again, due now, with a fresh count. */
export async function requeueMail(
  ex: Executor,
  auditor: Auditor,
  retry: { id: string; from: readonly MailState[]; actor: string; now: Date },
): Promise<boolean> {
  return ex.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('mail_outbox')
      .set({ state: 'queued', attempts: 0, next_attempt_at: retry.now, last_error: null })
      .where('id', '=', retry.id)
      .where('state', 'in', [...retry.from])
      .where('content_erased_at', 'is', null)
      .returning(['subject_id', 'kind'])
      .executeTakeFirst();
    if (!row) return false;
    await auditor.append(
      trx,
      { actor: retry.actor, action: 'mail.retry', subjectId: row.subject_id, detail: { message: retry.id, kind: row.kind } },
      retry.now,
    );
    return true;
  });
}
