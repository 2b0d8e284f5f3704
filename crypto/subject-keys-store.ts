// The only SQL for subject_key: one data key per subject, stored wrapped by a master key; a shredded row keeps its
// place (wrapped_key NULL) so no new key is ever made for an erased subject. Key rows hold key material, not
// personal data: the changes that matter (records sealed with a key, an erasure, a rotation) are audited by the
// stores that make them (subjects/, and recordKeyRotation below).
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Auditor } from '../audit/auditor.ts';
import type { AuditDetail } from '../audit/canonical-event.ts';
import { CustodianError } from '../core/errors.ts';
import type { Tables } from '../db/tables.ts';

type Executor = Kysely<Tables>;

export interface KeyRow {
  readonly master_key_id: string | null;
  readonly wrapped_key: Uint8Array | null;
}

export interface NewKeyRow {
  readonly subject_id: string;
  readonly master_key_id: string;
  readonly wrapped_key: Uint8Array;
  readonly created_at: Date;
}

/** The subject's key row; `lock` share-locks it until the transaction ends, so an erasure waits for the writer. */
export async function readKeyRow(ex: Executor, subjectId: string, lock: boolean): Promise<KeyRow | undefined> {
  let query = ex.selectFrom('subject_key').select(['master_key_id', 'wrapped_key']).where('subject_id', '=', subjectId);
  if (lock) query = query.forShare();
  return query.executeTakeFirst().catch(rethrow);
}

/** Stores a new key unless the subject has one (made concurrently, or shredded); true when this one was stored. */
export async function insertKeyRow(ex: Executor, row: NewKeyRow): Promise<boolean> {
  const inserted = await ex
    .insertInto('subject_key')
    .values({ ...row })
    .onConflict((oc) => oc.column('subject_id').doNothing())
    .returning('subject_id')
    .executeTakeFirst()
    .catch(rethrow);
  return inserted !== undefined;
}

/**
 * The INSERT of new subjects' keys as a data-modifying CTE, for subjects/collect's batch statement (which creates
 * those subjects in the same statement).
 */
export function insertKeyRowsSql(rows: readonly NewKeyRow[], now: Date): RawBuilder<unknown> {
  return sql`
    INSERT INTO subject_key (subject_id, master_key_id, wrapped_key, created_at)
    SELECT u.subject_id, u.master_key_id, decode(u.wrapped, 'hex'), ${now}::timestamptz
    FROM unnest(${rows.map((r) => r.subject_id)}::uuid[], ${rows.map((r) => r.master_key_id)}::text[],
                ${rows.map((r) => Buffer.from(r.wrapped_key).toString('hex'))}::text[]) AS u(subject_id, master_key_id, wrapped)`;
}

/** Destroys the wrapped key, leaving a tombstone (also for a subject that never had a key). False if already shredded. */
export async function shredKeyRow(ex: Executor, subjectId: string, now: Date): Promise<boolean> {
  const row = await ex
    .insertInto('subject_key')
    .values({ subject_id: subjectId, master_key_id: null, wrapped_key: null, created_at: now, shredded_at: now })
    .onConflict((oc) =>
      oc.column('subject_id').doUpdateSet({ master_key_id: null, wrapped_key: null, shredded_at: now }).where('subject_key.shredded_at', 'is', null),
    )
    .returning('subject_id')
    .executeTakeFirst()
    .catch(rethrow);
  return row !== undefined;
}

/** Live data keys per master key id, and the shredded count, in one scan. */
export async function countSubjectKeys(ex: Executor): Promise<{ byMasterKey: Map<string, number>; shredded: number }> {
  const rows = await ex
    .selectFrom('subject_key')
    .select(['master_key_id', sql<string>`count(*)::text`.as('n')])
    .groupBy('master_key_id')
    .execute();
  const byMasterKey = new Map<string, number>();
  let shredded = 0;
  for (const r of rows) {
    if (r.master_key_id === null) shredded += Number(r.n);
    else byMasterKey.set(r.master_key_id, Number(r.n));
  }
  return { byMasterKey, shredded };
}

/** Up to `size` live keys under `older` master keys after `after` in subject order, locked, skipping rows writers hold. */
export async function lockKeysToRewrap(
  trx: Transaction<Tables>,
  older: readonly string[],
  after: string | null,
  size: number,
): Promise<{ subject_id: string; master_key_id: string; wrapped_key: Uint8Array }[]> {
  let query = trx
    .selectFrom('subject_key')
    .select(['subject_id', 'master_key_id', 'wrapped_key'])
    .where('master_key_id', 'in', [...older]);
  if (after !== null) query = query.where('subject_id', '>', after);
  const rows = await query.orderBy('subject_id').limit(size).forUpdate().skipLocked().execute();
  // Rows with a master key id are live (a CHECK in the migration); the types cannot know that.
  return rows.map((r) => ({ subject_id: r.subject_id, master_key_id: r.master_key_id as string, wrapped_key: r.wrapped_key as Uint8Array }));
}

export async function storeRewrapped(
  trx: Transaction<Tables>,
  masterKeyId: string,
  rows: readonly { subjectId: string; wrapped: Uint8Array }[],
  now: Date,
): Promise<void> {
  const values = rows.map((r) => sql`(${r.subjectId}::uuid, ${r.wrapped}::bytea)`);
  await sql`
    UPDATE subject_key AS k SET master_key_id = ${masterKeyId}, wrapped_key = v.w, rotated_at = ${now}
    FROM (VALUES ${sql.join(values)}) AS v (id, w)
    WHERE k.subject_id = v.id`.execute(trx);
}

const ROTATION_LOCK = 7_311_022; // advisory lock: one rotation at a time (two would each add a key to the file)

/** A session advisory lock on this connection, or null when another rotation holds it; call the result to release. */
export async function tryRotationLock(conn: Executor): Promise<(() => Promise<void>) | null> {
  const got = await sql<{ ok: boolean }>`SELECT pg_try_advisory_lock(${ROTATION_LOCK}) AS ok`.execute(conn);
  if (got.rows[0]?.ok !== true) return null;
  return async () => {
    await sql`SELECT pg_advisory_unlock(${ROTATION_LOCK})`.execute(conn);
  };
}

/** A master key rotation, recorded once when it ends (the re-wrapping itself changes no data). */
export async function recordKeyRotation(ex: Executor, auditor: Auditor, actor: string, detail: AuditDetail): Promise<void> {
  await auditor.append(ex, { actor, action: 'keys.rotate', detail });
}

function rethrow(e: unknown): never {
  const code = (e as { code?: unknown }).code;
  if (code === '23503') throw new CustodianError('not_found', 'no such subject');
  if (code === '22P02') throw new CustodianError('bad_request', 'a subject id must be a uuid');
  throw e;
}
