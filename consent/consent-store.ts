// The only SQL for consent_event, the append-only consent ledger (the database refuses UPDATE and DELETE on it).
// Events keep the subject id they were given under: after a merge, the caller passes each subject's family (the
// subject and everyone merged into it, from subjects/), so a consent survives the merge.
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { eventDetailFieldsSql } from '../audit/audit-store.ts';
import type { AuditInput, Auditor } from '../audit/auditor.ts';
import { prepared } from '../db/prepared.ts';
import { timeOrderedId } from '../core/ids.ts';
import { DIGEST_LINE_SQL, type DigestRow, vouchingFor } from './ledger-digest.ts';
import type { Tables } from '../db/tables.ts';
import type { ConsentMethod, ConsentState } from './tables.ts';

/**
 * A consent given on a form or recorded by staff, as one row of a batch; or an objection ticked on a form; or what a
 * Global Privacy Control signal sent with the form records.
 */
export interface GivenConsentRow {
  readonly id: string;
  /** Rows recorded together under one audit event that names their receipt (a GPC signal sent with a form). */
  readonly receiptId?: string | null;
  readonly subjectId: string;
  readonly purpose: string;
  readonly channel: string | null;
  readonly method: ConsentMethod;
  readonly point: string;
  /**
   * 'given' unless said otherwise: 'pending' for email consent ticked on a public form (it counts once confirmed
   * from the mailbox), 'objected' for a form's objection box ("no news by post") or GPC, 'refused' for GPC,
   * 'soft-opt-in' for a sale whose refusal box was left unticked.
   */
  readonly state?: 'given' | 'pending' | 'objected' | 'refused' | 'soft-opt-in';
  /** A pending consent lapses then, unconfirmed. */
  readonly expiresAt?: Date | null;
  /** The form field that carried an objection; a soft opt-in's sale (`sale:<point>; <what>`). */
  readonly context?: string | null;
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
    INSERT INTO consent_event (id, receipt_id, subject_id, purpose, channel, state, method, collection_point, notice_fingerprint, at, expires_at, context)
    SELECT u.id, u.receipt_id, u.subject_id, u.purpose, u.channel, u.state, u.method, u.point, ${noticeFingerprint}, ${now}::timestamptz, u.expires_at, u.context
    FROM unnest(${rows.map((c) => c.id)}::uuid[], ${rows.map((c) => c.receiptId ?? null)}::uuid[], ${rows.map((c) => c.subjectId)}::uuid[], ${rows.map((c) => c.purpose)}::text[],
                ${rows.map((c) => c.channel)}::text[], ${rows.map((c) => c.method)}::text[], ${rows.map((c) => c.point)}::text[],
                ${rows.map((c) => c.state ?? 'given')}::text[], ${rows.map((c) => c.expiresAt ?? null)}::timestamptz[],
                ${rows.map((c) => c.context ?? null)}::text[])
         AS u(id, receipt_id, subject_id, purpose, channel, method, point, state, expires_at, context)`;
}

/** The rows insertGivenConsentsSql stores, as the ledger digest covers them (ledger-digest.ts). */
export function givenConsentDigestRows(rows: readonly GivenConsentRow[], noticeFingerprint: string, now: Date): DigestRow[] {
  return rows.map((c) => ({
    id: c.id,
    receiptId: c.receiptId ?? null,
    subjectId: c.subjectId,
    visitorId: null,
    purpose: c.purpose,
    channel: c.channel,
    state: c.state ?? 'given',
    method: c.method,
    point: c.point,
    noticeFingerprint,
    at: now,
    expiresAt: c.expiresAt ?? null,
    language: null,
    context: c.context ?? null,
  }));
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
  const rows = events.map((e) => ({
    id: timeOrderedId(),
    receiptId: null,
    subjectId: e.subjectId,
    visitorId: null,
    purpose: e.purpose,
    channel: e.channel,
    state: e.state,
    method: e.method,
    point: null,
    noticeFingerprint,
    at: now,
    expiresAt: null,
    language: null,
    context: null,
  }));
  await trx
    .insertInto('consent_event')
    .values(
      rows.map((r) => ({
        id: r.id,
        subject_id: r.subjectId,
        visitor_id: null,
        purpose: r.purpose,
        channel: r.channel,
        state: r.state,
        method: r.method,
        collection_point: null,
        notice_fingerprint: noticeFingerprint,
        at: now,
      })),
    )
    .execute();
  await auditor.appendMany(
    trx,
    vouchingFor(
      events.map((e, i) => ({
        actor: e.actor,
        action: 'consent.record' as const,
        subjectId: e.subjectId,
        purpose: e.purpose,
        detail: { state: e.state, method: e.method, consent: rows[i]!.id },
      })),
      rows,
    ),
    now,
  );
}

/**
 * The consents these people hold and can withdraw: purposes (per channel) whose latest event is "given", or
 * "pending" (email consent ticked on a form, not confirmed yet: withdrawn, its link no longer confirms anything).
 */
export async function heldConsentsOf(
  ex: Kysely<Tables>,
  subjectIds: readonly string[],
): Promise<{ subjectId: string; purpose: string; channel: string | null }[]> {
  if (subjectIds.length === 0) return [];
  const { rows } = await sql<{ subject_id: string; purpose: string; channel: string | null; state: string }>`
    SELECT DISTINCT ON (subject_id, purpose, channel) subject_id::text AS subject_id, purpose, channel, state
    FROM consent_event WHERE subject_id = ANY(${[...subjectIds]}::uuid[])
    ORDER BY subject_id, purpose, channel, at DESC, id`.execute(ex);
  return rows.filter((r) => r.state === 'given' || r.state === 'pending').map((r) => ({ subjectId: r.subject_id, purpose: r.purpose, channel: r.channel }));
}

/** One event of a receipt, as the ledger stores it. */
export interface LedgerRow {
  readonly id: string;
  readonly receiptId: string;
  readonly subjectId: string | null;
  readonly visitorId: string | null;
  readonly purpose: string;
  readonly channel: string | null;
  readonly state: ConsentState;
  readonly method: ConsentMethod;
  readonly point: string | null;
  readonly expiresAt: Date | null;
  readonly language: string | null;
  readonly context: string | null;
}

/** The INSERT of a batch's ledger rows, as a data-modifying CTE body; `guard` (a guarded append's) gates it. */
function insertLedgerSql(rows: readonly LedgerRow[], noticeFingerprint: string, now: Date, guard: RawBuilder<unknown> = sql`true`): RawBuilder<unknown> {
  const col = <K extends keyof LedgerRow>(k: K) => rows.map((r) => r[k]);
  return sql`
      INSERT INTO consent_event (id, receipt_id, subject_id, visitor_id, purpose, channel, state, method, collection_point,
                                 notice_fingerprint, at, expires_at, language, context)
      SELECT u.id, u.receipt_id, u.subject_id, u.visitor_id, u.purpose, u.channel, u.state, u.method, u.point,
             ${noticeFingerprint}, ${now}::timestamptz, u.expires_at, u.language, u.context
      FROM unnest(${col('id')}::uuid[], ${col('receiptId')}::uuid[], ${col('subjectId')}::uuid[], ${col('visitorId')}::text[],
                  ${col('purpose')}::text[], ${col('channel')}::text[], ${col('state')}::text[], ${col('method')}::text[],
                  ${col('point')}::text[], ${col('expiresAt')}::timestamptz[], ${col('language')}::text[], ${col('context')}::text[])
           AS u(id, receipt_id, subject_id, visitor_id, purpose, channel, state, method, point, expires_at, language, context)
      WHERE ${guard}`;
}

const ledgerDigestRows = (rows: readonly LedgerRow[], noticeFingerprint: string, now: Date): DigestRow[] =>
  rows.map((r) => ({ ...r, noticeFingerprint, at: now }));

/**
 * Receipts written together (group commit): their events and one `consent.record` audit event per receipt, in one
 * statement after the audit heads are locked. The caller's transaction commits before anyone is answered.
 */
export async function insertLedgerRows(
  trx: Transaction<Tables>,
  auditor: Auditor,
  rows: readonly LedgerRow[],
  audit: readonly AuditInput[],
  noticeFingerprint: string,
  now: Date,
): Promise<void> {
  if (rows.length === 0) return;
  const chained = await auditor.prepare(trx, vouchingFor(audit, ledgerDigestRows(rows, noticeFingerprint, now)), now);
  await sql`
    WITH events AS (${insertLedgerSql(rows, noticeFingerprint, now)}),
    audit_events AS (${chained.insertEvents}),
    audit_heads AS (${chained.advanceHeads})
    SELECT 1`.execute(trx);
}

/**
 * The same in one round trip and no explicit transaction (one statement commits alone), when the auditor can chain
 * onto a head it wrote last (Auditor.prepareGuarded): false when it could not, and then nothing was written.
 */
export async function insertLedgerRowsGuarded(
  db: Kysely<Tables>,
  auditor: Auditor,
  rows: readonly LedgerRow[],
  audit: readonly AuditInput[],
  noticeFingerprint: string,
  now: Date,
): Promise<boolean> {
  const guarded = auditor.prepareGuarded(vouchingFor(audit, ledgerDigestRows(rows, noticeFingerprint, now)), now);
  if (guarded === null) return false;
  // Always the same text (the rows travel as array parameters): prepared once per connection.
  const { rows: out } = await prepared(
    sql<{ held: boolean }>`
    WITH ${guarded.ctes},
    events AS (${insertLedgerSql(rows, noticeFingerprint, now, guarded.guard)})
    SELECT ${guarded.guard} AS held`,
  ).execute(db);
  const held = out[0]?.held === true;
  guarded.settle(held);
  return held;
}

/**
 * A stored event, as receipts and proofs show it: every column the ledger digest covers, with the receipt id filled
 * in (an event from before receipts is its own receipt) and the state and method typed.
 */
export interface LedgerEvent extends Omit<DigestRow, 'receiptId' | 'state' | 'method'> {
  readonly receiptId: string;
  readonly state: ConsentState;
  readonly method: ConsentMethod;
}

const EVENT_COLUMNS = sql`id::text AS id, coalesce(receipt_id, id)::text AS receipt_id, subject_id::text AS subject_id, visitor_id,
  purpose, channel, state, method, collection_point, notice_fingerprint, at, expires_at, language, context`;

interface EventRow {
  id: string;
  receipt_id: string;
  subject_id: string | null;
  visitor_id: string | null;
  purpose: string;
  channel: string | null;
  state: ConsentState;
  method: ConsentMethod;
  collection_point: string | null;
  notice_fingerprint: string;
  at: Date | string;
  expires_at: Date | string | null;
  language: string | null;
  context: string | null;
}

const toEvent = (r: EventRow): LedgerEvent => ({
  id: r.id,
  receiptId: r.receipt_id,
  subjectId: r.subject_id,
  visitorId: r.visitor_id,
  purpose: r.purpose,
  channel: r.channel,
  state: r.state,
  method: r.method,
  point: r.collection_point,
  noticeFingerprint: r.notice_fingerprint,
  at: new Date(r.at),
  expiresAt: r.expires_at === null ? null : new Date(r.expires_at),
  language: r.language,
  context: r.context,
});

/** Who the events are about: a visitor id, or people (a subject and those merged into it). */
export type ConsentHolder = { readonly visitorId: string } | { readonly subjectIds: readonly string[] };

/** Every event of a visitor or of people, oldest first: the proof of what they agreed to, when, under which notice. */
export async function eventsOf(ex: Kysely<Tables>, who: ConsentHolder): Promise<LedgerEvent[]> {
  const where = 'visitorId' in who ? sql`visitor_id = ${who.visitorId}` : sql`subject_id = ANY(${[...who.subjectIds]}::uuid[])`;
  const { rows } = await sql<EventRow>`SELECT ${EVENT_COLUMNS} FROM consent_event WHERE ${where} ORDER BY at, id`.execute(ex);
  return rows.map(toEvent);
}

/** The latest event per purpose and channel of a visitor or of people. */
export async function latestEventsOf(ex: Kysely<Tables>, who: ConsentHolder): Promise<LedgerEvent[]> {
  const where = 'visitorId' in who ? sql`visitor_id = ${who.visitorId}` : sql`subject_id = ANY(${[...who.subjectIds]}::uuid[])`;
  const { rows } = await sql<EventRow>`
    SELECT DISTINCT ON (purpose, channel) ${EVENT_COLUMNS} FROM consent_event WHERE ${where}
    ORDER BY purpose, channel, at DESC, id DESC`.execute(ex);
  return rows.map(toEvent);
}

/** The events of one receipt. */
export async function receiptEventsOf(ex: Kysely<Tables>, receiptId: string): Promise<LedgerEvent[]> {
  const { rows } = await sql<EventRow>`
    SELECT ${EVENT_COLUMNS} FROM consent_event WHERE receipt_id = ${receiptId}::uuid OR (receipt_id IS NULL AND id = ${receiptId}::uuid)
    ORDER BY purpose, channel, id`.execute(ex);
  return rows.map(toEvent);
}

/** Per day and purpose, how many banner and form choices gave, refused (GPC included) or withdrew consent. */
export async function consentCountsByDay(
  ex: Kysely<Tables>,
  from: Date,
  to: Date,
): Promise<{ day: string; purpose: string; state: ConsentState; n: number }[]> {
  const { rows } = await sql<{ day: string; purpose: string; state: ConsentState; n: string }>`
    SELECT to_char(date_trunc('day', at AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day, purpose, state, count(*)::text AS n
    FROM consent_event WHERE at >= ${from} AND at < ${to} AND state IN ('given', 'refused', 'withdrawn')
    GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`.execute(ex);
  return rows.map((r) => ({ ...r, n: Number(r.n) }));
}

/** The ledger held to the audit trail (ledger-digest.ts): what does not match, with the first key of each kind. */
export interface LedgerReconciliation {
  /** Receipts or rows whose stored rows no longer hash to the digest their audit event carries (changed or deleted). */
  readonly altered: number;
  readonly alteredExample: string | null;
  /** Ledger rows no audit event names (added behind the trail). */
  readonly unvouched: number;
  readonly unvouchedExample: string | null;
}

/** The digest of a group of ledger rows `c` (ledger-digest.ts), as an aggregate: of no rows, the digest of nothing. */
const ROWS_DIGEST_SQL = sql`encode(sha256(convert_to(coalesce(string_agg(${sql.raw(DIGEST_LINE_SQL)}, E'\n' ORDER BY c.id), ''), 'UTF8')), 'hex')`;

export async function reconcileLedger(ex: Kysely<Tables>): Promise<LedgerReconciliation> {
  const vouchers = eventDetailFieldsSql('consent.record', ['receipt', 'consent', 'rows']);
  const altered = await sql<{ n: string; example: string | null }>`
    WITH named AS (
      SELECT coalesce(receipt, consent) AS key, rows AS digest FROM (${vouchers}) v
      WHERE rows IS NOT NULL AND coalesce(receipt, consent) IS NOT NULL
    ),
    found AS (
      SELECT n.key, n.digest,
             ${ROWS_DIGEST_SQL} AS actual
      FROM named n LEFT JOIN consent_event c ON coalesce(c.receipt_id, c.id)::text = n.key
      GROUP BY n.key, n.digest
    )
    SELECT count(*)::text AS n, min(key) AS example FROM found WHERE actual <> digest`.execute(ex);
  const unvouched = await sql<{ n: string; example: string | null }>`
    SELECT count(*)::text AS n, min(coalesce(c.receipt_id, c.id)::text) AS example FROM consent_event c
    WHERE NOT EXISTS (SELECT 1 FROM (${vouchers}) v WHERE coalesce(v.receipt, v.consent) = coalesce(c.receipt_id, c.id)::text)`.execute(ex);
  return {
    altered: Number(altered.rows[0]?.n ?? 0),
    alteredExample: altered.rows[0]?.example ?? null,
    unvouched: Number(unvouched.rows[0]?.n ?? 0),
    unvouchedExample: unvouched.rows[0]?.example ?? null,
  };
}

/** The digest of the rows stored now under each receipt (or row id) asked for, as ledger-digest.ts makes it. */
export async function storedDigests(ex: Kysely<Tables>, keys: readonly string[]): Promise<Map<string, string>> {
  if (keys.length === 0) return new Map();
  const ids = [...keys];
  const { rows } = await sql<{ key: string; digest: string }>`
    SELECT coalesce(c.receipt_id, c.id)::text AS key,
           ${ROWS_DIGEST_SQL} AS digest
    FROM consent_event c
    WHERE c.receipt_id = ANY(${ids}::uuid[]) OR (c.receipt_id IS NULL AND c.id = ANY(${ids}::uuid[]))
    GROUP BY 1`.execute(ex);
  return new Map(rows.map((r) => [r.key, r.digest]));
}
