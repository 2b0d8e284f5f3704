// Password hashing with argon2id (RFC 9106) via WebAssembly, so no native addon is needed. Parameters follow the
// OWASP Password Storage Cheat Sheet minimum (19 MiB, 2 passes, 1 lane). Hashes are PHC strings, which carry their
// own parameters: a hash made with older parameters still verifies and is flagged for rehashing.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { argon2id } from 'hash-wasm';

export interface Argon2Params {
  /** memory in KiB */
  readonly m: number;
  /** passes */
  readonly t: number;
  /** lanes */
  readonly p: number;
}

export const CURRENT_PARAMS: Argon2Params = Object.freeze({ m: 19_456, t: 2, p: 1 });
const SALT_BYTES = 16;
const HASH_BYTES = 32;
// Refuse absurd parameters in a stored hash (a tampered row must not make verification take minutes).
const MAX_MEMORY_KIB = 262_144;
const MAX_PASSES = 10;

const PHC = /^\$argon2id\$v=19\$m=(\d{1,7}),t=(\d{1,3}),p=(\d{1,2})\$([A-Za-z0-9+/]{16,})\$([A-Za-z0-9+/]{16,})$/;

interface ParsedHash {
  readonly params: Argon2Params;
  readonly salt: Buffer;
  readonly hash: Buffer;
}

export async function hashPassword(password: string, params: Argon2Params = CURRENT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, params, HASH_BYTES);
  return `$argon2id$v=19$m=${params.m},t=${params.t},p=${params.p}$${b64(salt)}$${b64(hash)}`;
}

/** True when `password` matches the PHC string; the final comparison takes the same time wherever they differ. */
export async function verifyPassword(password: string, phc: string): Promise<boolean> {
  const parsed = parseHash(phc);
  if (!parsed || password.length === 0) return false; // argon2 refuses empty input; no account has an empty password
  const candidate = await derive(password, parsed.salt, parsed.params, parsed.hash.length);
  return candidate.length === parsed.hash.length && timingSafeEqual(candidate, parsed.hash);
}

/** Whether a stored hash was made with other parameters than today's (rehash it after a successful sign-in). */
export function needsRehash(phc: string, params: Argon2Params = CURRENT_PARAMS): boolean {
  const parsed = parseHash(phc);
  if (!parsed) return true;
  const { m, t, p } = parsed.params;
  return m !== params.m || t !== params.t || p !== params.p || parsed.hash.length !== HASH_BYTES;
}

export function isArgon2idPhc(value: string): boolean {
  return parseHash(value) !== undefined;
}

function parseHash(phc: string): ParsedHash | undefined {
  const match = PHC.exec(phc);
  if (!match) return undefined;
  const [, m, t, p, salt, hash] = match;
  const params = { m: Number(m), t: Number(t), p: Number(p) };
  if (params.m > MAX_MEMORY_KIB || params.t < 1 || params.t > MAX_PASSES || params.p < 1 || params.m < 8 * params.p) return undefined;
  return { params, salt: Buffer.from(salt ?? '', 'base64'), hash: Buffer.from(hash ?? '', 'base64') };
}

async function derive(password: string, salt: Uint8Array, params: Argon2Params, length: number): Promise<Buffer> {
  const out = await argon2id({
    password: password.normalize('NFKC'),
    salt,
    iterations: params.t,
    parallelism: params.p,
    memorySize: params.m,
    hashLength: length,
    outputType: 'binary',
  });
  return Buffer.from(out);
}

function b64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}
