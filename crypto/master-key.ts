// A master key: 32 random bytes and a short id stored beside every data key it wraps. The key bytes are kept out
// of JSON and console output (non-enumerable), so logging a key object by accident shows only its id.
import { createHash, randomBytes } from 'node:crypto';
import { CustodianError } from '../core/errors.ts';
import { KEY_BYTES } from './seal.ts';

export interface MasterKey {
  readonly id: string;
  readonly key: Uint8Array;
}

/** Ids go into key files, env values and the database: short, and free of the `:` and `,` the env list uses. */
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const BASE64_32 = /^[A-Za-z0-9+/_-]{43}=?$/;

export function isValidKeyId(id: string): boolean {
  return KEY_ID.test(id);
}

export function masterKey(id: string, key: Uint8Array): MasterKey {
  if (!isValidKeyId(id))
    throw new CustodianError('master_key_invalid', `master key id '${id.slice(0, 64)}' is not valid: use letters, digits, '.', '_' or '-' (at most 64)`);
  if (key.length !== KEY_BYTES) throw new CustodianError('master_key_invalid', `master key '${id}' must be ${KEY_BYTES} bytes`);
  const out = { id };
  Object.defineProperty(out, 'key', { value: Uint8Array.from(key), enumerable: false });
  return Object.freeze(out) as MasterKey;
}

/**
 * Decodes standard or url-safe base64 of exactly 32 bytes. `where` names the source in the refusal; the text
 * itself is never repeated, since a near-miss key is still key material.
 */
export function decodeKey(text: string, where: string): Uint8Array {
  const trimmed = text.trim();
  if (!BASE64_32.test(trimmed)) {
    const looksLikeHex = /^[0-9a-fA-F]{64}$/.test(trimmed);
    throw new CustodianError(
      'master_key_invalid',
      `${where} is not a base64-encoded ${KEY_BYTES}-byte key (expected 44 base64 characters, got ${trimmed.length} characters${looksLikeHex ? ' that look like hex: convert with `xxd -r -p | base64`' : ''}); generate one with \`openssl rand -base64 32\``,
    );
  }
  const bytes = Buffer.from(trimmed, 'base64');
  if (bytes.length !== KEY_BYTES) throw new CustodianError('master_key_invalid', `${where} decodes to ${bytes.length} bytes, not ${KEY_BYTES}`);
  return new Uint8Array(bytes);
}

export function encodeKey(key: Uint8Array): string {
  return Buffer.from(key).toString('base64');
}

/** Id for a bare env key: stable for the same key, so data wrapped under it stays findable across restarts. */
export function envKeyId(key: Uint8Array): string {
  return `env-${createHash('sha256').update('custodian master key id\u0000').update(key).digest('hex').slice(0, 8)}`;
}

/** A fresh key with an id like `k3-20261122`: a sequence number (after the highest `kN` already used) and the date. */
export function generateMasterKey(existingIds: readonly string[], now: Date): MasterKey {
  const highest = existingIds.reduce((max, id) => Math.max(max, Number(/^k(\d+)-/.exec(id)?.[1] ?? 0)), 0);
  const date = now.toISOString().slice(0, 10).replaceAll('-', '');
  let n = highest + 1;
  while (existingIds.includes(`k${n}-${date}`)) n++;
  return masterKey(`k${n}-${date}`, randomBytes(KEY_BYTES));
}
