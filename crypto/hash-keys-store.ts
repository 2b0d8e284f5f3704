// The only SQL for hash_key: secrets for keyed hashes, stored wrapped by a master key. Not personal data and not
// audited (key material, as subject_key's rows); the rotation that re-wraps them is audited once (recordKeyRotation).
import { sql, type Kysely } from 'kysely';
import type { Tables } from '../db/tables.ts';

export interface HashKeyRow {
  readonly name: string;
  readonly master_key_id: string;
  readonly wrapped_key: Uint8Array;
}

export async function readHashKey(ex: Kysely<Tables>, name: string): Promise<HashKeyRow | undefined> {
  return ex.selectFrom('hash_key').select(['name', 'master_key_id', 'wrapped_key']).where('name', '=', name).executeTakeFirst();
}

/** Stores a new hash key unless another process stored one first; returns the row that won. */
export async function insertHashKey(ex: Kysely<Tables>, row: HashKeyRow, now: Date): Promise<HashKeyRow> {
  await ex
    .insertInto('hash_key')
    .values({ ...row, created_at: now })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  return (await readHashKey(ex, row.name))!;
}

export async function allHashKeys(ex: Kysely<Tables>): Promise<HashKeyRow[]> {
  return ex.selectFrom('hash_key').select(['name', 'master_key_id', 'wrapped_key']).orderBy('name').execute();
}

export async function storeRewrappedHashKey(ex: Kysely<Tables>, row: HashKeyRow, now: Date): Promise<void> {
  await sql`UPDATE hash_key SET master_key_id = ${row.master_key_id}, wrapped_key = ${row.wrapped_key}, rotated_at = ${now} WHERE name = ${row.name}`.execute(
    ex,
  );
}
