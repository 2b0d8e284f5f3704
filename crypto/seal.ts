// AES-256-GCM for values (under a subject's data key) and for data keys (under a master key).
// Format of every sealed blob: 0x01 | 12-byte random IV | ciphertext | 16-byte tag. The version byte leaves room
// for another scheme later without guessing. Random 96-bit IVs are safe here because no key seals anywhere near
// 2^32 messages: a data key serves one subject, and a master key wraps one data key per subject per rotation.
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { CustodianError } from '../core/errors.ts';
import type { MasterKey } from './master-key.ts';

const VERSION = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES;
export const KEY_BYTES = 32;

/** Seals `plaintext` under `dek`, bound to `aad` (the record id: a sealed value cannot be moved to another record). */
export function sealValue(dek: Uint8Array, plaintext: string, aad: string): Uint8Array {
  return sealBytes(dek, Buffer.from(plaintext, 'utf8'), Buffer.from(aad, 'utf8'));
}

/** Opens what `sealValue` sealed with the same key and `aad`; refuses (`seal_invalid`) anything altered. */
export function openValue(dek: Uint8Array, sealed: Uint8Array, aad: string): string {
  const plain = openBytes(dek, sealed, Buffer.from(aad, 'utf8'), 'a sealed value could not be opened: it was altered, or belongs to another record or subject');
  return plain.toString('utf8');
}

/** Seals a file's bytes under `dek`, bound to its record (`file` and the record id: never taken for the record's value). */
export function sealFile(dek: Uint8Array, bytes: Uint8Array, recordId: string): Uint8Array {
  return sealBytes(dek, bytes, fileAad(recordId));
}

/** Opens what `sealFile` sealed for the same record; refuses (`seal_invalid`) anything altered or moved. */
export function openFile(dek: Uint8Array, sealed: Uint8Array, recordId: string): Buffer {
  return openBytes(dek, sealed, fileAad(recordId), 'a sealed file could not be opened: it was altered, or belongs to another record or subject');
}

function fileAad(recordId: string): Buffer {
  return Buffer.from(`file\u0000${recordId.toLowerCase()}`, 'utf8');
}

/** Wraps a subject's data key under a master key; the subject and master key ids are bound in as AAD. */
export function wrapKey(master: MasterKey, dek: Uint8Array, subjectId: string): Uint8Array {
  if (dek.length !== KEY_BYTES) throw new CustodianError('internal', `a data key must be ${KEY_BYTES} bytes`);
  return sealBytes(master.key, dek, wrapAad(master.id, subjectId));
}

export function unwrapKey(master: MasterKey, wrapped: Uint8Array, subjectId: string): Uint8Array {
  const dek = openBytes(
    master.key,
    wrapped,
    wrapAad(master.id, subjectId),
    `a subject data key could not be unwrapped with master key '${master.id}': the key configured under that id is not the one it was wrapped with, or the row was altered`,
  );
  if (dek.length !== KEY_BYTES) throw new CustodianError('seal_invalid', 'an unwrapped subject data key has the wrong length');
  return dek;
}

// Subject ids are uuids; PostgreSQL returns them lower-case, so callers' spelling must not change the AAD.
function wrapAad(masterKeyId: string, subjectId: string): Buffer {
  return Buffer.from(`subject-key\u0000${subjectId.toLowerCase()}\u0000${masterKeyId}`, 'utf8');
}

// Node imports a raw key on every createCipheriv, which costs several times the AES work itself for short values;
// a KeyObject made once per key array is reused. The bytes are compared on each use, so a caller that changes (or
// wipes) its array never gets the old key.
const keyObjects = new WeakMap<Uint8Array, { readonly bytes: Buffer; readonly key: KeyObject }>();

function keyObject(key: Uint8Array): KeyObject {
  if (key.length !== KEY_BYTES) throw new CustodianError('internal', `an AES-256 key must be ${KEY_BYTES} bytes`);
  const known = keyObjects.get(key);
  if (known?.bytes.equals(key)) return known.key;
  const made = { bytes: Buffer.from(key), key: createSecretKey(key) };
  keyObjects.set(key, made);
  return made.key;
}

function sealBytes(key: Uint8Array, plain: Uint8Array, aad: Uint8Array): Uint8Array {
  const secret = keyObject(key);
  const out = Buffer.allocUnsafe(HEADER_BYTES + plain.length + TAG_BYTES);
  out[0] = VERSION;
  randomBytes(IV_BYTES).copy(out, 1);
  const cipher = createCipheriv('aes-256-gcm', secret, out.subarray(1, HEADER_BYTES), { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  let at = HEADER_BYTES;
  at += cipher.update(plain).copy(out, at);
  at += cipher.final().copy(out, at);
  cipher.getAuthTag().copy(out, at);
  return out;
}

function openBytes(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array, refusal: string): Buffer {
  const secret = keyObject(key);
  if (sealed.length < HEADER_BYTES + TAG_BYTES || sealed[0] !== VERSION) throw new CustodianError('seal_invalid', refusal);
  const blob = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  try {
    const decipher = createDecipheriv('aes-256-gcm', secret, blob.subarray(1, HEADER_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
    const head = decipher.update(blob.subarray(HEADER_BYTES, blob.length - TAG_BYTES));
    const tail = decipher.final(); // throws when the tag does not match: nothing is returned from a forged blob
    return tail.length === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    throw new CustodianError('seal_invalid', refusal);
  }
}
