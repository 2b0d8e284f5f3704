// The only SQL for consent_confirmation: the confirmation mails of email consent ticked on public forms, until their
// link is used or runs out. A row names the pending ledger event its link confirms; the address is only a keyed hash.
import { sql, type Kysely } from 'kysely';
import type { Auditor } from '../audit/auditor.ts';
import type { Tables } from '../db/tables.ts';

export interface ConfirmationRow {
  readonly eventId: string;
  readonly subjectId: string;
  readonly purpose: string;
  readonly channel: string | null;
  readonly addressHash: Uint8Array;
  readonly sentAt: Date;
  readonly confirmBy: Date;
}

/**
 * A confirmation about to be mailed; false when this address already has one outstanding for the purpose and channel
 * (one mail at a time: a link that ran out no longer counts). The caller queues the mail, audited, in the same
 * transaction.
 */
export async function insertConfirmation(ex: Kysely<Tables>, row: ConfirmationRow): Promise<boolean> {
  const hash = Buffer.from(row.addressHash);
  // A link of this address that ran out gives way (its row is only waiting for the hourly purge).
  await sql`
    DELETE FROM consent_confirmation
    WHERE address_hash = ${hash} AND purpose = ${row.purpose} AND coalesce(channel, '') = ${row.channel ?? ''} AND confirm_by <= ${row.sentAt}::timestamptz`.execute(
    ex,
  );
  // One outstanding per address, purpose and channel (the unique index): a second, even at the same moment, adds nothing.
  const { rows } = await sql<{ event_id: string }>`
    INSERT INTO consent_confirmation (event_id, subject_id, purpose, channel, address_hash, sent_at, confirm_by)
    VALUES (${row.eventId}::uuid, ${row.subjectId}::uuid, ${row.purpose}, ${row.channel}::text, ${hash}, ${row.sentAt}::timestamptz, ${row.confirmBy}::timestamptz)
    ON CONFLICT DO NOTHING
    RETURNING event_id::text AS event_id`.execute(ex);
  return rows.length === 1;
}

/** The confirmation a link names, if it is still outstanding. */
export async function outstandingConfirmation(ex: Kysely<Tables>, eventId: string, now: Date): Promise<{ purpose: string } | undefined> {
  return ex.selectFrom('consent_confirmation').select('purpose').where('event_id', '=', eventId).where('confirm_by', '>', now).executeTakeFirst();
}

/**
 * The confirmation a link names, taken (deleted) so that it works once, if it has not run out; undefined otherwise.
 * The caller records the consent it confirms, audited, in the same transaction.
 */
export async function takeConfirmation(
  ex: Kysely<Tables>,
  eventId: string,
  now: Date,
): Promise<{ subjectId: string; purpose: string; channel: string | null } | undefined> {
  const row = await ex
    .deleteFrom('consent_confirmation')
    .where('event_id', '=', eventId)
    .where('confirm_by', '>', now)
    .returning(['subject_id', 'purpose', 'channel'])
    .executeTakeFirst();
  return row && { subjectId: row.subject_id, purpose: row.purpose, channel: row.channel };
}

/** Confirmations whose link ran out: deleted (the consent they waited for has lapsed in the ledger); returns how many. */
export async function purgeLapsedConfirmations(ex: Kysely<Tables>, auditor: Auditor, now: Date): Promise<number> {
  const gone = await ex.deleteFrom('consent_confirmation').where('confirm_by', '<=', now).returning('event_id').execute();
  if (gone.length > 0)
    await auditor.append(ex, { actor: 'system:email-consent', action: 'consent.record', detail: { state: 'expired', unconfirmed: gone.length } });
  return gone.length;
}
