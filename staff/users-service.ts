// The rules for staff accounts: who may exist, how they sign in, when they are locked out or throttled.
// Every change and its audit event share one transaction. A failed sign-in looks the same whatever the reason
// (unknown email, wrong password, locked, disabled) and costs the same: an unknown email is checked against a
// dummy hash, so neither the answer nor its timing tells whether an account exists.
import { createHash, randomInt, randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Clock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import type { Db } from '../db/connect.ts';
import type { Tables } from '../db/tables.ts';
import { browserFamily, truncateIp } from '../http/client-info.ts';
import { hashPassword, needsRehash, verifyPassword } from './password-hash.ts';
import { checkPassword, PASSWORD_PROBLEM_TEXT, type PasswordProblem } from './password-policy.ts';
import type { Role } from './roles.ts';
import { closeSession, openSession, type OpenedSession, type SessionOrigin, type StaffPrincipal } from './sessions.ts';
import { deleteUserSessions } from './sessions-store.ts';
import { staffActor, type StaffAudit } from './staff-audit.ts';
import type { StaffUserRow } from './tables.ts';
import * as store from './users-store.ts';

export interface SignInPolicy {
  /** Wrong passwords in a row before the account is locked. */
  readonly maxFailures: number;
  readonly lockMs: number;
  /** Failed sign-ins allowed per email and per truncated IP within `windowMs`, then 429. */
  readonly maxFailuresPerEmail: number;
  readonly maxFailuresPerIp: number;
  readonly windowMs: number;
}

export const DEFAULT_SIGN_IN_POLICY: SignInPolicy = Object.freeze({
  maxFailures: 5,
  lockMs: 15 * 60_000,
  maxFailuresPerEmail: 10,
  maxFailuresPerIp: 10,
  windowMs: 15 * 60_000,
});

export interface StaffUsersDeps {
  readonly db: Db;
  readonly clock: Clock;
  readonly audit: StaffAudit;
  readonly signInPolicy?: Partial<SignInPolicy>;
}

export interface StaffUser {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  readonly createdAt: Date;
  readonly disabledAt: Date | null;
  readonly lockedUntil: Date | null;
  readonly mustChangePassword: boolean;
}

export type SignInResult =
  | { readonly ok: true; readonly principal: StaffPrincipal; readonly mustChangePassword: boolean; readonly session: OpenedSession }
  | { readonly ok: false };

export type ChangePasswordResult =
  | { readonly ok: true; readonly session: OpenedSession }
  | { readonly ok: false; readonly problem: PasswordProblem | 'current_wrong' };

export interface CreateUserInput {
  readonly email: string;
  readonly role: Role;
  /** Omitted: a one-time password is generated, returned once, and must be changed at first sign-in. */
  readonly password?: string;
}

export interface StaffUsers {
  create(input: CreateUserInput, actor: string): Promise<{ user: StaffUser; oneTimePassword: string | undefined }>;
  changeRole(email: string, role: Role, actor: string): Promise<StaffUser>;
  disable(email: string, actor: string): Promise<StaffUser>;
  list(): Promise<StaffUser[]>;
  signIn(input: { email: string; password: string; origin: SessionOrigin; replacing?: unknown }): Promise<SignInResult>;
  signOut(token: unknown): Promise<void>;
  changePassword(input: { userId: string; current: string; next: string; origin: SessionOrigin }): Promise<ChangePasswordResult>;
}

export function normaliseEmail(raw: string): string {
  return raw.normalize('NFC').trim().toLowerCase();
}

export function isValidEmail(email: string): boolean {
  return email.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(email);
}

export function staffUsers(deps: StaffUsersDeps): StaffUsers {
  const { db, clock, audit } = deps;
  const policy: SignInPolicy = { ...DEFAULT_SIGN_IN_POLICY, ...deps.signInPolicy };
  let dummy: Promise<string> | undefined;
  const dummyHash = () => (dummy ??= hashPassword(oneTimePassword()));

  const inTransaction = <T>(fn: (trx: Transaction<Tables>) => Promise<T>) => db.kysely.transaction().execute(fn);

  async function existing(trx: Kysely<Tables>, rawEmail: string): Promise<StaffUserRow> {
    const user = await store.findUserByEmail(trx, normaliseEmail(rawEmail), true);
    if (!user) throw new CustodianError('not_found', 'there is no staff account with that email');
    return user;
  }

  async function keepAnOwner(trx: Kysely<Tables>, user: StaffUserRow): Promise<void> {
    if (user.role !== 'owner' || user.disabled_at) return;
    await store.lockKey(trx, 'custodian:staff-owners');
    if ((await store.countActiveOwners(trx)) <= 1) {
      throw new CustodianError('conflict', 'this is the last active owner: make another owner first, so someone can still manage accounts');
    }
  }

  async function registerFailure(trx: Transaction<Tables>, user: StaffUserRow, now: Date, origin: SessionOrigin): Promise<boolean> {
    const attempts = user.failed_attempts + 1;
    if (attempts < policy.maxFailures) {
      await store.setFailures(trx, user.id, attempts, user.locked_until);
      return false;
    }
    const until = new Date(now.getTime() + policy.lockMs);
    await store.setFailures(trx, user.id, 0, until);
    await deleteUserSessions(trx, user.id);
    await audit(trx, { actor: staffActor(user.id), action: 'auth.locked', detail: { userId: user.id, until: until.toISOString(), ...originDetail(origin) } });
    return true;
  }

  return {
    async create(input, actor) {
      const email = normaliseEmail(input.email);
      if (!isValidEmail(email)) throw new CustodianError('bad_request', 'that is not an email address');
      const generated = input.password === undefined ? generatePasswordFor(email) : undefined;
      const password = input.password ?? generated ?? '';
      rejectWeak(password, email);
      const passwordHash = await hashPassword(password);
      const user = await inTransaction(async (trx) => {
        if (await store.findUserByEmail(trx, email)) throw new CustodianError('conflict', 'a staff account with that email already exists');
        const id = randomUUID();
        await store.insertUser(trx, { id, email, role: input.role, passwordHash, mustChangePassword: generated !== undefined, now: clock.now() });
        await audit(trx, { actor, action: 'staff.create', detail: { userId: id, role: input.role } });
        return store.findUserById(trx, id);
      });
      return { user: toUser(must(user)), oneTimePassword: generated };
    },

    async changeRole(email, role, actor) {
      return inTransaction(async (trx) => {
        const user = await existing(trx, email);
        if (user.role === role) return toUser(user);
        if (role !== 'owner') await keepAnOwner(trx, user);
        await store.setRole(trx, user.id, role);
        await audit(trx, { actor, action: 'staff.role-change', detail: { userId: user.id, from: user.role, to: role } });
        return toUser({ ...user, role });
      });
    },

    async disable(email, actor) {
      return inTransaction(async (trx) => {
        const user = await existing(trx, email);
        if (user.disabled_at) return toUser(user);
        await keepAnOwner(trx, user);
        const now = clock.now();
        await store.setDisabled(trx, user.id, now);
        await deleteUserSessions(trx, user.id);
        await audit(trx, { actor, action: 'staff.disable', detail: { userId: user.id } });
        return toUser({ ...user, disabled_at: now });
      });
    },

    async list() {
      return (await store.listUsers(db.kysely)).map(toUser);
    },

    async signIn({ email: rawEmail, password, origin, replacing }) {
      const now = clock.now();
      const email = normaliseEmail(rawEmail);
      const keys = rateKeys(email, origin.ip);
      const since = new Date(now.getTime() - policy.windowMs);
      const overLimit = async (ex: Kysely<Tables>) => {
        for (const { key, max } of keys) if ((await store.countFailuresSince(ex, key, since)) >= max) return true;
        return false;
      };
      // Checked before hashing too, so a flood of guesses costs the server almost nothing.
      if (await overLimit(db.kysely)) throw new CustodianError('rate_limited', 'too many failed sign-ins; wait a few minutes and try again');
      const found = isValidEmail(email) ? await store.findUserByEmail(db.kysely, email) : undefined;
      const matches = await verifyPassword(password, found?.password_hash ?? (await dummyHash()));
      const rehashed = found && matches && needsRehash(found.password_hash) ? await hashPassword(password) : undefined;

      return inTransaction(async (trx): Promise<SignInResult> => {
        for (const { key } of [...keys].sort((a, b) => a.key.localeCompare(b.key))) await store.lockKey(trx, key);
        if (await overLimit(trx)) throw new CustodianError('rate_limited', 'too many failed sign-ins; wait a few minutes and try again');
        const user = found ? await store.findUserById(trx, found.id, true) : undefined;
        const reason = !user
          ? 'unknown-account'
          : user.disabled_at
            ? 'disabled'
            : user.locked_until && user.locked_until.getTime() > now.getTime()
              ? 'locked'
              : !matches || user.password_hash !== found?.password_hash
                ? 'wrong-password'
                : undefined;
        if (!user || reason) {
          await store.recordFailures(trx, keys.map((k) => k.key), now, since);
          if (user && reason === 'wrong-password') await registerFailure(trx, user, now, origin);
          await audit(trx, { actor: user ? staffActor(user.id) : 'anonymous', action: 'auth.sign-in-failed', detail: { reason: reason ?? 'unknown', ...originDetail(origin) } });
          return { ok: false };
        }
        if (user.failed_attempts > 0 || user.locked_until) await store.setFailures(trx, user.id, 0, null);
        if (rehashed) await store.replaceHash(trx, user.id, rehashed);
        // A new session id at every sign-in: a token planted before sign-in (fixation) is worthless after it.
        if (replacing !== undefined) await closeSession(trx, replacing);
        const session = await openSession(trx, user.id, now, origin);
        await audit(trx, { actor: staffActor(user.id), action: 'auth.sign-in', detail: originDetail(origin) });
        return { ok: true, principal: { userId: user.id, email: user.email, role: user.role }, mustChangePassword: user.must_change_password, session };
      });
    },

    async signOut(token) {
      await inTransaction(async (trx) => {
        const userId = await closeSession(trx, token);
        if (userId) await audit(trx, { actor: staffActor(userId), action: 'auth.sign-out' });
      });
    },

    async changePassword({ userId, current, next, origin }) {
      const found = await store.findUserById(db.kysely, userId);
      if (!found || found.disabled_at) throw new CustodianError('unauthenticated');
      const matches = await verifyPassword(current, found.password_hash);
      const problem = current === next ? 'unchanged' : checkPassword(next, found.email);
      const nextHash = matches && !problem ? await hashPassword(next) : undefined;
      return inTransaction(async (trx): Promise<ChangePasswordResult> => {
        const now = clock.now();
        const user = must(await store.findUserById(trx, userId, true));
        const locked = user.locked_until !== null && user.locked_until.getTime() > now.getTime();
        if (!matches || locked || user.password_hash !== found.password_hash) {
          // Guessing the current password from a stolen session counts towards the same lockout as sign-in.
          if (!locked) await registerFailure(trx, user, now, origin);
          return { ok: false, problem: 'current_wrong' };
        }
        if (problem || !nextHash) return { ok: false, problem: problem ?? 'too_short' };
        await store.setPassword(trx, user.id, nextHash, now, false);
        await audit(trx, { actor: staffActor(user.id), action: 'auth.password-change' });
        // Every other session of this user ends; the one making the change continues under a new id.
        await deleteUserSessions(trx, user.id);
        return { ok: true, session: await openSession(trx, user.id, now, origin) };
      });
    },
  };

  function rateKeys(email: string, ip: string | undefined): { key: string; max: number }[] {
    const keys = [{ key: `email:${createHash('sha256').update(email).digest('hex')}`, max: policy.maxFailuresPerEmail }];
    const truncated = truncateIp(ip) ?? undefined;
    if (truncated) keys.push({ key: `ip:${truncated}`, max: policy.maxFailuresPerIp });
    return keys;
  }
}

/**
 * On a first start with no staff account at all, creates an owner with a one-time password and returns it, for the
 * caller to print once; returns undefined when any account exists. Safe when several processes start together.
 */
export async function ensureFirstOwner(
  db: Db,
  deps: { clock: Clock; audit: StaffAudit; email?: string | undefined },
): Promise<{ email: string; oneTimePassword: string } | undefined> {
  const email = normaliseEmail(deps.email ?? 'owner@localhost');
  if (!isValidEmail(email)) throw new CustodianError('bad_request', 'CUSTODIAN_OWNER_EMAIL is not an email address');
  return db.kysely.transaction().execute(async (trx) => {
    await store.lockKey(trx, 'custodian:first-owner');
    if ((await store.countUsers(trx)) > 0) return undefined;
    const password = generatePasswordFor(email);
    const id = randomUUID();
    await store.insertUser(trx, { id, email, role: 'owner', passwordHash: await hashPassword(password), mustChangePassword: true, now: deps.clock.now() });
    await deps.audit(trx, { actor: 'system:first-start', action: 'staff.create', detail: { userId: id, role: 'owner', firstOwner: true } });
    return { email, oneTimePassword: password };
  });
}

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'; // no 0/o, 1/l/i: read aloud or copied from a terminal

/** About 99 bits: four groups of five, e.g. `k7mqz-3hb9x-…`. */
export function oneTimePassword(): string {
  const groups = Array.from({ length: 4 }, () => Array.from({ length: 5 }, () => ALPHABET[randomInt(ALPHABET.length)]).join(''));
  return groups.join('-');
}

function generatePasswordFor(email: string): string {
  for (;;) {
    const candidate = oneTimePassword();
    if (!checkPassword(candidate, email)) return candidate;
  }
}

function rejectWeak(password: string, email: string): void {
  const problem = checkPassword(password, email);
  if (problem) throw new CustodianError('password_rejected', PASSWORD_PROBLEM_TEXT[problem], { problem });
}

function originDetail(origin: SessionOrigin): Record<string, string> {
  const ip = (truncateIp(origin.ip) ?? undefined);
  return { ...(ip ? { ip } : {}), userAgent: (browserFamily(origin.userAgent) ?? 'unknown') };
}

function toUser(row: StaffUserRow): StaffUser {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    createdAt: new Date(row.created_at),
    disabledAt: row.disabled_at ? new Date(row.disabled_at) : null,
    lockedUntil: row.locked_until ? new Date(row.locked_until) : null,
    mustChangePassword: row.must_change_password,
  };
}

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new CustodianError('internal');
  return value;
}
