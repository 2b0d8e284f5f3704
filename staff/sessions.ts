// Staff sessions: a random 32-byte token in the `custodian_staff` cookie, a server-side row keyed by its SHA-256.
// A session ends after 30 minutes without a request (idle) or 12 hours after sign-in (absolute), whichever is first,
// both measured with the injected clock; a disabled account's sessions end at once.
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Tables } from '../db/tables.ts';
import { browserFamily, truncateIp } from '../http/client-info.ts';
import { isWellFormedToken, sessionCsrfToken } from './csrf.ts';
import type { Role } from './roles.ts';
import { deleteExpiredSessions, deleteSession, findSession, insertSession, touchSession } from './sessions-store.ts';

export const SESSION_COOKIE = 'custodian_staff';
export const SESSION_IDLE_MS = 30 * 60_000;
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60_000;

/** Who is signed in, as routes see it on `req.staff`. */
export interface StaffPrincipal {
  readonly userId: string;
  readonly email: string;
  readonly role: Role;
}

export interface ActiveSession {
  readonly principal: StaffPrincipal;
  readonly mustChangePassword: boolean;
  readonly csrfToken: string;
}

export interface OpenedSession {
  /** The cookie value. Never log it, never store it. */
  readonly token: string;
  readonly csrfToken: string;
}

export interface SessionOrigin {
  readonly ip: string | undefined;
  readonly userAgent: string | undefined;
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Starts a session for a user who has just proved who they are (run it inside that transaction). */
export async function openSession(db: Kysely<Tables>, userId: string, now: Date, origin: SessionOrigin): Promise<OpenedSession> {
  const token = randomBytes(32).toString('base64url');
  const csrfSecret = randomBytes(32);
  await deleteExpiredSessions(db, now, SESSION_IDLE_MS);
  await insertSession(db, {
    idHash: hashToken(token),
    userId,
    csrfSecret,
    now,
    absoluteExpiresAt: new Date(now.getTime() + SESSION_ABSOLUTE_MS),
    ipTruncated: (truncateIp(origin.ip) ?? undefined),
    userAgentFamily: (browserFamily(origin.userAgent) ?? 'unknown'),
  });
  return { token, csrfToken: sessionCsrfToken(csrfSecret, token) };
}

/** The live session for a cookie value, its idle timer restarted; undefined when absent, expired or disabled. */
export async function resumeSession(db: Kysely<Tables>, token: unknown, now: Date): Promise<ActiveSession | undefined> {
  if (!isWellFormedToken(token)) return undefined;
  const idHash = hashToken(token);
  const row = await findSession(db, idHash);
  if (!row) return undefined;
  const idle = now.getTime() - row.lastSeenAt.getTime() >= SESSION_IDLE_MS;
  const over = now.getTime() >= row.absoluteExpiresAt.getTime();
  if (idle || over || row.disabled) {
    await deleteSession(db, idHash);
    return undefined;
  }
  await touchSession(db, idHash, now);
  return {
    principal: Object.freeze({ userId: row.userId, email: row.email, role: row.role }),
    mustChangePassword: row.mustChangePassword,
    csrfToken: sessionCsrfToken(row.csrfSecret, token),
  };
}

/** Ends the session a cookie names; returns its user when there was one. */
export async function closeSession(db: Kysely<Tables>, token: unknown): Promise<string | undefined> {
  if (!isWellFormedToken(token)) return undefined;
  return deleteSession(db, hashToken(token));
}
