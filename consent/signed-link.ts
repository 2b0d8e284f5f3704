// Signed links in mail: a kind, an id and an expiry, MACed under a keyed-hash secret (crypto/hash-key.ts), so a link
// names exactly one thing, for one use, until a time, and cannot be made up. The newsletter's confirmation and
// unsubscribe links and the confirmation of email consent ticked on a form use it; each kind is refused where another
// is expected.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AppContext } from '../app/app-context.ts';
import { HashKeys } from '../crypto/hash-key.ts';
import type { Tables } from '../db/tables.ts';

export type LinkDeps = Pick<AppContext, 'db' | 'clock' | 'subjectKeys'>;

/** The secret's name: the newsletter's links came first, and links already sent keep working. */
const LINK_KEY = 'newsletter-links';

export type LinkKind = 'confirm' | 'unsubscribe' | 'consent-confirm';
const KIND_BYTE: Record<LinkKind, number> = { confirm: 1, unsubscribe: 2, 'consent-confirm': 3 };

const hashKeysOf = new WeakMap<object, HashKeys>();
function hashKeys(deps: LinkDeps): HashKeys {
  let h = hashKeysOf.get(deps.subjectKeys.keyring);
  if (!h) hashKeysOf.set(deps.subjectKeys.keyring, (h = new HashKeys(deps.subjectKeys.keyring)));
  return h;
}

async function linkMac(deps: LinkDeps, ex: Kysely<Tables>, payload: Buffer): Promise<Buffer> {
  const key = await hashKeys(deps).key(ex, LINK_KEY, deps.clock.now());
  return createHmac('sha256', key).update(payload).digest().subarray(0, 16);
}

/** `<payload>.<mac>` in base64url: the kind, the id (a UUID) and the expiry (0: none), signed. */
export async function signLink(deps: LinkDeps, ex: Kysely<Tables>, kind: LinkKind, id: string, expires: Date | null): Promise<string> {
  const payload = Buffer.alloc(25);
  payload[0] = KIND_BYTE[kind];
  Buffer.from(id.replaceAll('-', ''), 'hex').copy(payload, 1);
  payload.writeBigUInt64BE(BigInt(expires ? Math.floor(expires.getTime() / 1000) : 0), 17);
  return `${payload.toString('base64url')}.${(await linkMac(deps, ex, payload)).toString('base64url')}`;
}

/** The id a link names, or null when it is not one of ours, is of another kind, or has expired. */
export async function readLink(deps: LinkDeps, kind: LinkKind, token: unknown): Promise<string | null> {
  if (typeof token !== 'string' || !/^[A-Za-z0-9_-]{34}\.[A-Za-z0-9_-]{22}$/.test(token)) return null;
  const [p, m] = token.split('.') as [string, string];
  const payload = Buffer.from(p, 'base64url');
  const mac = Buffer.from(m, 'base64url');
  if (payload.length !== 25 || mac.length !== 16 || !timingSafeEqual(mac, await linkMac(deps, deps.db.kysely, payload))) return null;
  if (payload[0] !== KIND_BYTE[kind]) return null;
  const expires = Number(payload.readBigUInt64BE(17));
  if (expires !== 0 && expires * 1000 <= deps.clock.now().getTime()) return null;
  const hex = payload.subarray(1, 17).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
