// The only SQL for staff_user and sign_in_attempt. Every change to an account appends its audit event here, in the
// caller's transaction; the rules (who may, when to lock) are the service's (users-service.ts).
import { sql, type Kysely } from 'kysely';
import type { Auditor } from '../audit/auditor.ts';
import type { Tables } from '../db/tables.ts';
import { staffActor } from './actor.ts';
import type { Role } from './roles.ts';
import { deleteUserSessions, insertSession, type NewSessionRow } from './sessions-store.ts';
import type { StaffUserRow } from './tables.ts';

type Executor = Kysely<Tables>;

/** Where a sign-in came from, as far as the audit trail may know: a truncated IP and a browser family. */
export interface OriginDetail {
  readonly ip?: string;
  readonly userAgent: string;
}

export interface NewUser {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  readonly passwordHash: string;
  readonly mustChangePassword: boolean;
  readonly now: Date;
  /** Made by the first start of an embedded install, not by a person. */
  readonly firstOwner?: boolean;
}

export async function insertUser(ex: Executor, auditor: Auditor, user: NewUser, actor: string): Promise<void> {
  await ex
    .insertInto('staff_user')
    .values({
      id: user.id,
      email: user.email,
      role: user.role,
      password_hash: user.passwordHash,
      must_change_password: user.mustChangePassword,
      created_at: user.now,
      password_changed_at: user.now,
    })
    .execute();
  await auditor.append(ex, { actor, action: 'staff.create', detail: { userId: user.id, role: user.role, ...(user.firstOwner ? { firstOwner: true } : {}) } });
}

export async function findUserByEmail(ex: Executor, email: string, forUpdate = false): Promise<StaffUserRow | undefined> {
  let query = ex.selectFrom('staff_user').selectAll().where('email', '=', email);
  if (forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function findUserById(ex: Executor, id: string, forUpdate = false): Promise<StaffUserRow | undefined> {
  let query = ex.selectFrom('staff_user').selectAll().where('id', '=', id);
  if (forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function listUsers(ex: Executor): Promise<StaffUserRow[]> {
  return ex.selectFrom('staff_user').selectAll().orderBy('email').execute();
}

export async function countUsers(ex: Executor): Promise<number> {
  const row = await ex
    .selectFrom('staff_user')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function countActiveOwners(ex: Executor): Promise<number> {
  const row = await ex
    .selectFrom('staff_user')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('role', '=', 'owner')
    .where('disabled_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function setRole(ex: Executor, auditor: Auditor, change: { userId: string; from: Role; to: Role }, actor: string): Promise<void> {
  await ex.updateTable('staff_user').set({ role: change.to }).where('id', '=', change.userId).execute();
  await auditor.append(ex, { actor, action: 'staff.role-change', detail: { userId: change.userId, from: change.from, to: change.to } });
}

/** Disables the account and ends every session it has. */
export async function disableUser(ex: Executor, auditor: Auditor, userId: string, now: Date, actor: string): Promise<void> {
  await ex.updateTable('staff_user').set({ disabled_at: now }).where('id', '=', userId).execute();
  await deleteUserSessions(ex, userId);
  await auditor.append(ex, { actor, action: 'staff.disable', detail: { userId } });
}

/** A wrong password counted against an account: the new count, or a lock (count reset) that also ends its sessions. */
export interface FailureCount {
  readonly userId: string;
  readonly failedAttempts: number;
  readonly lockUntil: Date | null;
}

/**
 * A failed sign-in: the attempt counted against the email's and the network's rate keys (and the window's older
 * attempts forgotten), a wrong password counted against the account when there is one, and the failure audited.
 */
export async function recordSignInFailure(
  ex: Executor,
  auditor: Auditor,
  f: { rateKeys: readonly string[]; at: Date; forgetBefore: Date; count: FailureCount | null; actor: string; reason: string; origin: OriginDetail },
): Promise<void> {
  await ex
    .insertInto('sign_in_attempt')
    .values(f.rateKeys.map((key) => ({ key, at: f.at })))
    .execute();
  // Attempts older than the window count for nothing: forget them all, whichever key (they hold hashed emails).
  await ex.deleteFrom('sign_in_attempt').where('at', '<=', f.forgetBefore).execute();
  if (f.count) await countFailure(ex, auditor, f.count, f.origin);
  await auditor.append(ex, { actor: f.actor, action: 'auth.sign-in-failed', detail: { reason: f.reason, ...f.origin } });
}

/** A wrong current password on the change-password page: it counts towards the same lockout as sign-in. */
export async function recordPasswordChangeFailure(ex: Executor, auditor: Auditor, count: FailureCount, origin: OriginDetail): Promise<void> {
  await countFailure(ex, auditor, count, origin);
  await auditor.append(ex, { actor: staffActor(count.userId), action: 'auth.password-change-failed', detail: { ...origin } });
}

async function countFailure(ex: Executor, auditor: Auditor, count: FailureCount, origin: OriginDetail): Promise<void> {
  if (count.lockUntil === null) {
    await ex.updateTable('staff_user').set({ failed_attempts: count.failedAttempts }).where('id', '=', count.userId).execute();
    return;
  }
  await ex.updateTable('staff_user').set({ failed_attempts: 0, locked_until: count.lockUntil }).where('id', '=', count.userId).execute();
  await deleteUserSessions(ex, count.userId);
  await auditor.append(ex, {
    actor: staffActor(count.userId),
    action: 'auth.locked',
    detail: { userId: count.userId, until: count.lockUntil.toISOString(), ...origin },
  });
}

/**
 * A successful sign-in: the failure count cleared, the hash replaced when it was made with older parameters, the
 * session planted before sign-in ended (a new session id at every sign-in defeats fixation), the new one stored.
 */
export async function recordSignIn(
  ex: Executor,
  auditor: Auditor,
  s: { userId: string; clearFailures: boolean; rehash?: string; replacing?: Uint8Array; session: NewSessionRow; origin: OriginDetail },
): Promise<void> {
  if (s.clearFailures) await ex.updateTable('staff_user').set({ failed_attempts: 0, locked_until: null }).where('id', '=', s.userId).execute();
  // Same password, today's hashing parameters: part of this sign-in, which the event below records.
  if (s.rehash) await ex.updateTable('staff_user').set({ password_hash: s.rehash }).where('id', '=', s.userId).execute();
  if (s.replacing) await ex.deleteFrom('staff_session').where('id_hash', '=', s.replacing).execute();
  await insertSession(ex, s.session);
  await auditor.append(ex, { actor: staffActor(s.userId), action: 'auth.sign-in', detail: { ...s.origin } });
}

/** A new password: every session of the user ends, and the one making the change continues under a new id. */
export async function recordPasswordChange(
  ex: Executor,
  auditor: Auditor,
  c: { userId: string; passwordHash: string; now: Date; session: NewSessionRow },
): Promise<void> {
  await ex
    .updateTable('staff_user')
    .set({ password_hash: c.passwordHash, password_changed_at: c.now, must_change_password: false, failed_attempts: 0, locked_until: null })
    .where('id', '=', c.userId)
    .execute();
  await deleteUserSessions(ex, c.userId);
  await insertSession(ex, c.session);
  await auditor.append(ex, { actor: staffActor(c.userId), action: 'auth.password-change' });
}

/** Serialises work on one key across every process sharing the database, until the transaction ends. */
export async function lockKey(ex: Executor, key: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${key}))`.execute(ex);
}

export async function countFailuresSince(ex: Executor, key: string, since: Date): Promise<number> {
  const row = await ex
    .selectFrom('sign_in_attempt')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('key', '=', key)
    .where('at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
