// Per-subject data keys (DEKs): made on first use, stored wrapped by the active master key, destroyed on erasure.
//
// What shredding guarantees, precisely: once `shredSubjectKey` has committed, the live database together with the
// master key can no longer open any value sealed for that subject, wherever such a value was copied (exports, logs
// of rows, replicas that follow the primary). A database backup taken BEFORE the shred still holds the wrapped DEK,
// so that backup plus the master key can still open the subject's values: backups age out on their own schedule,
// and the master key must never be stored with them (a backup without its master key opens nothing).
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Clock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import type { Tables } from '../db/tables.ts';
import { DekCache } from './dek-cache.ts';
import type { Keyring } from './keyring.ts';
import { KEY_BYTES, unwrapKey, wrapKey } from './seal.ts';

/** A database handle or a transaction (Kysely's Transaction is a Kysely). */
type Executor = Kysely<Tables>;

// One per process, and safe to share between keyrings and tests: every use is checked against the row just read
// and the exact master key object, so it only saves the unwrap, never decides whether a key exists.
const cache = new DekCache(10_000);

interface KeyRow {
  master_key_id: string | null;
  wrapped_key: Uint8Array | null;
}

/**
 * The subject's data key, made and stored (wrapped with the active master key) if it has none yet. Run it in the
 * transaction that writes the sealed values: the row is share-locked until that transaction ends, so a concurrent
 * erasure waits instead of destroying the key between our read and our write. Refuses (`subject_key_shredded`)
 * for an erased subject: its key is gone and none is made again.
 */
export async function getOrCreateSubjectKey(trx: Executor, keyring: Keyring, subjectId: string, clock: Clock): Promise<Uint8Array> {
  const existing = await readKeyRow(trx, subjectId, true);
  if (existing) return liveKey(keyring, subjectId, existing);

  const master = keyring.active();
  const dek = randomBytes(KEY_BYTES);
  const wrapped = wrapKey(master, dek, subjectId);
  const inserted = await trx
    .insertInto('subject_key')
    .values({ subject_id: subjectId, master_key_id: master.id, wrapped_key: wrapped, created_at: clock.now() })
    .onConflict((oc) => oc.column('subject_id').doNothing())
    .returning('subject_id')
    .executeTakeFirst()
    .catch((e: unknown) => {
      throw databaseError(e);
    });
  if (inserted) {
    cache.set(cacheKey(subjectId), master, wrapped, dek);
    const copy = new Uint8Array(dek);
    dek.fill(0); // randomBytes may hand out a slice of a shared pool: leave no stray copy behind
    return copy;
  }
  // Another transaction made the key first (ON CONFLICT waited for it to commit): use theirs.
  const theirs = await readKeyRow(trx, subjectId, true);
  if (!theirs) throw new CustodianError('conflict', 'a subject data key was being created concurrently; retry');
  return liveKey(keyring, subjectId, theirs);
}

/** A new subject's data key, and the row that stores it wrapped. */
export interface NewSubjectKeys {
  readonly keys: Map<string, Uint8Array>;
  readonly rows: { subject_id: string; master_key_id: string; wrapped_key: Uint8Array; created_at: Date }[];
}

/**
 * Data keys for subjects that the caller's transaction creates (so none can exist yet), and their rows, for the
 * caller to insert in that transaction (batched collection writes them within one statement with the subjects).
 */
export function makeSubjectKeys(keyring: Keyring, subjectIds: readonly string[], now: Date): NewSubjectKeys {
  const keys = new Map<string, Uint8Array>();
  if (subjectIds.length === 0) return { keys, rows: [] };
  const master = keyring.active();
  const rows = subjectIds.map((id) => {
    const dek = randomBytes(KEY_BYTES);
    keys.set(id, new Uint8Array(dek));
    const wrapped = wrapKey(master, dek, id);
    cache.set(cacheKey(id), master, wrapped, dek);
    return { subject_id: id, master_key_id: master.id, wrapped_key: wrapped, created_at: now };
  });
  return { keys, rows };
}

/** The subject's data key, or null when it has none: shredded (show the values as erased) or never made. */
export async function getSubjectKey(db: Executor, keyring: Keyring, subjectId: string): Promise<Uint8Array | null> {
  const row = await readKeyRow(db, subjectId, false);
  if (!row || row.wrapped_key === null || row.master_key_id === null) {
    cache.delete(cacheKey(subjectId));
    return null;
  }
  return unwrapCached(keyring, subjectId, row.master_key_id, row.wrapped_key);
}

/**
 * Destroys the subject's data key: irreversible once committed. Leaves a tombstone (also for a subject that never
 * had a key) so no new key is made for the subject. Returns false when it was shredded already.
 */
export async function shredSubjectKey(trx: Executor, subjectId: string, clock: Clock): Promise<boolean> {
  const now = clock.now();
  const row = await trx
    .insertInto('subject_key')
    .values({ subject_id: subjectId, master_key_id: null, wrapped_key: null, created_at: now, shredded_at: now })
    .onConflict((oc) =>
      oc
        .column('subject_id')
        .doUpdateSet({ master_key_id: null, wrapped_key: null, shredded_at: now })
        .where('subject_key.shredded_at', 'is', null),
    )
    .returning('subject_id')
    .executeTakeFirst()
    .catch((e: unknown) => {
      throw databaseError(e);
    });
  cache.delete(cacheKey(subjectId));
  return row !== undefined;
}

async function readKeyRow(db: Executor, subjectId: string, lock: boolean): Promise<KeyRow | undefined> {
  let query = db.selectFrom('subject_key').select(['master_key_id', 'wrapped_key']).where('subject_id', '=', subjectId);
  if (lock) query = query.forShare();
  return query.executeTakeFirst().catch((e: unknown) => {
    throw databaseError(e);
  });
}

function liveKey(keyring: Keyring, subjectId: string, row: KeyRow): Uint8Array {
  if (row.wrapped_key === null || row.master_key_id === null) {
    cache.delete(cacheKey(subjectId));
    throw new CustodianError('subject_key_shredded', 'this subject was erased: its data key is destroyed, so nothing more can be sealed for it');
  }
  return unwrapCached(keyring, subjectId, row.master_key_id, row.wrapped_key);
}

function unwrapCached(keyring: Keyring, subjectId: string, masterKeyId: string, wrapped: Uint8Array): Uint8Array {
  const master = keyring.resolve(masterKeyId);
  const id = cacheKey(subjectId);
  const hit = cache.get(id, master, wrapped);
  if (hit) return new Uint8Array(hit); // a copy: a caller that wipes its key must not wipe the cache's
  const dek = unwrapKey(master, wrapped, subjectId);
  cache.set(id, master, wrapped, dek);
  return dek;
}

function cacheKey(subjectId: string): string {
  return subjectId.toLowerCase();
}

function databaseError(e: unknown): unknown {
  const code = (e as { code?: unknown }).code;
  if (code === '23503') return new CustodianError('not_found', 'no such subject');
  if (code === '22P02') return new CustodianError('bad_request', 'a subject id must be a uuid');
  return e;
}
