// Server-side visitor sessions (seed 000: a session file indexed by a session ID, deleted a while after the
// visit). The cookie holds a random id; the database holds only its SHA-256, the data and the expiry.
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { addDuration } from '../core/duration.ts';
import type { Db } from '../db/connect.ts';
import type { Register } from '../register/load-register.ts';

export interface VisitorSessionConfig {
  readonly cookieName: string;
  readonly idle: string;
}

/** The register's visitor-session settings, or null when the register declares none (then no cookie is set). */
export function visitorSessionConfig(register: Register): VisitorSessionConfig | null {
  const s = register.service['visitor-session'];
  if (!s) return null;
  const cookie = register.cookies[s.cookie];
  return { cookieName: cookie?.names[0] ?? s.cookie, idle: s.idle };
}

const hash = (token: string) => createHash('sha256').update(token).digest();

export function newVisitorToken(): string {
  return randomBytes(32).toString('base64url');
}

export async function loadVisitorSession(db: Db, token: string, clock: Clock): Promise<Record<string, unknown> | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
  const row = await db.kysely.selectFrom('visitor_session').select(['data', 'expires_at']).where('id_hash', '=', hash(token)).executeTakeFirst();
  if (!row || new Date(row.expires_at) <= clock.now()) return null;
  return row.data;
}

/** Stores the session's data and pushes its expiry one idle period into the future. */
export async function saveVisitorSession(db: Db, token: string, data: Record<string, unknown>, config: VisitorSessionConfig, clock: Clock): Promise<void> {
  const now = clock.now();
  const expires = addDuration(now, config.idle);
  await db.kysely
    .insertInto('visitor_session')
    .values({ id_hash: hash(token), data: JSON.stringify(data), created_at: now, last_seen_at: now, expires_at: expires })
    .onConflict((oc) => oc.column('id_hash').doUpdateSet({ data: JSON.stringify(data), last_seen_at: now, expires_at: expires }))
    .execute();
}

export async function touchVisitorSession(db: Db, token: string, config: VisitorSessionConfig, clock: Clock): Promise<void> {
  const now = clock.now();
  await db.kysely
    .updateTable('visitor_session')
    .set({ last_seen_at: now, expires_at: addDuration(now, config.idle) })
    .where('id_hash', '=', hash(token))
    .where('expires_at', '>', now)
    .execute();
}

export async function destroyVisitorSession(db: Db, token: string): Promise<void> {
  await db.kysely.deleteFrom('visitor_session').where('id_hash', '=', hash(token)).execute();
}

/** Deletes expired sessions and the information they hold; returns how many. Run by the purge job. */
export async function purgeVisitorSessions(db: Db, clock: Clock): Promise<number> {
  const r = await db.kysely.deleteFrom('visitor_session').where('expires_at', '<=', clock.now()).executeTakeFirst();
  return Number(r.numDeletedRows);
}
