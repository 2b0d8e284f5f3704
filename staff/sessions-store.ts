// SQL for staff_session. Rows are keyed by SHA-256 of the cookie token; the token itself is never stored.
import type { Kysely } from 'kysely';
import type { Tables } from '../db/tables.ts';
import type { Role } from './roles.ts';

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
}

export async function insertSession(db: Kysely<Tables>, row: NewSessionRow): Promise<void> {
  await db
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

export async function findSession(db: Kysely<Tables>, idHash: Uint8Array): Promise<SessionRow | undefined> {
  const row = await db
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

export async function touchSession(db: Kysely<Tables>, idHash: Uint8Array, now: Date): Promise<void> {
  await db.updateTable('staff_session').set({ last_seen_at: now }).where('id_hash', '=', idHash).execute();
}

/** Deletes one session; returns its user, if it existed. */
export async function deleteSession(db: Kysely<Tables>, idHash: Uint8Array): Promise<string | undefined> {
  const row = await db.deleteFrom('staff_session').where('id_hash', '=', idHash).returning('user_id').executeTakeFirst();
  return row?.user_id;
}

export async function deleteUserSessions(db: Kysely<Tables>, userId: string): Promise<void> {
  await db.deleteFrom('staff_session').where('user_id', '=', userId).execute();
}

/** Removes sessions past either expiry, so the table does not grow with abandoned sign-ins. */
export async function deleteExpiredSessions(db: Kysely<Tables>, now: Date, idleMs: number): Promise<void> {
  await db
    .deleteFrom('staff_session')
    .where((eb) => eb.or([eb('absolute_expires_at', '<=', now), eb('last_seen_at', '<=', new Date(now.getTime() - idleMs))]))
    .execute();
}
