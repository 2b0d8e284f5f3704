// Signed checkpoints of the whole trail: each partition's head (seq and hash) at one moment, numbered and linked to
// the checkpoint before, signed with Ed25519 so that anyone holding only the public key can check them. The key is
// derived from the master key (HKDF), so it needs no storage of its own and follows a rotation.
import { createHash, createPrivateKey, createPublicKey, hkdfSync, sign, verify, type KeyObject } from 'node:crypto';
import { CustodianError } from '../core/errors.ts';

const INFO = 'custodian audit checkpoint signing v1';
const FORMAT = 'custodian-audit-checkpoint-v1';
// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): the fixed prefix, then the 32 seed bytes.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
// SubjectPublicKeyInfo of an Ed25519 public key: the fixed prefix, then the 32 key bytes.
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
export const GENESIS_CHECKPOINT = '0'.repeat(64);

export interface SigningKey {
  /** `ed25519:` and the first 16 hex digits of the public key's SHA-256. */
  readonly id: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function deriveSigningKey(masterKey: Uint8Array): SigningKey {
  const seed = Buffer.from(hkdfSync('sha256', masterKey, new Uint8Array(0), INFO, 32));
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  return { id: publicKeyId(publicKey), privateKey, publicKey };
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

function publicKeyId(key: KeyObject): string {
  return `ed25519:${createHash('sha256').update(rawPublicKey(key)).digest('hex').slice(0, 16)}`;
}

/** How a public key is published (`/.well-known/custodian-audit-key`, `custodian audit key`): the raw 32 bytes. */
export function publishedKey(key: SigningKey, active: boolean): { id: string; alg: 'Ed25519'; publicKey: string; active: boolean } {
  return { id: key.id, alg: 'Ed25519', publicKey: rawPublicKey(key.publicKey).toString('base64url'), active };
}

/** A published public key (base64 or base64url of the raw 32 bytes) as a key object. */
export function publicKeyFromText(text: string): KeyObject {
  const raw = Buffer.from(text.trim(), 'base64url');
  if (raw.length !== 32) throw new CustodianError('bad_request', 'an audit public key is the 32 raw bytes of an Ed25519 key, in base64');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** One partition's head: where its chain stood. */
export type HeadState = readonly [partition: string, seq: number, hash: string];

export interface Checkpoint {
  readonly seq: number;
  /** ISO time it was made. */
  readonly at: string;
  /** SHA-256 (hex) of the previous checkpoint's signed text; 64 zeros for the first. */
  readonly prev: string;
  /** The signing key's id. */
  readonly key: string;
  /** Events in the whole trail, and partitions. */
  readonly events: number;
  readonly partitions: number;
  /** Every partition's head (`full`), or only those changed since the previous checkpoint. */
  readonly full: boolean;
  readonly heads: readonly HeadState[];
}

/** What is stored and witnessed: the exact signed text and its signature (base64). */
export interface SignedCheckpoint {
  readonly body: string;
  readonly sig: string;
}

/** The signed text: a JSON array-free object in a fixed key order, so the same checkpoint is the same bytes. */
function checkpointText(c: Checkpoint): string {
  return JSON.stringify({
    format: FORMAT,
    seq: c.seq,
    at: c.at,
    prev: c.prev,
    key: c.key,
    events: c.events,
    partitions: c.partitions,
    full: c.full,
    heads: c.heads,
  });
}

export function bodyHash(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

export function signCheckpoint(c: Checkpoint, key: SigningKey): SignedCheckpoint {
  if (c.key !== key.id) throw new CustodianError('internal', 'a checkpoint names the key that signs it');
  const body = checkpointText(c);
  return { body, sig: sign(null, Buffer.from(body, 'utf8'), key.privateKey).toString('base64') };
}

/**
 * The checkpoint, if its text is well formed and its signature verifies with the key it names; `unknown-key` when
 * none of `keys` has that id (a key retired since, or a key the caller was not given); `invalid` otherwise.
 */
export function openCheckpoint(signed: SignedCheckpoint, keys: ReadonlyMap<string, KeyObject>): Checkpoint | 'unknown-key' | 'invalid' {
  const c = parseCheckpoint(signed.body);
  if (!c) return 'invalid';
  const key = keys.get(c.key);
  if (!key) return 'unknown-key';
  const ok = verify(null, Buffer.from(signed.body, 'utf8'), key, Buffer.from(signed.sig, 'base64'));
  return ok ? c : 'invalid';
}

function parseCheckpoint(body: string): Checkpoint | null {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return null;
  }
  const d = doc as Record<string, unknown>;
  const hex = (v: unknown) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
  const count = (v: unknown) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  const headOk = (h: unknown) => Array.isArray(h) && h.length === 3 && typeof h[0] === 'string' && count(h[1]) && hex(h[2]);
  if (d.format !== FORMAT || !count(d.seq) || typeof d.at !== 'string' || !hex(d.prev) || typeof d.key !== 'string') return null;
  if (!count(d.events) || !count(d.partitions) || typeof d.full !== 'boolean' || !Array.isArray(d.heads) || !d.heads.every(headOk)) return null;
  // Only the exact text it would be written as: nothing added, nothing reordered.
  const c = d as unknown as Checkpoint;
  return checkpointText(c) === body ? c : null;
}
