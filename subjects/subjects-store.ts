// The only place with SQL for subjects, identifiers, records and consent events.
import { randomUUID } from 'node:crypto';
import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Tables } from '../db/tables.ts';
import type { ConsentEventTable, RecordTable } from './tables.ts';

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

export async function findSubjectByIdentifiers(ex: Executor, ids: readonly IdentifierInput[]): Promise<string | null> {
  if (ids.length === 0) return null;
  const rows = await ex
    .selectFrom('subject_identifier')
    .select(['kind', 'value', 'subject_id'])
    .where((eb) => eb.or(ids.map((i) => eb.and([eb('kind', '=', i.kind), eb('value', '=', i.value)]))))
    .execute();
  // Prefer the identifier the form lists first: the strongest one is declared first.
  for (const id of ids) {
    const hit = rows.find((r) => r.kind === id.kind && r.value === id.value);
    if (hit) return resolveMerged(ex, hit.subject_id);
  }
  return null;
}

/**
 * Finds the subject these identifiers name, or creates one of `kind`. Safe under concurrency: a new subject's
 * identifiers are claimed with ON CONFLICT DO NOTHING, and a submission that loses the race joins the winner.
 */
export async function findOrCreateSubject(
  trx: Transaction<Tables>,
  kind: string,
  ids: readonly IdentifierInput[],
  now: Date,
): Promise<{ subjectId: string; created: boolean }> {
  const existing = await findSubjectByIdentifiers(trx, ids);
  if (existing) {
    await claimIdentifiers(trx, existing, ids, now);
    return { subjectId: existing, created: false };
  }
  const newId = randomUUID();
  const claimed = await claimIdentifiers(trx, newId, ids, now);
  if (claimed < ids.length) {
    const winner = await findSubjectByIdentifiers(trx, ids);
    if (winner && winner !== newId) {
      await trx.updateTable('subject_identifier').set({ subject_id: winner }).where('subject_id', '=', newId).execute();
      return { subjectId: winner, created: false };
    }
  }
  await trx.insertInto('subject').values({ id: newId, kind, created_at: now, merged_into: null, erased_at: null }).execute();
  return { subjectId: newId, created: true };
}

async function claimIdentifiers(trx: Transaction<Tables>, subjectId: string, ids: readonly IdentifierInput[], now: Date): Promise<number> {
  if (ids.length === 0) return 0;
  const inserted = await trx
    .insertInto('subject_identifier')
    .values(ids.map((i) => ({ kind: i.kind, value: i.value, subject_id: subjectId, created_at: now })))
    .onConflict((oc) => oc.columns(['kind', 'value']).doNothing())
    .returning('kind')
    .execute();
  return inserted.length;
}

export async function insertRecords(trx: Transaction<Tables>, rows: readonly Insertable<RecordTable>[]): Promise<void> {
  if (rows.length > 0) await trx.insertInto('record').values([...rows]).execute();
}

export async function insertConsentEvents(trx: Transaction<Tables>, rows: readonly Omit<Insertable<ConsentEventTable>, 'id'>[]): Promise<string[]> {
  if (rows.length === 0) return [];
  const withIds = rows.map((r) => ({ ...r, id: randomUUID() }));
  await trx.insertInto('consent_event').values(withIds).execute();
  return withIds.map((r) => r.id);
}

/** Purposes for which the subject's latest consent event is "given". */
export async function consentedPurposes(ex: Executor, subjectId: string, purposes: readonly string[]): Promise<Set<string>> {
  if (purposes.length === 0) return new Set();
  const rows = await ex
    .selectFrom('consent_event')
    .select(['purpose', 'state'])
    .distinctOn('purpose')
    .where('subject_id', '=', subjectId)
    .where('purpose', 'in', [...purposes])
    .orderBy('purpose')
    .orderBy('at', 'desc')
    .execute();
  return new Set(rows.filter((r) => r.state === 'given').map((r) => r.purpose));
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
