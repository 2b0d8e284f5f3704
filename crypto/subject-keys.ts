// Per-subject data keys (DEKs): made on first use, stored wrapped by the active master key, destroyed on erasure.
// One SubjectKeys per app (and per writer thread), holding the keyring and its cache of unwrapped keys.
//
// What shredding guarantees, precisely: once `shred` has committed, the live database together with the master key
// can no longer open any value sealed for that subject, wherever such a value was copied (exports, logs of rows,
// replicas that follow the primary). A database backup taken BEFORE the shred still holds the wrapped DEK, so that
// backup plus the master key can still open the subject's values: backups age out on their own schedule, and the
// master key must never be stored with them (a backup without its master key opens nothing).
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { CustodianError } from '../core/errors.ts';
import type { Tables } from '../db/tables.ts';
import { DekCache } from './dek-cache.ts';
import type { Keyring } from './keyring.ts';
import { KEY_BYTES, unwrapKey, wrapKey } from './seal.ts';
import { insertKeyRow, readKeyRow, shredKeyRow, type KeyRow, type NewKeyRow } from './subject-keys-store.ts';

/** New subjects' data keys, and the rows that store them wrapped (for the caller's transaction to insert). */
export interface NewSubjectKeys {
  readonly keys: Map<string, Uint8Array>;
  readonly rows: NewKeyRow[];
}

export class SubjectKeys {
  readonly keyring: Keyring;
  // Every use is checked against the row just read and the exact master key object, so the cache only saves the
  // unwrap, never decides whether a key exists.
  readonly #cache: DekCache;

  constructor(keyring: Keyring, options: { cacheSize?: number } = {}) {
    this.keyring = keyring;
    this.#cache = new DekCache(options.cacheSize ?? 10_000);
  }

  /** Unwrapped keys held in memory now. */
  get cached(): number {
    return this.#cache.size;
  }

  /**
   * The subject's data key, made and stored (wrapped with the active master key) if it has none yet. Run it in the
   * transaction that writes the sealed values: the row is share-locked until that transaction ends, so a concurrent
   * erasure waits instead of destroying the key between our read and our write. Refuses (`subject_key_shredded`)
   * for an erased subject: its key is gone and none is made again.
   */
  async getOrCreate(trx: Kysely<Tables>, subjectId: string, now: Date): Promise<Uint8Array> {
    const existing = await readKeyRow(trx, subjectId, true);
    if (existing) return this.#live(subjectId, existing);
    const master = this.keyring.active();
    const dek = randomBytes(KEY_BYTES);
    const wrapped = wrapKey(master, dek, subjectId);
    if (await insertKeyRow(trx, { subject_id: subjectId, master_key_id: master.id, wrapped_key: wrapped, created_at: now })) {
      this.#cache.set(cacheKey(subjectId), master, wrapped, dek);
      const copy = new Uint8Array(dek);
      dek.fill(0); // randomBytes may hand out a slice of a shared pool: leave no stray copy behind
      return copy;
    }
    // Another transaction made the key first (ON CONFLICT waited for it to commit): use theirs.
    const theirs = await readKeyRow(trx, subjectId, true);
    if (!theirs) throw new CustodianError('conflict', 'a subject data key was being created concurrently; retry');
    return this.#live(subjectId, theirs);
  }

  /**
   * Data keys for subjects that the caller's transaction creates (so none can exist yet), and their rows, for the
   * caller to insert in that transaction (batched collection writes them within one statement with the subjects).
   */
  makeNew(subjectIds: readonly string[], now: Date): NewSubjectKeys {
    const keys = new Map<string, Uint8Array>();
    if (subjectIds.length === 0) return { keys, rows: [] };
    const master = this.keyring.active();
    const rows = subjectIds.map((id) => {
      const dek = randomBytes(KEY_BYTES);
      keys.set(id, new Uint8Array(dek));
      const wrapped = wrapKey(master, dek, id);
      this.#cache.set(cacheKey(id), master, wrapped, dek);
      return { subject_id: id, master_key_id: master.id, wrapped_key: wrapped, created_at: now };
    });
    return { keys, rows };
  }

  /** The subject's data key, or null when it has none: shredded (show the values as erased) or never made. */
  async get(ex: Kysely<Tables>, subjectId: string): Promise<Uint8Array | null> {
    const row = await readKeyRow(ex, subjectId, false);
    if (!row || row.wrapped_key === null || row.master_key_id === null) {
      this.#cache.delete(cacheKey(subjectId));
      return null;
    }
    return this.#unwrap(subjectId, row.master_key_id, row.wrapped_key);
  }

  /**
   * Destroys the subject's data key: irreversible once committed. Leaves a tombstone (also for a subject that never
   * had a key) so no new key is made for the subject. Returns false when it was shredded already. Called by
   * subjects/erase-subject.ts, which records the erasure with the records it closes.
   */
  async shred(trx: Kysely<Tables>, subjectId: string, now: Date): Promise<boolean> {
    const shredded = await shredKeyRow(trx, subjectId, now);
    this.#cache.delete(cacheKey(subjectId));
    return shredded;
  }

  #live(subjectId: string, row: KeyRow): Uint8Array {
    if (row.wrapped_key === null || row.master_key_id === null) {
      this.#cache.delete(cacheKey(subjectId));
      throw new CustodianError('subject_key_shredded', 'this subject was erased: its data key is destroyed, so nothing more can be sealed for it');
    }
    return this.#unwrap(subjectId, row.master_key_id, row.wrapped_key);
  }

  #unwrap(subjectId: string, masterKeyId: string, wrapped: Uint8Array): Uint8Array {
    const master = this.keyring.resolve(masterKeyId);
    const id = cacheKey(subjectId);
    const hit = this.#cache.get(id, master, wrapped);
    if (hit) return new Uint8Array(hit); // a copy: a caller that wipes its key must not wipe the cache's
    const dek = unwrapKey(master, wrapped, subjectId);
    this.#cache.set(id, master, wrapped, dek);
    return dek;
  }
}

function cacheKey(subjectId: string): string {
  return subjectId.toLowerCase();
}
