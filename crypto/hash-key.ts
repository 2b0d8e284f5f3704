// Secrets for keyed hashes (HMAC-SHA-256), such as the marketing suppression list's: a hash of an email address that
// must still match after the person is erased and after every master key rotation, yet mean nothing to someone
// holding only the database. The secret is random, made once per database, and stored wrapped by a master key;
// rotation re-wraps it (rotate-master-key.ts), so its hashes never change.
import { createHmac, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Tables } from '../db/tables.ts';
import { allHashKeys, insertHashKey, readHashKey, storeRewrappedHashKey } from './hash-keys-store.ts';
import type { Keyring } from './keyring.ts';
import { KEY_BYTES, unwrapKey, wrapKey } from './seal.ts';

/** The AAD a hash key is wrapped under: its name, so one key's row cannot stand in for another's. */
const aad = (name: string) => `hash-key:${name}`;

export class HashKeys {
  readonly #keyring: Keyring;
  readonly #cache = new Map<string, Promise<Uint8Array>>();

  constructor(keyring: Keyring) {
    this.#keyring = keyring;
  }

  /** The secret named `name`, made and stored on first use. */
  key(db: Kysely<Tables>, name: string, now: Date): Promise<Uint8Array> {
    let key = this.#cache.get(name);
    if (!key) {
      key = this.#load(db, name, now);
      key.catch(() => this.#cache.delete(name));
      this.#cache.set(name, key);
    }
    return key;
  }

  /** HMAC-SHA-256 of `text` under the secret named `name`. */
  async hash(db: Kysely<Tables>, name: string, text: string, now: Date): Promise<Buffer> {
    return createHmac('sha256', await this.key(db, name, now))
      .update(text, 'utf8')
      .digest();
  }

  async #load(db: Kysely<Tables>, name: string, now: Date): Promise<Uint8Array> {
    let row = await readHashKey(db, name);
    if (!row) {
      const active = this.#keyring.active();
      const secret = randomBytes(KEY_BYTES);
      row = await insertHashKey(db, { name, master_key_id: active.id, wrapped_key: wrapKey(active, secret, aad(name)) }, now);
    }
    return unwrapKey(this.#keyring.resolve(row.master_key_id), row.wrapped_key, aad(name));
  }
}

/** Rotation: every hash key under an older master key is re-wrapped with the active one; returns how many. */
export async function rewrapHashKeys(db: Kysely<Tables>, keyring: Keyring, now: Date): Promise<number> {
  const active = keyring.active();
  let n = 0;
  for (const row of await allHashKeys(db)) {
    if (row.master_key_id === active.id) continue;
    const secret = unwrapKey(keyring.resolve(row.master_key_id), row.wrapped_key, aad(row.name));
    await storeRewrappedHashKey(db, { name: row.name, master_key_id: active.id, wrapped_key: wrapKey(active, secret, aad(row.name)) }, now);
    secret.fill(0);
    n++;
  }
  return n;
}

/** The master key ids hash keys are wrapped under (rotation keeps them until re-wrapped). */
export async function hashKeyMasterIds(db: Kysely<Tables>): Promise<Set<string>> {
  return new Set((await allHashKeys(db)).map((r) => r.master_key_id));
}
