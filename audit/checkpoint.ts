// The keyed checkpoint on each partition's head. The chain alone cannot show that its tail was cut off or
// rewritten by someone with database rights; an HMAC they cannot compute without the master key can.
import { createHmac, createSecretKey, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Keyring } from '../crypto/keyring.ts';

const INFO = 'custodian audit checkpoint v1';

/** HKDF-SHA256 of the master key, so the audit key is independent of every other key derived from it. */
export function deriveCheckpointKey(masterKey: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', masterKey, new Uint8Array(0), INFO, 32));
}

/** HMAC-SHA256 over `partition|seq|` followed by the 32 hash bytes (fixed length, so the split is unambiguous). */
export function checkpointMac(key: Uint8Array, partition: string, seq: number, hashHex: string): Buffer {
  return createHmac('sha256', keyObject(key)).update(`${partition}|${seq}|`).update(Buffer.from(hashHex, 'hex')).digest();
}

// Node imports a raw key on every createHmac; a KeyObject made once per key array is reused. The bytes are
// compared on each use, so a caller that changes its array never gets the old key.
const keyObjects = new WeakMap<Uint8Array, { readonly bytes: Buffer; readonly key: KeyObject }>();

function keyObject(key: Uint8Array): KeyObject {
  const known = keyObjects.get(key);
  if (known && known.bytes.equals(key)) return known.key;
  const made = { bytes: Buffer.from(key), key: createSecretKey(key) };
  keyObjects.set(key, made);
  return made.key;
}

export function checkpointMatches(key: Uint8Array, partition: string, seq: number, hashHex: string, checkpointHex: string): boolean {
  const expected = checkpointMac(key, partition, seq, hashHex);
  const actual = Buffer.from(checkpointHex, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * The checkpoint keys of every master key the keyring holds, the active one first: new heads are signed with the
 * first; heads signed before a rotation still verify with the others.
 */
export function checkpointKeysOf(keyring: Keyring): Uint8Array[] {
  // Called at each use, so a running server follows a rotation; derived again only when the keys changed.
  const active = keyring.active();
  const signature = `${active.id}|${keyring.ids().join(',')}`;
  const cached = derived.get(keyring);
  if (cached?.signature === signature) return cached.keys;
  const others = keyring.ids().filter((id) => id !== active.id).map((id) => keyring.resolve(id));
  const keys = [active, ...others].map((m) => deriveCheckpointKey(m.key));
  derived.set(keyring, { signature, keys });
  return keys;
}

const derived = new WeakMap<Keyring, { signature: string; keys: Uint8Array[] }>();
