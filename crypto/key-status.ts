// What the database holds in keys: how many live data keys each master key wraps, and how many were shredded.
// Rotation uses it to know which old master keys are still needed; `custodian keys status` prints it.
import { sql, type Kysely } from 'kysely';
import type { Tables } from '../db/tables.ts';
import { describeKeySource, type Keyring } from './keyring.ts';

export interface KeyStatus {
  readonly source: string;
  readonly activeKeyId: string;
  readonly knownKeyIds: readonly string[];
  /** Live (unshredded) data keys per master key id; `known` is false when this keyring cannot unwrap them. */
  readonly byMasterKey: readonly { readonly masterKeyId: string; readonly count: number; readonly known: boolean }[];
  readonly shredded: number;
}

/** Live data keys per master key id, and the shredded count, in one scan. */
export async function countSubjectKeys(db: Kysely<Tables>): Promise<{ byMasterKey: Map<string, number>; shredded: number }> {
  const rows = await db
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

export async function keyStatus(db: Kysely<Tables>, keyring: Keyring): Promise<KeyStatus> {
  const { byMasterKey, shredded } = await countSubjectKeys(db);
  return {
    source: describeKeySource(keyring.source),
    activeKeyId: keyring.active().id,
    knownKeyIds: keyring.ids(),
    byMasterKey: [...byMasterKey]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([masterKeyId, count]) => ({ masterKeyId, count, known: keyring.get(masterKeyId) !== undefined })),
    shredded,
  };
}
