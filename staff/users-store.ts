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

/** A failed authentication: a sign-in, or a wrong current password on the change-password page. */
export interface AuthFailure {
  readonly action: 'auth.sign-in-failed' | 'auth.password-change-failed';
  /** The throttle keys the failure counts against (the account on this network, and the network). */
  readonly rateKeys: readonly string[];
  readonly at: Date;
  /** Attempts before this count for nothing any more; they are forgotten. */
  readonly forgetBefore: Date;
  readonly actor: string;
  readonly reason: string;
  readonly origin: OriginDetail;
  /** When this failure throttles a known account on this network: whose, and until when. */
  readonly throttles: { readonly userId: string; readonly until: Date } | null;
}

/** Counts a failed authentication against its throttle keys and audits it (and the throttle it starts, if any). */
export async function recordAuthFailure(ex: Executor, auditor: Auditor, f: AuthFailure): Promise<void> {
  await ex
    .insertInto('sign_in_attempt')
    .values(f.rateKeys.map((key) => ({ key, at: f.at })))
    .execute();
  // Attempts older than the window count for nothing: forget them all, whichever key (they hold hashed emails).
  await ex.deleteFrom('sign_in_attempt').where('at', '<=', f.forgetBefore).execute();
  if (f.throttles) {
    const detail = { userId: f.throttles.userId, until: f.throttles.until.toISOString(), ...f.origin };
    await auditor.append(ex, { actor: staffActor(f.throttles.userId), action: 'auth.locked', detail });
  }
  await auditor.append(ex, { actor: f.actor, action: f.action, detail: { reason: f.reason, ...f.origin } });
}

/** An owner lifts every throttle on an account: the failures counted against it, on any network, are forgotten. */
export async function unthrottleAccount(ex: Executor, auditor: Auditor, u: { userId: string; keyPrefix: string }, actor: string): Promise<number> {
  const r = await ex.deleteFrom('sign_in_attempt').where('key', 'like', `${u.keyPrefix}%`).executeTakeFirst();
  await auditor.append(ex, { actor, action: 'staff.unlock', detail: { userId: u.userId } });
  return Number(r.numDeletedRows);
}

/**
 * A successful sign-in: the hash replaced when it was made with older parameters, the session planted before
 * sign-in ended (a new session id at every sign-in defeats fixation), the new one stored.
 */
export async function recordSignIn(
  ex: Executor,
  auditor: Auditor,
  s: { userId: string; rehash?: string; replacing?: Uint8Array; session: NewSessionRow; origin: OriginDetail },
): Promise<void> {
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
    .set({ password_hash: c.passwordHash, password_changed_at: c.now, must_change_password: false })
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
