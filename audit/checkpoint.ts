// The keyed checkpoint on each partition's head. The chain alone cannot show that its tail was cut off or
// rewritten by someone with database rights; an HMAC they cannot compute without the master key can.
import { createHmac, createSecretKey, hkdfSync, timingSafeEqual, type KeyObject } from 'node:crypto';

const INFO = 'custodian audit checkpoint v1';

/** A checkpoint key: raw bytes (as derived, or sent to a thread) or a KeyObject made from them once. */
export type CheckpointKey = Uint8Array | KeyObject;

/** HKDF-SHA256 of the master key, so the audit key is independent of every other key derived from it. */
export function deriveCheckpointKey(masterKey: Uint8Array): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', masterKey, new Uint8Array(0), INFO, 32));
}

/** Node imports a raw key on every createHmac; a KeyObject made once is reused by every MAC after it. */
export function checkpointKeyObjects(keys: CheckpointKey | readonly CheckpointKey[]): KeyObject[] {
  const list = Array.isArray(keys) ? keys : [keys as CheckpointKey];
  return list.map((k) => (k instanceof Uint8Array ? createSecretKey(k) : k));
}

/** HMAC-SHA256 over `partition|seq|` followed by the 32 hash bytes (fixed length, so the split is unambiguous). */
export function checkpointMac(key: CheckpointKey, partition: string, seq: number, hashHex: string): Buffer {
  return createHmac('sha256', key).update(`${partition}|${seq}|`).update(Buffer.from(hashHex, 'hex')).digest();
}

export function checkpointMatches(key: CheckpointKey, partition: string, seq: number, hashHex: string, checkpointHex: string): boolean {
  const expected = checkpointMac(key, partition, seq, hashHex);
  const actual = Buffer.from(checkpointHex, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
