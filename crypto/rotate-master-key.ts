// Master key rotation while the service keeps running: add a new active key to the key file (old ones stay, so
// servers can still unwrap), re-wrap every live subject data key in small transactions that skip rows a writer
// holds, and optionally retire the old keys once no data key uses them. Data keys themselves do not change, so no
// sealed value is touched.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { Auditor } from '../audit/auditor.ts';
import type { Clock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import type { Db } from '../db/connect.ts';
import type { Tables } from '../db/tables.ts';
import { hashKeyMasterIds, rewrapHashKeys } from './hash-key.ts';
import { readKeyFile, writeKeyFile } from './key-file.ts';
import { describeKeySource, KEYRING_RECHECK_MS, MASTER_KEY_ENV, type Keyring } from './keyring.ts';
import { generateMasterKey, type MasterKey } from './master-key.ts';
import { unwrapKey, wrapKey } from './seal.ts';
import { countSubjectKeys, lockKeysToRewrap, recordKeyRotation, storeRewrapped, tryRotationLock } from './subject-keys-store.ts';

const MAX_PASSES = 10;

interface RewrapOptions {
  /** Data keys re-wrapped per transaction: small enough that writers never wait long on a locked row. */
  batchSize?: number;
  onProgress?: (rewrapped: number) => void;
}

interface RewrapResult {
  rewrapped: number;
  /** Data keys still under older master keys: rows that stayed locked by writers through every pass. */
  remaining: number;
  /** Data keys under master keys this keyring does not hold: they cannot be re-wrapped (nor opened) until restored. */
  stranded: { masterKeyId: string; count: number }[];
}

export interface RotateOptions extends RewrapOptions {
  /** Who rotates, for the audit event (default system:cli). */
  actor?: string;
  /** Add a fresh active key to the key file first (file source only); false finishes an earlier rotation. */
  addKey?: boolean;
  /** Remove from the key file the older keys that no data key uses any more. */
  retireOld?: boolean;
  /** Wait before retiring, so running servers notice the new active key and stop wrapping with old ones. */
  settleMs?: number;
  log?: (line: string) => void;
}

export interface RotateResult extends RewrapResult {
  /** Audit heads re-signed with the new key before old keys were retired. */
  headsResigned: number;
  addedKeyId: string | null;
  activeKeyId: string;
  /** Older keys removed from the key file. */
  retired: string[];
  /** Older keys no data key uses but still configured (always so with env keys: remove them there yourself). */
  unused: string[];
}

/** The app's parts a rotation uses: the auditor's keyring must be `keyring`, so re-signed heads use the new key. */
export interface RotationDeps {
  readonly db: Db;
  readonly keyring: Keyring;
  readonly clock: Clock;
  readonly auditor: Auditor;
}

export async function rotateMasterKey(deps: RotationDeps, options: RotateOptions = {}): Promise<RotateResult> {
  const { db, keyring, clock, auditor } = deps;
  const log = options.log ?? (() => {});
  const fromFile = keyring.source.kind === 'file';
  const addKey = options.addKey ?? fromFile;
  if (addKey && !fromFile) {
    throw new CustodianError(
      'bad_request',
      keyring.source.kind === 'env'
        ? `master keys come from ${MASTER_KEY_ENV}: put the new key first in that list on every server, restart them, then re-wrap`
        : `master keys come from ${describeKeySource(keyring.source)}: there is no key file to add a key to`,
    );
  }
  return withRotationLock(db, async () => {
    const added = addKey ? addMasterKey(keyring, clock) : null;
    if (added) log(`added master key ${added.id}; it is now the active key`);
    const activeKeyId = keyring.active().id;
    let { rewrapped, remaining, stranded } = await rewrapSubjectKeys(db.kysely, keyring, clock, options);
    // The secrets of keyed hashes (the suppression list) too: their hashes must match after the old key is gone.
    await rewrapHashKeys(db.kysely, keyring, clock.now());
    let unused = await unusedKeyIds(db.kysely, keyring);
    let retired: string[] = [];
    // Audit heads signed with an older key are re-signed with the active one, so the old key can go.
    const { resigned: headsResigned, refused: headsRefused } = await auditor.resignHeads(db.kysely);
    // A full checkpoint signed with the new key, while the old ones still verify what was witnessed before: once they
    // are retired, the latest witnessed state stays verifiable.
    if (auditor.witness && headsRefused.length === 0) await auditor.checkpoint(db.kysely, { full: true, always: true });
    if (options.retireOld && fromFile && unused.length > 0) {
      // A server notices a new active key within KEYRING_RECHECK_MS; until then it may still wrap new data keys
      // with an old one. Wait that out and sweep again before removing anything.
      const settleMs = options.settleMs ?? 2 * KEYRING_RECHECK_MS;
      if (settleMs > 0) log(`waiting ${Math.ceil(settleMs / 1000)} s for running servers to switch to ${activeKeyId} before retiring old keys`);
      await sleep(settleMs);
      const again = await rewrapSubjectKeys(db.kysely, keyring, clock, options);
      await rewrapHashKeys(db.kysely, keyring, clock.now());
      rewrapped += again.rewrapped;
      remaining = again.remaining;
      stranded = again.stranded;
      unused = await unusedKeyIds(db.kysely, keyring);
      if (headsRefused.length > 0) {
        log(`not retiring old keys: the audit heads of ${headsRefused.join(', ')} do not verify; run custodian audit verify`);
        unused = [];
      }
      retired = retireMasterKeys(keyring, unused);
      unused = unused.filter((id) => !retired.includes(id));
    }
    await recordKeyRotation(db.kysely, auditor, options.actor ?? 'system:cli', {
      added: added?.id ?? null,
      active: activeKeyId,
      rewrapped,
      retired: retired.length,
    });
    return { addedKeyId: added?.id ?? null, activeKeyId, rewrapped, remaining, stranded, retired, unused, headsResigned };
  });
}

/**
 * Re-wraps every live data key under an older key of this keyring with the active key; keyset-paged, `FOR UPDATE
 * SKIP LOCKED`. Keys under master keys the keyring lacks are left alone and reported: one lost key must not stop
 * the others from moving.
 */
async function rewrapSubjectKeys(db: Kysely<Tables>, keyring: Keyring, clock: Clock, options: RewrapOptions = {}): Promise<RewrapResult> {
  const batchSize = options.batchSize ?? 500;
  const active = keyring.active();
  let rewrapped = 0;
  for (let pass = 1; ; pass++) {
    const older = keyring.ids().filter((id) => id !== active.id);
    let after: string | null = null;
    while (older.length > 0) {
      const batch: { count: number; last: string } | null = await rewrapBatch(db, keyring, active, older, after, batchSize, clock);
      if (batch === null) break;
      rewrapped += batch.count;
      after = batch.last;
      options.onProgress?.(rewrapped);
    }
    const { byMasterKey } = await countSubjectKeys(db);
    const known = new Set(keyring.ids());
    const remaining = [...byMasterKey].reduce((sum, [id, n]) => sum + (id !== active.id && known.has(id) ? n : 0), 0);
    if (remaining === 0 || pass === MAX_PASSES) {
      const stranded = [...byMasterKey].filter(([id]) => !known.has(id)).map(([masterKeyId, count]) => ({ masterKeyId, count }));
      return { rewrapped, remaining, stranded };
    }
    // Rows held by writers were skipped, and new ones may have been wrapped with the old key by a server that had
    // not noticed the rotation yet: sweep again shortly.
    await sleep(50 * pass);
  }
}

/** One transaction: up to `size` data keys under `older` keys, after `after` in subject id order, move to `active`. */
async function rewrapBatch(
  db: Kysely<Tables>,
  keyring: Keyring,
  active: MasterKey,
  older: readonly string[],
  after: string | null,
  size: number,
  clock: Clock,
): Promise<{ count: number; last: string } | null> {
  return db.transaction().execute(async (trx) => {
    const rows = await lockKeysToRewrap(trx, older, after, size);
    const last = rows.at(-1);
    if (last === undefined) return null;
    const rewrapped = rows.map((r) => {
      const dek = unwrapKey(keyring.resolve(r.master_key_id), r.wrapped_key, r.subject_id);
      const wrapped = wrapKey(active, dek, r.subject_id);
      dek.fill(0);
      return { subjectId: r.subject_id, wrapped };
    });
    await storeRewrapped(trx, active.id, rewrapped, clock.now());
    return { count: rows.length, last: last.subject_id };
  });
}

/** Adds a fresh key to the key file as the active one, keeping the others, and reloads the keyring. */
export function addMasterKey(keyring: Keyring, clock: Clock): MasterKey {
  const path = keyFilePathOf(keyring);
  const file = readKeyFile(path);
  if (file === null) throw new CustodianError('master_key_missing', `the master key file ${path} has disappeared`);
  const now = clock.now();
  const key = generateMasterKey(
    file.keys.map((e) => e.master.id),
    now,
  );
  writeKeyFile(path, { active: key.id, keys: [...file.keys, { master: key, created: now.toISOString() }] }, 'replace');
  keyring.reload();
  return key;
}

/** Removes `ids` (never the active key) from the key file; returns those actually removed. */
function retireMasterKeys(keyring: Keyring, ids: readonly string[]): string[] {
  const path = keyFilePathOf(keyring);
  const file = readKeyFile(path);
  if (file === null) throw new CustodianError('master_key_missing', `the master key file ${path} has disappeared`);
  const drop = new Set(ids.filter((id) => id !== file.active));
  const keep = file.keys.filter((e) => !drop.has(e.master.id));
  if (keep.length === file.keys.length) return [];
  writeKeyFile(path, { active: file.active, keys: keep }, 'replace');
  keyring.reload();
  return file.keys.filter((e) => drop.has(e.master.id)).map((e) => e.master.id);
}

/** Configured keys, other than the active one, that wrap no live data key. */
async function unusedKeyIds(db: Kysely<Tables>, keyring: Keyring): Promise<string[]> {
  const { byMasterKey } = await countSubjectKeys(db);
  for (const id of await hashKeyMasterIds(db)) byMasterKey.set(id, (byMasterKey.get(id) ?? 0) + 1);
  const active = keyring.active().id;
  const configured = keyring.source.kind === 'file' ? (readKeyFile(keyring.source.path)?.keys.map((e) => e.master.id) ?? []) : keyring.ids();
  return configured.filter((id) => id !== active && !byMasterKey.has(id));
}

function keyFilePathOf(keyring: Keyring): string {
  if (keyring.source.kind !== 'file')
    throw new CustodianError('bad_request', `master keys come from ${describeKeySource(keyring.source)}, not a key file: change them there`);
  return keyring.source.path;
}

/**
 * One rotation at a time: two would each add a key to the file, and the second write would drop the first's key.
 * On PostgreSQL a session advisory lock is held on a connection of its own while the work uses the pool. PGlite
 * needs none: its data folder opens in one process only, and pinning its single connection would stall the work.
 */
async function withRotationLock<T>(db: Db, fn: () => Promise<T>): Promise<T> {
  if (db.engine === 'pglite') return fn();
  return db.kysely.connection().execute(async (lockConn) => {
    const release = await tryRotationLock(lockConn);
    if (!release) throw new CustodianError('conflict', 'another master key rotation is running on this database');
    try {
      return await fn();
    } finally {
      await release();
    }
  });
}
