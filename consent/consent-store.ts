// The only SQL for consent_event, the append-only consent ledger (the database refuses UPDATE and DELETE on it).
// Events keep the subject id they were given under: after a merge, the caller passes each subject's family (the
// subject and everyone merged into it, from subjects/), so a consent survives the merge.
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Auditor } from '../audit/auditor.ts';
import type { Tables } from '../db/tables.ts';
import type { ConsentMethod } from './tables.ts';

/** A consent given on a form or recorded by staff, as one row of a batch. */
export interface GivenConsentRow {
  readonly id: string;
  readonly subjectId: string;
  readonly purpose: string;
  readonly channel: string | null;
  readonly method: ConsentMethod;
  readonly point: string;
}

/**
 * For each family root, the purposes (of `purposes`) whose latest event across the family is "given".
 * `family` maps every member id (the root included) to its root.
 */
export async function consentedPurposes(
  ex: Kysely<Tables>,
  family: ReadonlyMap<string, string>,
  purposes: readonly string[],
): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  if (family.size === 0 || purposes.length === 0) return out;
  const { rows } = await sql<{ root: string; purpose: string; state: string }>`
    SELECT DISTINCT ON (f.root, c.purpose) f.root::text AS root, c.purpose, c.state
    FROM consent_event c JOIN unnest(${[...family.keys()]}::uuid[], ${[...family.values()]}::uuid[]) AS f(member, root) ON c.subject_id = f.member
    WHERE c.purpose = ANY(${[...purposes]}::text[])
    ORDER BY f.root, c.purpose, c.at DESC, c.id`.execute(ex);
  for (const r of rows) {
    if (r.state !== 'given') continue;
    let set = out.get(r.root);
    if (!set) out.set(r.root, (set = new Set()));
    set.add(r.purpose);
  }
  return out;
}

/**
 * The INSERT of consents given, as a data-modifying CTE of subjects/collect's batch statement, which carries their
 * `consent.record` audit events in the same statement.
 */
export function insertGivenConsentsSql(rows: readonly GivenConsentRow[], noticeFingerprint: string, now: Date): RawBuilder<unknown> {
  return sql`
    INSERT INTO consent_event (id, subject_id, purpose, channel, state, method, collection_point, notice_fingerprint, at)
    SELECT u.id, u.subject_id, u.purpose, u.channel, 'given', u.method, u.point, ${noticeFingerprint}, ${now}::timestamptz
    FROM unnest(${rows.map((c) => c.id)}::uuid[], ${rows.map((c) => c.subjectId)}::uuid[], ${rows.map((c) => c.purpose)}::text[],
                ${rows.map((c) => c.channel)}::text[], ${rows.map((c) => c.method)}::text[], ${rows.map((c) => c.point)}::text[])
         AS u(id, subject_id, purpose, channel, method, point)`;
}

/** A change of consent recorded one by one (a withdrawal, an objection to marketing), with its audit event. */
export interface ConsentEventInput {
  readonly subjectId: string;
  readonly purpose: string;
  readonly channel: string | null;
  readonly state: 'withdrawn' | 'refused';
  readonly method: ConsentMethod;
  readonly actor: string;
}

export async function recordConsentEvents(
  trx: Transaction<Tables>,
  auditor: Auditor,
  events: readonly ConsentEventInput[],
  noticeFingerprint: string,
  now: Date,
): Promise<void> {
  if (events.length === 0) return;
  await trx
    .insertInto('consent_event')
    .values(
      events.map((e) => ({
        id: crypto.randomUUID(),
        subject_id: e.subjectId,
        visitor_id: null,
        purpose: e.purpose,
        channel: e.channel,
        state: e.state,
        method: e.method,
        collection_point: null,
        notice_fingerprint: noticeFingerprint,
        at: now,
      })),
    )
    .execute();
  await auditor.appendMany(
    trx,
    events.map((e) => ({
      actor: e.actor,
      action: 'consent.record' as const,
      subjectId: e.subjectId,
      purpose: e.purpose,
      detail: { state: e.state, method: e.method },
    })),
  );
}

/** The purposes whose latest consent event for these people is "given". */
export async function givenPurposesOf(
  ex: Kysely<Tables>,
  subjectIds: readonly string[],
): Promise<{ subjectId: string; purpose: string; channel: string | null }[]> {
  if (subjectIds.length === 0) return [];
  const { rows } = await sql<{ subject_id: string; purpose: string; channel: string | null; state: string }>`
    SELECT DISTINCT ON (subject_id, purpose, channel) subject_id::text AS subject_id, purpose, channel, state
    FROM consent_event WHERE subject_id = ANY(${[...subjectIds]}::uuid[])
    ORDER BY subject_id, purpose, channel, at DESC, id`.execute(ex);
  return rows.filter((r) => r.state === 'given').map((r) => ({ subjectId: r.subject_id, purpose: r.purpose, channel: r.channel }));
}
