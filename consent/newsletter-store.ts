// The only SQL for newsletter_subscriber: double opt-in sign-ups, pending until confirmed from the mailbox. Every
// change is audited (ids only, never the address).
import type { Kysely } from 'kysely';
import type { Auditor } from '../audit/auditor.ts';
import type { Tables } from '../db/tables.ts';

export interface SubscriberRow {
  readonly id: string;
  readonly email: string;
  readonly language: string;
  readonly interests: string[];
  readonly state: 'pending' | 'confirmed';
  readonly confirm_by: Date;
}

const COLUMNS = ['id', 'email', 'language', 'interests', 'state', 'confirm_by'] as const;

export async function subscriberByEmail(ex: Kysely<Tables>, email: string): Promise<SubscriberRow | undefined> {
  return ex.selectFrom('newsletter_subscriber').select(COLUMNS).where('email', '=', email).executeTakeFirst();
}

export async function subscriberById(ex: Kysely<Tables>, id: string, lock = false): Promise<SubscriberRow | undefined> {
  const q = ex.selectFrom('newsletter_subscriber').select(COLUMNS).where('id', '=', id);
  return lock ? q.forUpdate().executeTakeFirst() : q.executeTakeFirst();
}

/** A pending sign-up; false when the address has one already. */
export async function insertSubscriber(
  ex: Kysely<Tables>,
  auditor: Auditor,
  row: { id: string; email: string; language: string; interests: string[]; now: Date; confirmBy: Date; fingerprint: string; actor: string },
): Promise<boolean> {
  const added = await ex
    .insertInto('newsletter_subscriber')
    .values({
      id: row.id,
      email: row.email,
      language: row.language,
      interests: row.interests,
      state: 'pending',
      created_at: row.now,
      confirm_by: row.confirmBy,
      notice_fingerprint: row.fingerprint,
    })
    // Two sign-ups of one address at once: the second adds nothing (and sends nothing).
    .onConflict((oc) => oc.column('email').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!added) return false;
  await auditor.append(ex, { actor: row.actor, action: 'newsletter.subscribe', detail: { subscriber: row.id } });
  return true;
}

/** A pending sign-up whose link is still valid becomes confirmed; returns whether it did. */
export async function confirmSubscriber(ex: Kysely<Tables>, auditor: Auditor, input: { id: string; now: Date; actor: string }): Promise<boolean> {
  const done = await ex
    .updateTable('newsletter_subscriber')
    .set({ state: 'confirmed', confirmed_at: input.now })
    .where('id', '=', input.id)
    .where('state', '=', 'pending')
    .where('confirm_by', '>', input.now)
    .executeTakeFirst();
  if (Number(done.numUpdatedRows) === 0) return false;
  await auditor.append(ex, { actor: input.actor, action: 'newsletter.confirm', detail: { subscriber: input.id } });
  return true;
}

/** Unsubscribing: the sign-up and its address are deleted. */
export async function deleteSubscriber(ex: Kysely<Tables>, auditor: Auditor, input: { id: string; actor: string }): Promise<boolean> {
  const done = await ex.deleteFrom('newsletter_subscriber').where('id', '=', input.id).executeTakeFirst();
  if (Number(done.numDeletedRows) === 0) return false;
  await auditor.append(ex, { actor: input.actor, action: 'newsletter.unsubscribe', detail: { subscriber: input.id } });
  return true;
}

/** Sign-ups never confirmed whose link ran out: deleted; returns how many. */
export async function purgeUnconfirmedSubscribers(ex: Kysely<Tables>, auditor: Auditor, now: Date): Promise<number> {
  const gone = await ex.deleteFrom('newsletter_subscriber').where('state', '=', 'pending').where('confirm_by', '<=', now).returning('id').execute();
  if (gone.length > 0) await auditor.append(ex, { actor: 'system:newsletter', action: 'newsletter.purge', detail: { count: gone.length } });
  return gone.length;
}

export async function confirmedSubscribers(ex: Kysely<Tables>): Promise<SubscriberRow[]> {
  return ex.selectFrom('newsletter_subscriber').select(COLUMNS).where('state', '=', 'confirmed').orderBy('id').execute();
}
