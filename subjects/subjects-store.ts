// The only SQL for subject, subject_identifier and record. What changes personal data, and every read of sealed
// values, appends its audit event here in the caller's transaction.
import { sql, type Kysely, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import { recordIdsOfEventsSql } from '../audit/audit-store.ts';
import type { Auditor } from '../audit/auditor.ts';
import type { Tables } from '../db/tables.ts';
import type { RecordTable } from './tables.ts';

type Executor = Kysely<Tables>;

export interface IdentifierInput {
  readonly kind: string;
  readonly value: string;
}

/** Follows merges to the subject that now holds the data. */
async function resolveMerged(ex: Executor, id: string): Promise<string> {
  let current = id;
  for (let i = 0; i < 16; i++) {
    const row = await ex.selectFrom('subject').select('merged_into').where('id', '=', current).executeTakeFirst();
    if (!row?.merged_into) return current;
    current = row.merged_into;
  }
  return current;
}

/** The subjects that own these identifiers, followed through merges. One query unless someone was merged. */
export async function findIdentifierOwners(ex: Executor, ids: readonly IdentifierInput[]): Promise<{ kind: string; value: string; subjectId: string }[]> {
  if (ids.length === 0) return [];
  const rows = await ex
    .selectFrom('subject_identifier')
    .innerJoin('subject', 'subject.id', 'subject_identifier.subject_id')
    .select(['subject_identifier.kind', 'subject_identifier.value', 'subject_identifier.subject_id', 'subject.merged_into'])
    .where((eb) => eb.or(ids.map((i) => eb.and([eb('subject_identifier.kind', '=', i.kind), eb('subject_identifier.value', '=', i.value)]))))
    .execute();
  const out: { kind: string; value: string; subjectId: string }[] = [];
  for (const r of rows) out.push({ kind: r.kind, value: r.value, subjectId: r.merged_into ? await resolveMerged(ex, r.merged_into) : r.subject_id });
  return out;
}

/**
 * Key-share locks on subjects that already exist, so a merge cannot move them while records are added; false when
 * one of them was merged (or is gone) since it was looked up.
 */
export async function lockKnownSubjects(trx: Transaction<Tables>, ids: readonly string[]): Promise<boolean> {
  const rows = await trx
    .selectFrom('subject')
    .select(['id', 'merged_into'])
    .where('id', 'in', [...ids])
    .orderBy('id')
    .forKeyShare()
    .execute();
  return rows.length === new Set(ids).size && rows.every((r) => r.merged_into === null);
}

/** Each subject and everyone merged into it (at any depth), as member id → the subject's id. */
export async function mergedFamilies(ex: Executor, subjectIds: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (subjectIds.length === 0) return out;
  const { rows } = await sql<{ root: string; id: string }>`
    WITH RECURSIVE family(root, id) AS (
      SELECT s.id, s.id FROM subject s WHERE s.id = ANY(${[...subjectIds]}::uuid[])
      UNION ALL
      SELECT f.root, s.id FROM subject s JOIN family f ON s.merged_into = f.id
    )
    SELECT root::text AS root, id::text AS id FROM family`.execute(ex);
  for (const r of rows) out.set(r.id, r.root);
  return out;
}

/** A record as staff see it: everything but the sealed bytes, which only readSealedValues hands out (audited). */
export type RecordRow = Omit<Selectable<RecordTable>, 'value_sealed'> & { readonly sealed: boolean };

export interface SubjectOverview {
  readonly subject: { id: string; kind: string; createdAt: Date; mergedInto: string | null; erasedAt: Date | null };
  readonly identifiers: { kind: string; value: string }[];
  readonly records: RecordRow[];
}

export async function getSubjectOverview(ex: Executor, subjectId: string): Promise<SubjectOverview | null> {
  const subject = await ex.selectFrom('subject').selectAll().where('id', '=', subjectId).executeTakeFirst();
  if (!subject) return null;
  const [identifiers, records] = await Promise.all([
    ex.selectFrom('subject_identifier').select(['kind', 'value']).where('subject_id', '=', subjectId).orderBy('kind').execute(),
    ex
      .selectFrom('record')
      .select([
        'id',
        'subject_id',
        'collection_point',
        'field',
        'category',
        'purposes',
        'bases',
        'source',
        'channel',
        'collected_at',
        'received_at',
        'retention_event',
        'retention_starts_at',
        'state',
        'value_text',
        'register_fingerprint',
        sql<boolean>`value_sealed IS NOT NULL`.as('sealed'),
      ])
      .where('subject_id', '=', subjectId)
      .orderBy('collected_at')
      .orderBy('field')
      .execute(),
  ]);
  return {
    subject: {
      id: subject.id,
      kind: subject.kind,
      createdAt: new Date(subject.created_at),
      mergedInto: subject.merged_into,
      erasedAt: subject.erased_at ? new Date(subject.erased_at) : null,
    },
    identifiers,
    records,
  };
}

/** The subject's sealed values (still sealed), and the read in the audit trail: nobody sees them unrecorded. */
export async function readSealedValues(ex: Executor, auditor: Auditor, subjectId: string, actor: string): Promise<{ id: string; sealed: Uint8Array }[]> {
  const rows = await ex
    .selectFrom('record')
    .select(['id', 'value_sealed'])
    .where('subject_id', '=', subjectId)
    .where('value_sealed', 'is not', null)
    .where('state', '!=', 'erased')
    .orderBy('id')
    .execute();
  if (rows.length === 0) return [];
  await auditor.append(ex, { actor, action: 'record.read-sealed', subjectId, recordIds: rows.map((r) => r.id), detail: { count: rows.length } });
  return rows.map((r) => ({ id: r.id, sealed: r.value_sealed! }));
}

export interface PersonMatch {
  readonly id: string;
  readonly kind: string;
  readonly mergedInto: string | null;
  /** The identifier kind that matched, or `id` for a Custodian id. */
  readonly matchedBy: string;
}

/**
 * Staff looking someone up: the people owning any of these identifiers, or this Custodian id. The search is in the
 * audit trail (who searched, which kinds of identifier, how many found), never what was typed.
 */
export async function searchPeople(
  ex: Executor,
  auditor: Auditor,
  search: { identifiers: readonly IdentifierInput[]; subjectId: string | null },
  actor: string,
): Promise<PersonMatch[]> {
  const ids = search.identifiers;
  const byIdentifier =
    ids.length === 0
      ? []
      : await ex
          .selectFrom('subject_identifier')
          .innerJoin('subject', 'subject.id', 'subject_identifier.subject_id')
          .select(['subject.id', 'subject.kind', 'subject.merged_into', 'subject_identifier.kind as idKind'])
          .where((eb) => eb.or(ids.map((c) => eb.and([eb('subject_identifier.kind', '=', c.kind), eb('subject_identifier.value', '=', c.value)]))))
          .execute();
  const byId =
    search.subjectId === null ? [] : await ex.selectFrom('subject').select(['id', 'kind', 'merged_into']).where('id', '=', search.subjectId).execute();
  const matches: PersonMatch[] = [
    ...byIdentifier.map((r) => ({ id: r.id, kind: r.kind, mergedInto: r.merged_into, matchedBy: r.idKind })),
    ...byId.map((r) => ({ id: r.id, kind: r.kind, mergedInto: r.merged_into, matchedBy: 'id' })),
  ];
  const tried = [...new Set([...ids.map((i) => i.kind), ...(search.subjectId === null ? [] : ['id'])])].sort();
  await auditor.append(ex, {
    actor,
    action: 'subject.search',
    detail: { tried: tried.join(',') || 'none', matched: [...new Set(matches.map((m) => m.matchedBy))].sort().join(',') || 'none', results: matches.length },
  });
  return matches;
}

/** Locks both subjects of a merge, in id order. */
export async function lockSubjects(trx: Transaction<Tables>, ids: readonly string[]): Promise<{ id: string; kind: string; merged_into: string | null }[]> {
  return trx
    .selectFrom('subject')
    .select(['id', 'kind', 'merged_into'])
    .where('id', 'in', [...ids])
    .orderBy('id')
    .forUpdate()
    .execute();
}

/** The sealed values a merge must re-seal under the key of the subject that stays. */
export async function sealedValuesToMove(trx: Transaction<Tables>, subjectId: string): Promise<{ id: string; sealed: Uint8Array }[]> {
  const rows = await trx
    .selectFrom('record')
    .select(['id', 'value_sealed'])
    .where('subject_id', '=', subjectId)
    .where('value_sealed', 'is not', null)
    .execute();
  return rows.map((r) => ({ id: r.id, sealed: r.value_sealed! }));
}

/**
 * Moves everything `from` holds to `into` (sealed values re-sealed by the caller under `into`'s key), marks `from`
 * as merged, and records the merge on both. Returns the moved record ids.
 */
export async function mergeSubjectRows(
  trx: Transaction<Tables>,
  auditor: Auditor,
  merge: { from: string; into: string; resealed: readonly { id: string; sealed: Uint8Array }[]; actor: string },
): Promise<string[]> {
  for (const r of merge.resealed)
    await trx.updateTable('record').set({ value_sealed: r.sealed }).where('id', '=', r.id).where('subject_id', '=', merge.from).execute();
  const moved = (await trx.updateTable('record').set({ subject_id: merge.into }).where('subject_id', '=', merge.from).returning('id').execute()).map(
    (r) => r.id,
  );
  await trx.updateTable('subject_identifier').set({ subject_id: merge.into }).where('subject_id', '=', merge.from).execute();
  await trx.updateTable('subject').set({ merged_into: merge.into }).where('id', '=', merge.from).execute();
  await auditor.appendMany(trx, [
    { actor: merge.actor, action: 'subject.merge', subjectId: merge.into, recordIds: moved, detail: { mergedFrom: merge.from } },
    { actor: merge.actor, action: 'subject.merge', subjectId: merge.from, recordIds: moved, detail: { mergedInto: merge.into } },
  ]);
  return moved;
}

/** Locks one subject for an erasure. */
export async function lockSubject(trx: Transaction<Tables>, subjectId: string): Promise<{ id: string; merged_into: string | null } | undefined> {
  return trx.selectFrom('subject').select(['id', 'merged_into']).where('id', '=', subjectId).forUpdate().executeTakeFirst();
}

/** After the subject's data key is destroyed: its sealed records are marked erased, and the shred recorded. */
export async function markSealedRecordsErased(trx: Transaction<Tables>, auditor: Auditor, subjectId: string, actor: string): Promise<number> {
  const records = await trx
    .updateTable('record')
    .set({ state: 'erased' })
    .where('subject_id', '=', subjectId)
    .where('value_sealed', 'is not', null)
    .returning('id')
    .execute();
  await auditor.append(trx, { actor, action: 'subject.key-shred', subjectId, recordIds: records.map((r) => r.id), detail: { sealed: records.length } });
  return records.length;
}

// What subjects/collect's batch statement writes into these tables, as data-modifying CTEs. Its audit events
// (subject.create, record.create) are in the same statement.

export interface NewIdentifier {
  readonly kind: string;
  readonly value: string;
  readonly subjectId: string;
}

/** Claims identifiers; whoever claims one first owns it. Returns 1 per claim won (a lost one means a retry). */
export function claimIdentifiersSql(claims: readonly NewIdentifier[], now: Date): RawBuilder<unknown> {
  return sql`
    INSERT INTO subject_identifier (kind, value, subject_id, created_at)
    SELECT u.kind, u.value, u.subject_id, ${now}::timestamptz
    FROM unnest(${claims.map((c) => c.kind)}::text[], ${claims.map((c) => c.value)}::text[], ${claims.map((c) => c.subjectId)}::uuid[])
         AS u(kind, value, subject_id)
    ON CONFLICT (kind, value) DO NOTHING
    RETURNING 1`;
}

export function insertSubjectsSql(subjects: readonly { id: string; kind: string }[], now: Date): RawBuilder<unknown> {
  return sql`
    INSERT INTO subject (id, kind, created_at)
    SELECT u.id, u.kind, ${now}::timestamptz FROM unnest(${subjects.map((n) => n.id)}::uuid[], ${subjects.map((n) => n.kind)}::text[]) AS u(id, kind)`;
}

/** Column arrays of the records to insert; purposes and bases as PostgreSQL array literals. */
export interface RecordColumns {
  readonly id: string[];
  readonly subjectId: string[];
  readonly point: string[];
  readonly field: string[];
  readonly category: string[];
  readonly purposes: string[];
  readonly bases: string[];
  readonly source: string[];
  readonly channel: string[];
  readonly receivedAt: (Date | null)[];
  readonly retentionEvent: string[];
  readonly retentionStartsAt: (Date | null)[];
  readonly text: (string | null)[];
  /** Hex of the sealed bytes. */
  readonly sealed: (string | null)[];
}

/** Column arrays for a batch that has no record yet. */
export function emptyRecordColumns(): RecordColumns {
  return {
    id: [],
    subjectId: [],
    point: [],
    field: [],
    category: [],
    purposes: [],
    bases: [],
    source: [],
    channel: [],
    receivedAt: [],
    retentionEvent: [],
    retentionStartsAt: [],
    text: [],
    sealed: [],
  };
}

export function insertRecordsSql(records: RecordColumns, fingerprint: string, now: Date): RawBuilder<unknown> {
  return sql`
    INSERT INTO record (id, subject_id, collection_point, field, category, purposes, bases, source, channel, collected_at, received_at,
                        retention_event, retention_starts_at, value_text, value_sealed, register_fingerprint)
    SELECT u.id, u.subject_id, u.point, u.field, u.category, u.purposes::text[], u.bases::text[], u.source, u.channel, ${now}::timestamptz,
           u.received_at, u.retention_event, u.retention_starts_at, u.value_text, decode(u.sealed, 'hex'), ${fingerprint}
    FROM unnest(${records.id}::uuid[], ${records.subjectId}::uuid[], ${records.point}::text[], ${records.field}::text[], ${records.category}::text[],
                ${records.purposes}::text[], ${records.bases}::text[], ${records.source}::text[], ${records.channel}::text[],
                ${records.receivedAt}::timestamptz[], ${records.retentionEvent}::text[], ${records.retentionStartsAt}::timestamptz[],
                ${records.text}::text[], ${records.sealed}::text[])
         AS u(id, subject_id, point, field, category, purposes, bases, source, channel, received_at, retention_event, retention_starts_at, value_text, sealed)`;
}

export interface RecordReconciliation {
  /** Records the trail says were created, and not deleted, that are not in the table; and the first of them. */
  readonly missing: number;
  readonly missingExample: string | null;
  /** Records in the table with no event saying they were created; and the first of them. */
  readonly unaccounted: number;
  readonly unaccountedExample: string | null;
}

/** The record table held to the trail (the record ids its events name, from the auditor's store): what is missing, what is extra. */
export async function reconcileRecordTable(ex: Executor): Promise<RecordReconciliation> {
  const trail = { created: recordIdsOfEventsSql('record.create'), deleted: recordIdsOfEventsSql('record.delete') };
  const { rows } = await sql<{ missing: string; missing_example: string | null; unaccounted: string; unaccounted_example: string | null }>`
    WITH created AS (${trail.created}), deleted AS (${trail.deleted}),
    missing AS (SELECT c.id FROM created c WHERE NOT EXISTS (SELECT 1 FROM record r WHERE r.id = c.id) AND NOT EXISTS (SELECT 1 FROM deleted d WHERE d.id = c.id)),
    unaccounted AS (SELECT r.id FROM record r WHERE NOT EXISTS (SELECT 1 FROM created c WHERE c.id = r.id))
    SELECT (SELECT count(*) FROM missing)::text AS missing, (SELECT min(id::text) FROM missing) AS missing_example,
           (SELECT count(*) FROM unaccounted)::text AS unaccounted, (SELECT min(id::text) FROM unaccounted) AS unaccounted_example`.execute(ex);
  const r = rows[0]!;
  return { missing: Number(r.missing), missingExample: r.missing_example, unaccounted: Number(r.unaccounted), unaccountedExample: r.unaccounted_example };
}
