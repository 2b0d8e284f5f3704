// The only SQL for subject, subject_identifier and record. What changes personal data, and every read of sealed
// values, appends its audit event here in the caller's transaction.
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import { recordIdsOfEventsSql } from '../audit/audit-store.ts';
import type { Auditor } from '../audit/auditor.ts';
import type { Tables } from '../db/tables.ts';
import type { RecordTable, SubjectMergeTable } from './tables.ts';

type Executor = Kysely<Tables>;

export interface IdentifierInput {
  readonly kind: string;
  readonly value: string;
}

/** The subject that now holds a row's data: itself, or where merges took it. */
function holderOf(ex: Executor, row: { subject: string; mergedInto: string | null }): Promise<string> {
  return row.mergedInto ? resolveMerged(ex, row.mergedInto) : Promise.resolve(row.subject);
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

/** An identifier as a submission carries it: how far it names a person, and within which scope. */
export interface SubmittedIdentifier extends IdentifierInput {
  /** '*' across the register; '<field>=<issuer>' within an issuer; '' when nobody knows the issuer. */
  readonly scope: string;
  readonly strong: boolean;
}

/**
 * The people staff have vouched for as holding these strong identifiers (verified, in a known scope, not retired),
 * followed through merges. One owner each at most: a unique index holds it.
 */
export async function findVerifiedOwners(
  ex: Executor,
  ids: readonly SubmittedIdentifier[],
): Promise<{ kind: string; scope: string; value: string; subjectId: string }[]> {
  const wanted = ids.filter((i) => i.strong && i.scope !== '');
  if (wanted.length === 0) return [];
  const rows = await ex
    .selectFrom('subject_identifier')
    .innerJoin('subject', 'subject.id', 'subject_identifier.subject_id')
    .select(['subject_identifier.kind', 'subject_identifier.scope', 'subject_identifier.value', 'subject_identifier.subject_id', 'subject.merged_into'])
    .where('subject_identifier.strong', '=', true)
    .where('subject_identifier.verified', '=', true)
    .where('subject_identifier.retired_at', 'is', null)
    .where((eb) =>
      eb.or(
        wanted.map((i) =>
          eb.and([eb('subject_identifier.kind', '=', i.kind), eb('subject_identifier.value', '=', i.value), eb('subject_identifier.scope', '=', i.scope)]),
        ),
      ),
    )
    .execute();
  const out: { kind: string; scope: string; value: string; subjectId: string }[] = [];
  for (const r of rows)
    out.push({ kind: r.kind, scope: r.scope, value: r.value, subjectId: await holderOf(ex, { subject: r.subject_id, mergedInto: r.merged_into }) });
  return out;
}

/** A person who shares an identifier with a submission, found by index (kind, value), at most a few per identifier. */
export interface Holder {
  /** Index into the identifiers asked about. */
  readonly identifier: number;
  /** The person now holding it (followed through merges). */
  readonly subjectId: string;
}

/** A value one of the holders has in clear for one of the asked (collection point, field) pairs. */
export interface PlainValue {
  readonly subjectId: string;
  readonly point: string;
  readonly field: string;
  readonly value: string;
}

/**
 * Who else holds each of these identifiers: live people of the given kind (not erased), through live identifier
 * rows in the same scope, and what they hold in clear for the `fields` asked (their names and birth dates; sealed
 * values stay unknown). An identifier held by more than `limit` people is a shared line (a practice's switchboard)
 * and says nothing about anyone: it comes back in `widelyShared` instead. One statement of indexed look-ups.
 */
export async function findHolders(
  ex: Executor,
  asked: readonly (SubmittedIdentifier & { readonly subjectKind: string })[],
  limit: number,
  fields: readonly { point: string; field: string }[],
): Promise<{ holders: Holder[]; widelyShared: Set<number>; values: PlainValue[] }> {
  const known = asked.map((i, n) => ({ ...i, n })).filter((i) => i.scope !== '');
  if (known.length === 0) return { holders: [], widelyShared: new Set(), values: [] };
  const { rows } = await sql<{ n: number; subject_id: string; merged_into: string | null; plain: [string, string, string][] }>`
    SELECT q.n::int AS n, h.subject_id::text AS subject_id, h.merged_into::text AS merged_into,
           (SELECT coalesce(json_agg(json_build_array(r.collection_point, r.field, r.value_text)), '[]'::json)
            FROM record r
            WHERE r.subject_id = coalesce(h.merged_into, h.subject_id) AND r.state = 'active' AND r.value_text IS NOT NULL
              AND (r.collection_point, r.field) IN (SELECT t.p, t.f FROM unnest(${fields.map((f) => f.point)}::text[], ${fields.map((f) => f.field)}::text[]) AS t(p, f))
           ) AS plain
    FROM unnest(${known.map((i) => i.kind)}::text[], ${known.map((i) => i.value)}::text[], ${known.map((i) => i.scope)}::text[],
                ${known.map((i) => i.subjectKind)}::text[], ${known.map((i) => i.n)}::int[]) AS q(kind, value, scope, subject_kind, n)
    CROSS JOIN LATERAL (
      SELECT si.subject_id, s.merged_into FROM subject_identifier si JOIN subject s ON s.id = si.subject_id
      WHERE si.kind = q.kind AND si.value = q.value AND si.scope = q.scope AND si.retired_at IS NULL
        AND s.kind = q.subject_kind AND s.erased_at IS NULL
      LIMIT ${limit + 1}
    ) h`.execute(ex);
  const counts = new Map<number, number>();
  for (const r of rows) counts.set(r.n, (counts.get(r.n) ?? 0) + 1);
  const widelyShared = new Set([...counts].filter(([, c]) => c > limit).map(([n]) => n));
  const holders: Holder[] = [];
  const values = new Map<string, PlainValue>();
  const deeper: string[] = [];
  const seen = new Set<string>();
  for (const r of rows) {
    if (widelyShared.has(r.n)) continue;
    const subjectId = await holderOf(ex, { subject: r.subject_id, mergedInto: r.merged_into });
    if (seen.has(`${r.n}:${subjectId}`)) continue;
    seen.add(`${r.n}:${subjectId}`);
    holders.push({ identifier: r.n, subjectId });
    // Values were read from one merge up; someone merged twice is read again where the records are now.
    if (r.merged_into && r.merged_into !== subjectId) deeper.push(subjectId);
    else for (const [point, field, value] of r.plain) values.set(`${subjectId}\u0000${point}\u0000${field}\u0000${value}`, { subjectId, point, field, value });
  }
  for (const v of await plainValuesOf(ex, [...new Set(deeper)], fields)) values.set(`${v.subjectId}\u0000${v.point}\u0000${v.field}\u0000${v.value}`, v);
  return { holders, widelyShared, values: [...values.values()] };
}

/** The values of these (collection point, field) pairs the people hold in clear (sealed ones stay unknown). */
async function plainValuesOf(ex: Executor, subjectIds: readonly string[], fields: readonly { point: string; field: string }[]): Promise<PlainValue[]> {
  if (subjectIds.length === 0 || fields.length === 0) return [];
  const rows = await ex
    .selectFrom('record')
    .select(['subject_id', 'collection_point', 'field', 'value_text'])
    .where('subject_id', 'in', [...subjectIds])
    .where('state', '=', 'active')
    .where('value_text', 'is not', null)
    .where((eb) => eb.or(fields.map((f) => eb.and([eb('collection_point', '=', f.point), eb('field', '=', f.field)]))))
    .execute();
  return rows.map((r) => ({ subjectId: r.subject_id, point: r.collection_point!, field: r.field, value: r.value_text! }));
}

/** The people staff chose for submissions, as they stand now: kind, whether erased, and where merged to. */
export async function chosenSubjects(ex: Executor, ids: readonly string[]): Promise<Map<string, { kind: string; erased: boolean; holder: string }>> {
  const out = new Map<string, { kind: string; erased: boolean; holder: string }>();
  if (ids.length === 0) return out;
  const rows = await ex
    .selectFrom('subject')
    .select(['id', 'kind', 'merged_into', 'erased_at'])
    .where('id', 'in', [...ids])
    .execute();
  for (const r of rows) out.set(r.id, { kind: r.kind, erased: r.erased_at !== null, holder: await holderOf(ex, { subject: r.id, mergedInto: r.merged_into }) });
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
  /** Their identifiers and those of everyone merged into them; retired ones (after an erasure) included. */
  readonly identifiers: IdentifierRow[];
  readonly records: RecordRow[];
}

interface IdentifierRow {
  readonly kind: string;
  readonly value: string;
  readonly strong: boolean;
  readonly verified: boolean;
  readonly retired: boolean;
}

export async function getSubjectOverview(ex: Executor, subjectId: string): Promise<SubjectOverview | null> {
  const subject = await ex.selectFrom('subject').selectAll().where('id', '=', subjectId).executeTakeFirst();
  if (!subject) return null;
  const family = [...(await mergedFamilies(ex, [subjectId])).keys()];
  const [identifierRows, records] = await Promise.all([
    ex
      .selectFrom('subject_identifier')
      .select(['kind', 'value', 'strong', 'verified', 'retired_at'])
      .where('subject_id', 'in', family)
      .orderBy('kind')
      .orderBy('value')
      .execute(),
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
    identifiers: dedupeIdentifiers(identifierRows),
    records,
  };
}

/** One line per identifier (a merge leaves a copy on each side). */
function dedupeIdentifiers(rows: readonly { kind: string; value: string; strong: boolean; verified: boolean; retired_at: unknown }[]): IdentifierRow[] {
  const out = new Map<string, IdentifierRow>();
  for (const r of rows) {
    const key = `${r.kind}\u0000${r.value}`;
    const prev = out.get(key);
    out.set(key, {
      kind: r.kind,
      value: r.value,
      strong: r.strong,
      verified: r.verified || (prev?.verified ?? false),
      retired: r.retired_at !== null && (prev?.retired ?? true),
    });
  }
  return [...out.values()];
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
  // An identifier stays with the record it came in on; a merged record's leads to the person who holds it now.
  const matches: PersonMatch[] = [];
  const seen = new Set<string>();
  for (const r of byIdentifier) {
    const id = await holderOf(ex, { subject: r.id, mergedInto: r.merged_into });
    if (seen.has(`${id}:${r.idKind}`)) continue;
    seen.add(`${id}:${r.idKind}`);
    matches.push({ id, kind: r.kind, mergedInto: null, matchedBy: r.idKind });
  }
  matches.push(...byId.map((r) => ({ id: r.id, kind: r.kind, mergedInto: r.merged_into, matchedBy: 'id' })));
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
 * Moves every record `from` holds to `into` (sealed values re-sealed by the caller under `into`'s key), marks `from`
 * as merged, keeps which records moved (so the merge can be undone until confirmed), and records it on both. The
 * identifiers stay where they are: whoever looks one up follows `merged_into`. Returns the moved record ids.
 */
export async function mergeSubjectRows(
  trx: Transaction<Tables>,
  auditor: Auditor,
  merge: { id: string; from: string; into: string; resealed: readonly { id: string; sealed: Uint8Array }[]; actor: string; now: Date },
): Promise<string[]> {
  for (const r of merge.resealed)
    await trx.updateTable('record').set({ value_sealed: r.sealed }).where('id', '=', r.id).where('subject_id', '=', merge.from).execute();
  const moved = (await trx.updateTable('record').set({ subject_id: merge.into }).where('subject_id', '=', merge.from).returning('id').execute()).map(
    (r) => r.id,
  );
  await trx.updateTable('subject').set({ merged_into: merge.into }).where('id', '=', merge.from).execute();
  await trx
    .insertInto('subject_merge')
    .values({
      id: merge.id,
      from_subject: merge.from,
      into_subject: merge.into,
      record_ids: sql<string[]>`${moved}::uuid[]`,
      merged_at: merge.now,
      merged_by: merge.actor,
    })
    .execute();
  await auditor.appendMany(trx, [
    { actor: merge.actor, action: 'subject.merge', subjectId: merge.into, recordIds: moved, detail: { mergedFrom: merge.from, merge: merge.id } },
    { actor: merge.actor, action: 'subject.merge', subjectId: merge.from, recordIds: moved, detail: { mergedInto: merge.into, merge: merge.id } },
  ]);
  return moved;
}

export interface MergeRow {
  readonly id: string;
  readonly from: string;
  readonly into: string;
  readonly recordIds: string[];
  readonly state: 'pending' | 'confirmed' | 'undone';
  readonly mergedAt: Date;
  readonly mergedBy: string;
}

const toMerge = (r: Selectable<SubjectMergeTable>): MergeRow => ({
  id: r.id,
  from: r.from_subject,
  into: r.into_subject,
  recordIds: r.record_ids,
  state: r.state,
  mergedAt: new Date(r.merged_at),
  mergedBy: r.merged_by,
});

/** One merge, locked for a decision. */
export async function lockMerge(trx: Transaction<Tables>, mergeId: string): Promise<MergeRow | undefined> {
  const row = await trx.selectFrom('subject_merge').selectAll().where('id', '=', mergeId).forUpdate().executeTakeFirst();
  return row ? toMerge(row) : undefined;
}

/** The merges that involve this person, newest first. */
export async function mergesOf(ex: Executor, subjectId: string): Promise<MergeRow[]> {
  const rows = await ex
    .selectFrom('subject_merge')
    .selectAll()
    .where((eb) => eb.or([eb('into_subject', '=', subjectId), eb('from_subject', '=', subjectId)]))
    .orderBy('merged_at', 'desc')
    .execute();
  return rows.map(toMerge);
}

/** Whether a later merge, still in force, took in `subjectId` (so an earlier one into it cannot be undone first). */
export async function mergedSince(ex: Executor, subjectId: string): Promise<boolean> {
  const row = await ex.selectFrom('subject').select('merged_into').where('id', '=', subjectId).executeTakeFirst();
  return Boolean(row?.merged_into);
}

/** The sealed values of the merged records still with `into`, for the caller to re-seal under `from`'s key. */
export async function sealedValuesToReturn(trx: Transaction<Tables>, merge: MergeRow): Promise<{ id: string; sealed: Uint8Array }[]> {
  if (merge.recordIds.length === 0) return [];
  const rows = await trx
    .selectFrom('record')
    .select(['id', 'value_sealed'])
    .where('id', 'in', merge.recordIds)
    .where('subject_id', '=', merge.into)
    .where('value_sealed', 'is not', null)
    .execute();
  return rows.map((r) => ({ id: r.id, sealed: r.value_sealed! }));
}

/** Undoes a pending merge: the records it moved (still with `into`) go back, `from` stands alone again. */
export async function unmergeSubjectRows(
  trx: Transaction<Tables>,
  auditor: Auditor,
  undo: { merge: MergeRow; resealed: readonly { id: string; sealed: Uint8Array }[]; actor: string; now: Date },
): Promise<string[]> {
  const { merge } = undo;
  for (const r of undo.resealed)
    await trx.updateTable('record').set({ value_sealed: r.sealed }).where('id', '=', r.id).where('subject_id', '=', merge.into).execute();
  const back =
    merge.recordIds.length === 0
      ? []
      : (
          await trx
            .updateTable('record')
            .set({ subject_id: merge.from })
            .where('id', 'in', merge.recordIds)
            .where('subject_id', '=', merge.into)
            .returning('id')
            .execute()
        ).map((r) => r.id);
  await trx.updateTable('subject').set({ merged_into: null }).where('id', '=', merge.from).execute();
  await trx.updateTable('subject_merge').set({ state: 'undone', decided_at: undo.now, decided_by: undo.actor }).where('id', '=', merge.id).execute();
  await auditor.appendMany(trx, [
    { actor: undo.actor, action: 'subject.unmerge', subjectId: merge.into, recordIds: back, detail: { merge: merge.id, separated: merge.from } },
    { actor: undo.actor, action: 'subject.unmerge', subjectId: merge.from, recordIds: back, detail: { merge: merge.id, separatedFrom: merge.into } },
  ]);
  return back;
}

/** Confirms a pending merge: from now on it cannot be undone. */
export async function confirmMergeRow(trx: Transaction<Tables>, auditor: Auditor, confirm: { merge: MergeRow; actor: string; now: Date }): Promise<void> {
  await trx
    .updateTable('subject_merge')
    .set({ state: 'confirmed', decided_at: confirm.now, decided_by: confirm.actor })
    .where('id', '=', confirm.merge.id)
    .execute();
  await auditor.append(trx, {
    actor: confirm.actor,
    action: 'subject.merge-confirm',
    subjectId: confirm.merge.into,
    detail: { merge: confirm.merge.id, mergedFrom: confirm.merge.from },
  });
}

/** Locks one subject for an erasure. */
export async function lockSubject(trx: Transaction<Tables>, subjectId: string): Promise<{ id: string; merged_into: string | null } | undefined> {
  return trx.selectFrom('subject').select(['id', 'merged_into']).where('id', '=', subjectId).forUpdate().executeTakeFirst();
}

/** The subject's records not yet erased, with what a retention check needs. */
export async function liveRecordsOf(ex: Executor, subjectId: string): Promise<RecordRow[]> {
  return (await getSubjectOverview(ex, subjectId))?.records.filter((r) => r.state !== 'erased') ?? [];
}

/**
 * After the subject's data key is destroyed: its sealed records are marked erased, it and everyone merged into it
 * are marked erased and their identifiers deleted (so nobody is ever found by them again: a new submission with the
 * same email is a new person, and no answer reveals the erasure), and the shred recorded with why retention allowed it.
 */
export async function recordSubjectShred(
  trx: Transaction<Tables>,
  auditor: Auditor,
  shred: { subjectId: string; actor: string; now: Date; overrideRetention?: { reason: string; records: number } },
): Promise<number> {
  const { subjectId } = shred;
  const records = await trx
    .updateTable('record')
    .set({ state: 'erased' })
    .where('subject_id', '=', subjectId)
    .where('value_sealed', 'is not', null)
    .returning('id')
    .execute();
  // Unreadable without the key already; deleted as well, so nothing of the files is left to guard.
  if (records.length > 0)
    await trx
      .deleteFrom('record_file')
      .where(
        'record_id',
        'in',
        records.map((r) => r.id),
      )
      .execute();
  const family = [...(await mergedFamilies(trx, [subjectId])).keys()];
  await trx.updateTable('subject').set({ erased_at: shred.now }).where('id', 'in', family).where('erased_at', 'is', null).execute();
  // Deleted, not kept retired: an identifier is the person's data too (their email, phone, patient number).
  const retired = await trx.deleteFrom('subject_identifier').where('subject_id', 'in', family).returning('kind').execute();
  const override = shred.overrideRetention ? { id: randomUUID(), ...shred.overrideRetention } : null;
  if (override) {
    await trx
      .insertInto('retention_override')
      .values({ id: override.id, subject_id: subjectId, reason: override.reason, records: override.records, actor: shred.actor, at: shred.now })
      .execute();
  }
  await auditor.append(trx, {
    actor: shred.actor,
    action: 'subject.key-shred',
    subjectId,
    recordIds: records.map((r) => r.id),
    detail: {
      sealed: records.length,
      identifiersRemoved: retired.length,
      ...(override ? { retentionOverride: override.id, keptRecords: override.records } : {}),
    },
  });
  return records.length;
}

// What subjects/collect's batch statement writes into these tables, as data-modifying CTEs. Its audit events
// (subject.create, record.create) are in the same statement.

export interface NewIdentifier extends SubmittedIdentifier {
  readonly subjectId: string;
  /** Staff vouched for it: a strong one then has this one owner (a unique index refuses a second). */
  readonly verified: boolean;
}

/**
 * Stores a subject's identifiers; one it holds already is only marked verified when staff now vouch for it. A
 * verified strong identifier another transaction just gave someone else fails with `subject_identifier_owner`:
 * the caller retries, and finds that owner.
 */
export function claimIdentifiersSql(claims: readonly NewIdentifier[], now: Date): RawBuilder<unknown> {
  return sql`
    INSERT INTO subject_identifier (kind, value, scope, strong, verified, subject_id, created_at)
    SELECT u.kind, u.value, u.scope, u.strong, u.verified, u.subject_id, ${now}::timestamptz
    FROM unnest(${claims.map((c) => c.kind)}::text[], ${claims.map((c) => c.value)}::text[], ${claims.map((c) => c.scope)}::text[],
                ${claims.map((c) => c.strong)}::boolean[], ${claims.map((c) => c.verified)}::boolean[], ${claims.map((c) => c.subjectId)}::uuid[])
         AS u(kind, value, scope, strong, verified, subject_id)
    ON CONFLICT (subject_id, kind, scope, value) DO UPDATE SET verified = subject_identifier.verified OR EXCLUDED.verified
    RETURNING 1`;
}

/** A verified strong identifier claimed by two transactions at once: the loser retries. */
export function isIdentifierOwnerConflict(error: unknown): boolean {
  const e = error as { code?: unknown; constraint?: unknown; message?: unknown } | null;
  return e?.code === '23505' && (e.constraint === 'subject_identifier_owner' || String(e.message).includes('subject_identifier_owner'));
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

/** Why a shred overrode retention, as given (the audit event names the row). */
export async function retentionOverride(ex: Executor, id: string): Promise<{ reason: string; records: number; actor: string } | undefined> {
  return ex.selectFrom('retention_override').select(['reason', 'records', 'actor']).where('id', '=', id).executeTakeFirst();
}

/**
 * Erasure of single records (a rights request decided per record): the value is deleted, plain or sealed, and the
 * record kept as a tombstone (id, field, category, dates) so the evidence of what was erased survives.
 */
export async function eraseRecords(
  trx: Transaction<Tables>,
  auditor: Auditor,
  erase: { subjectId: string; recordIds: readonly string[]; actor: string; reason: string },
): Promise<number> {
  if (erase.recordIds.length === 0) return 0;
  const rows = await trx
    .updateTable('record')
    .set({ state: 'erased', value_text: null, value_sealed: null })
    .where('subject_id', '=', erase.subjectId)
    .where('id', 'in', [...erase.recordIds])
    .where('state', '!=', 'erased')
    .returning('id')
    .execute();
  // A file field's file goes with its value (the record keeps only its tombstone).
  if (rows.length > 0)
    await trx
      .deleteFrom('record_file')
      .where(
        'record_id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
  await auditor.append(trx, {
    actor: erase.actor,
    action: 'record.delete',
    subjectId: erase.subjectId,
    recordIds: rows.map((r) => r.id),
    detail: { reason: erase.reason, count: rows.length },
  });
  return rows.length;
}

/** Restriction (Art. 18, or a record kept against an erasure request): stored only, blocked from other processing. */
export async function setRecordsRestricted(
  trx: Transaction<Tables>,
  auditor: Auditor,
  change: { subjectId: string; recordIds: readonly string[]; restricted: boolean; actor: string; reason: string },
): Promise<number> {
  if (change.recordIds.length === 0) return 0;
  const rows = await trx
    .updateTable('record')
    .set({ state: change.restricted ? 'restricted' : 'active' })
    .where('subject_id', '=', change.subjectId)
    .where('id', 'in', [...change.recordIds])
    .where('state', '=', change.restricted ? 'active' : 'restricted')
    .returning('id')
    .execute();
  await auditor.append(trx, {
    actor: change.actor,
    action: 'record.restrict',
    subjectId: change.subjectId,
    recordIds: rows.map((r) => r.id),
    detail: { restricted: change.restricted, reason: change.reason, count: rows.length },
  });
  return rows.length;
}

/**
 * Rectification: the record's value replaced (sealed again when its category is sealed). The audit event carries
 * keyed hashes of the value before and after (keyed by the person's data key, so they mean nothing once it is
 * shredded), never the values.
 */
export async function rectifyRecordValue(
  trx: Transaction<Tables>,
  auditor: Auditor,
  change: {
    subjectId: string;
    recordId: string;
    value: { text: string } | { sealed: Uint8Array };
    beforeHash: string;
    afterHash: string;
    actor: string;
    request: string;
  },
): Promise<boolean> {
  const row = await trx
    .updateTable('record')
    .set('text' in change.value ? { value_text: change.value.text, value_sealed: null } : { value_text: null, value_sealed: change.value.sealed })
    .where('id', '=', change.recordId)
    .where('subject_id', '=', change.subjectId)
    .where('state', '!=', 'erased')
    .returning('id')
    .executeTakeFirst();
  if (!row) return false;
  await auditor.append(trx, {
    actor: change.actor,
    action: 'record.update',
    subjectId: change.subjectId,
    recordIds: [change.recordId],
    detail: { request: change.request, before: change.beforeHash, after: change.afterHash },
  });
  return true;
}

/** One record of a person, with its value as stored, for a rectification. */
export async function recordForUpdate(
  trx: Transaction<Tables>,
  subjectId: string,
  recordId: string,
): Promise<{ id: string; category: string; field: string; state: string; value_text: string | null; value_sealed: Uint8Array | null } | undefined> {
  return trx
    .selectFrom('record')
    .select(['id', 'category', 'field', 'state', 'value_text', 'value_sealed'])
    .where('id', '=', recordId)
    .where('subject_id', '=', subjectId)
    .forUpdate()
    .executeTakeFirst();
}
