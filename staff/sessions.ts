// Staff sessions: a random 32-byte token in the `custodian_staff` cookie, a server-side row keyed by its SHA-256.
// A session ends after 30 minutes without a request (idle) or 12 hours after sign-in (absolute), whichever is first,
// both measured with the injected clock; a disabled account's sessions end at once.
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { browserFamily, truncateIp } from '../core/client-info.ts';
import type { Tables } from '../db/tables.ts';
import { isWellFormedToken, sessionCsrfToken } from './csrf.ts';
import type { Role } from './roles.ts';
import { dropEndedSession, findSession, touchSession, type NewSessionRow } from './sessions-store.ts';

export const SESSION_COOKIE = 'custodian_staff';
const SESSION_IDLE_MS = 30 * 60_000;
const SESSION_ABSOLUTE_MS = 12 * 60 * 60_000;

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

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** A new session for a user who has just proved who they are: the cookie token, and the row to store (by hash). */
export function newSession(userId: string, now: Date, origin: SessionOrigin): { opened: OpenedSession; row: NewSessionRow } {
  const token = randomBytes(32).toString('base64url');
  const csrfSecret = randomBytes(32);
  return {
    opened: { token, csrfToken: sessionCsrfToken(csrfSecret, token) },
    row: {
      idHash: hashToken(token),
      userId,
      csrfSecret,
      now,
      absoluteExpiresAt: new Date(now.getTime() + SESSION_ABSOLUTE_MS),
      ipTruncated: truncateIp(origin.ip) ?? undefined,
      userAgentFamily: browserFamily(origin.userAgent) ?? 'unknown',
      idleMs: SESSION_IDLE_MS,
    },
  };
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
    await dropEndedSession(db, idHash);
    return undefined;
  }
  await touchSession(db, idHash, now);
  return {
    principal: Object.freeze({ userId: row.userId, email: row.email, role: row.role }),
    mustChangePassword: row.mustChangePassword,
    csrfToken: sessionCsrfToken(row.csrfSecret, token),
  };
}

/** The hash a cookie value is stored under, or undefined when it is not a token we could have issued. */
export function tokenHash(token: unknown): Buffer | undefined {
  return isWellFormedToken(token) ? hashToken(token) : undefined;
}
