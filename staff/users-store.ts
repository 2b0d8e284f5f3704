// SQL for staff_user and sign_in_attempt. The service (users-service.ts) holds the rules.
import { sql, type Kysely } from 'kysely';
import type { Tables } from '../db/tables.ts';
import type { Role } from './roles.ts';
import type { StaffUserRow } from './tables.ts';

export interface NewUser {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  readonly passwordHash: string;
  readonly mustChangePassword: boolean;
  readonly now: Date;
}

export async function insertUser(db: Kysely<Tables>, user: NewUser): Promise<void> {
  await db
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
}

export async function findUserByEmail(db: Kysely<Tables>, email: string, forUpdate = false): Promise<StaffUserRow | undefined> {
  let query = db.selectFrom('staff_user').selectAll().where('email', '=', email);
  if (forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function findUserById(db: Kysely<Tables>, id: string, forUpdate = false): Promise<StaffUserRow | undefined> {
  let query = db.selectFrom('staff_user').selectAll().where('id', '=', id);
  if (forUpdate) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function listUsers(db: Kysely<Tables>): Promise<StaffUserRow[]> {
  return db.selectFrom('staff_user').selectAll().orderBy('email').execute();
}

export async function countUsers(db: Kysely<Tables>): Promise<number> {
  const row = await db.selectFrom('staff_user').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function countActiveOwners(db: Kysely<Tables>): Promise<number> {
  const row = await db
    .selectFrom('staff_user')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('role', '=', 'owner')
    .where('disabled_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function setRole(db: Kysely<Tables>, id: string, role: Role): Promise<void> {
  await db.updateTable('staff_user').set({ role }).where('id', '=', id).execute();
}

export async function setDisabled(db: Kysely<Tables>, id: string, now: Date): Promise<void> {
  await db.updateTable('staff_user').set({ disabled_at: now }).where('id', '=', id).execute();
}

export async function setFailures(db: Kysely<Tables>, id: string, failedAttempts: number, lockedUntil: Date | null): Promise<void> {
  await db.updateTable('staff_user').set({ failed_attempts: failedAttempts, locked_until: lockedUntil }).where('id', '=', id).execute();
}

export async function setPassword(db: Kysely<Tables>, id: string, passwordHash: string, now: Date, mustChangePassword: boolean): Promise<void> {
  await db
    .updateTable('staff_user')
    .set({ password_hash: passwordHash, password_changed_at: now, must_change_password: mustChangePassword, failed_attempts: 0, locked_until: null })
    .where('id', '=', id)
    .execute();
}

/** Replaces the stored hash with one of today's parameters, keeping when the password itself last changed. */
export async function replaceHash(db: Kysely<Tables>, id: string, passwordHash: string): Promise<void> {
  await db.updateTable('staff_user').set({ password_hash: passwordHash }).where('id', '=', id).execute();
}

/** Serialises work on one key across every process sharing the database, until the transaction ends. */
export async function lockKey(db: Kysely<Tables>, key: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${key}))`.execute(db);
}

export async function countFailuresSince(db: Kysely<Tables>, key: string, since: Date): Promise<number> {
  const row = await db
    .selectFrom('sign_in_attempt')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('key', '=', key)
    .where('at', '>', since)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function recordFailures(db: Kysely<Tables>, keys: readonly string[], at: Date, forgetBefore: Date): Promise<void> {
  await db.insertInto('sign_in_attempt').values(keys.map((key) => ({ key, at }))).execute();
  // Attempts older than the window count for nothing: forget them all, whichever key (they hold hashed emails).
  await db.deleteFrom('sign_in_attempt').where('at', '<=', forgetBefore).execute();
}
