// The only place with SQL for subjects, identifiers, records and consent events.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Tables } from '../db/tables.ts';
import type { RecordTable } from './tables.ts';

export type Executor = Kysely<Tables> | Transaction<Tables>;

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
  const rows = await trx.selectFrom('subject').select(['id', 'merged_into']).where('id', 'in', [...ids]).orderBy('id').forKeyShare().execute();
  return rows.length === new Set(ids).size && rows.every((r) => r.merged_into === null);
}

/**
 * For each subject, the purposes whose latest consent event is "given". Consents of people merged into a subject
 * count as its own: the ledger is append-only, so their events keep the old id, and merges are followed here.
 */
export async function consentedPurposesOf(ex: Executor, subjectIds: readonly string[], purposes: readonly string[]): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  if (subjectIds.length === 0 || purposes.length === 0) return out;
  const { rows } = await sql<{ subject_id: string; purpose: string; state: string }>`
    WITH RECURSIVE family(root, id) AS (
      SELECT s.id, s.id FROM subject s WHERE s.id = ANY(${[...subjectIds]}::uuid[])
      UNION ALL
      SELECT f.root, s.id FROM subject s JOIN family f ON s.merged_into = f.id
    )
    SELECT DISTINCT ON (f.root, c.purpose) f.root::text AS subject_id, c.purpose, c.state
    FROM consent_event c JOIN family f ON c.subject_id = f.id
    WHERE c.purpose = ANY(${[...purposes]}::text[])
    ORDER BY f.root, c.purpose, c.at DESC, c.id`.execute(ex);
  for (const r of rows) {
    if (r.state !== 'given') continue;
    let set = out.get(r.subject_id);
    if (!set) out.set(r.subject_id, (set = new Set()));
    set.add(r.purpose);
  }
  return out;
}

export interface SubjectOverview {
  readonly subject: { id: string; kind: string; createdAt: Date; mergedInto: string | null; erasedAt: Date | null };
  readonly identifiers: { kind: string; value: string }[];
  readonly records: Selectable<RecordTable>[];
}

export async function getSubjectOverview(ex: Executor, subjectId: string): Promise<SubjectOverview | null> {
  const subject = await ex.selectFrom('subject').selectAll().where('id', '=', subjectId).executeTakeFirst();
  if (!subject) return null;
  const [identifiers, records] = await Promise.all([
    ex.selectFrom('subject_identifier').select(['kind', 'value']).where('subject_id', '=', subjectId).orderBy('kind').execute(),
    ex.selectFrom('record').selectAll().where('subject_id', '=', subjectId).orderBy('collected_at').orderBy('field').execute(),
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

/** Moves everything `from` holds to `into` and marks `from` as merged. Returns the moved record ids. */
export async function mergeSubjectRows(trx: Transaction<Tables>, from: string, into: string): Promise<string[]> {
  const moved = await trx.updateTable('record').set({ subject_id: into }).where('subject_id', '=', from).returning('id').execute();
  await trx.updateTable('subject_identifier').set({ subject_id: into }).where('subject_id', '=', from).execute();
  await trx.updateTable('subject').set({ merged_into: into }).where('id', '=', from).execute();
  return moved.map((r) => r.id);
}

export async function lockSubjects(trx: Transaction<Tables>, ids: readonly string[]): Promise<{ id: string; kind: string; merged_into: string | null }[]> {
  return trx.selectFrom('subject').select(['id', 'kind', 'merged_into']).where('id', 'in', [...ids]).orderBy('id').forUpdate().execute();
}

export async function countRows(ex: Executor): Promise<{ subjects: number; records: number }> {
  const r = await sql<{ subjects: string; records: string }>`SELECT (SELECT count(*) FROM subject) AS subjects, (SELECT count(*) FROM record) AS records`.execute(ex);
  const row = r.rows[0];
  return { subjects: Number(row?.subjects ?? 0), records: Number(row?.records ?? 0) };
}
