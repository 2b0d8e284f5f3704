// The only SQL for staff_session. Rows are keyed by SHA-256 of the cookie token; the token itself is never stored.
// Sessions begin and end through audited changes (users-store.ts: sign-in, password change, lock, disable; and
// recordSignOut below); what is here besides is housekeeping of sessions that have already ended.
import type { Kysely } from 'kysely';
import type { Auditor } from '../audit/auditor.ts';
import type { Tables } from '../db/tables.ts';
import { staffActor } from './actor.ts';
import type { Role } from './roles.ts';

type Executor = Kysely<Tables>;

export interface SessionRow {
  readonly userId: string;
  readonly email: string;
  readonly role: Role;
  readonly mustChangePassword: boolean;
  readonly disabled: boolean;
  readonly csrfSecret: Uint8Array;
  readonly lastSeenAt: Date;
  readonly absoluteExpiresAt: Date;
}

export interface NewSessionRow {
  readonly idHash: Uint8Array;
  readonly userId: string;
  readonly csrfSecret: Uint8Array;
  readonly now: Date;
  readonly absoluteExpiresAt: Date;
  readonly ipTruncated: string | undefined;
  readonly userAgentFamily: string;
  /** Sessions idle this long before `now` are removed as this one is stored. */
  readonly idleMs: number;
}

/** Stores a session (called by the audited changes that open one), removing expired ones on the way. */
export async function insertSession(ex: Executor, row: NewSessionRow): Promise<void> {
  await deleteExpiredSessions(ex, row.now, row.idleMs);
  await ex
    .insertInto('staff_session')
    .values({
      id_hash: row.idHash,
      user_id: row.userId,
      csrf_secret: row.csrfSecret,
      created_at: row.now,
      last_seen_at: row.now,
      absolute_expires_at: row.absoluteExpiresAt,
      ip_truncated: row.ipTruncated ?? null,
      user_agent_family: row.userAgentFamily,
    })
    .execute();
}

export async function findSession(ex: Executor, idHash: Uint8Array): Promise<SessionRow | undefined> {
  const row = await ex
    .selectFrom('staff_session as s')
    .innerJoin('staff_user as u', 'u.id', 's.user_id')
    .select(['s.user_id', 'u.email', 'u.role', 'u.must_change_password', 'u.disabled_at', 's.csrf_secret', 's.last_seen_at', 's.absolute_expires_at'])
    .where('s.id_hash', '=', idHash)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    userId: row.user_id,
    email: row.email,
    role: row.role,
    mustChangePassword: row.must_change_password,
    disabled: row.disabled_at !== null,
    csrfSecret: row.csrf_secret,
    lastSeenAt: new Date(row.last_seen_at),
    absoluteExpiresAt: new Date(row.absolute_expires_at),
  };
}

/** Restarts a live session's idle timer. */
export async function touchSession(ex: Executor, idHash: Uint8Array, now: Date): Promise<void> {
  await ex.updateTable('staff_session').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
}

/** Removes a session found past its expiry, or of a disabled account (both already ended by the rules). */
export async function dropEndedSession(ex: Executor, idHash: Uint8Array): Promise<void> {
  await ex.deleteFrom('staff_session').where('id_hash', '=', idHash).execute();
}

/** Signing out: the session ends and, when there was one, the audit trail says who signed out. */
export async function recordSignOut(ex: Executor, auditor: Auditor, idHash: Uint8Array): Promise<string | undefined> {
  const row = await ex.deleteFrom('staff_session').where('id_hash', '=', idHash).returning('user_id').executeTakeFirst();
  if (row) await auditor.append(ex, { actor: staffActor(row.user_id), action: 'auth.sign-out' });
  return row?.user_id;
}

/** Ends every session of a user (called by the audited lock, disable and password change). */
export async function deleteUserSessions(ex: Executor, userId: string): Promise<void> {
  await ex.deleteFrom('staff_session').where('user_id', '=', userId).execute();
}

/** Removes sessions past either expiry, so the table does not grow with abandoned sign-ins. */
async function deleteExpiredSessions(ex: Executor, now: Date, idleMs: number): Promise<void> {
  await ex
    .deleteFrom('staff_session')
    .where((eb) => eb.or([eb('absolute_expires_at', '<=', now), eb('last_seen_at', '<=', new Date(now.getTime() - idleMs))]))
    .execute();
}
