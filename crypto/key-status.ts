// What the database holds in keys: how many live data keys each master key wraps, and how many were shredded.
// Rotation uses it to know which old master keys are still needed; `custodian keys status` prints it.
import type { Kysely } from 'kysely';
import type { Tables } from '../db/tables.ts';
import { describeKeySource, type Keyring } from './keyring.ts';
import { countSubjectKeys } from './subject-keys-store.ts';

export interface KeyStatus {
  readonly source: string;
  readonly activeKeyId: string;
  readonly knownKeyIds: readonly string[];
  /** Live (unshredded) data keys per master key id; `known` is false when this keyring cannot unwrap them. */
  readonly byMasterKey: readonly { readonly masterKeyId: string; readonly count: number; readonly known: boolean }[];
  readonly shredded: number;
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

/** The master key ids that wrap live data keys in this database, sorted. */
export async function masterKeysInUse(db: Kysely<Tables>): Promise<string[]> {
  return [...(await countSubjectKeys(db)).byMasterKey.keys()].sort();
}
