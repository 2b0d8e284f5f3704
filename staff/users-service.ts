// The rules for staff accounts: who may exist, how they sign in, when they are locked out or throttled.
// Every change and its audit event share one transaction. A failed sign-in looks the same whatever the reason
// (unknown email, wrong password, locked, disabled) and costs the same: an unknown email is checked against a
// dummy hash, so neither the answer nor its timing tells whether an account exists.
import { createHash, randomInt, randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { AppContext } from '../app/app-context.ts';
import { browserFamily, truncateIp } from '../core/client-info.ts';
import { CustodianError } from '../core/errors.ts';
import type { Tables } from '../db/tables.ts';
import { staffActor } from './actor.ts';
import { hashPassword, needsRehash, verifyPassword } from './password-hash.ts';
import { checkPassword, checkPasswordBasics, PASSWORD_PROBLEM_TEXT, type PasswordProblem } from './password-policy.ts';
import type { Role } from './roles.ts';
import { newSession, tokenHash, type OpenedSession, type SessionOrigin, type StaffPrincipal } from './sessions.ts';
import { recordSignOut } from './sessions-store.ts';
import type { StaffUserRow } from './tables.ts';
import * as store from './users-store.ts';

/**
 * Throttling that cannot be turned into a lockout (OWASP ASVS 2.2.1): failures count against an account on one
 * network (IPv4 /24, IPv6 /48) and against the network, never against the account everywhere, so a stranger can
 * keep nobody else out. Within `windowMs` a network gets `perAccountOnNetwork` wrong passwords for one account and
 * `perNetwork` in all; then 429 there until the window has passed (or an owner lifts it).
 */
export interface SignInPolicy {
  readonly perAccountOnNetwork: number;
  readonly perNetwork: number;
  readonly windowMs: number;
}

const DEFAULT_SIGN_IN_POLICY: SignInPolicy = Object.freeze({ perAccountOnNetwork: 5, perNetwork: 10, windowMs: 15 * 60_000 });
const THROTTLED = 'too many failed sign-ins from your network; wait a few minutes and try again';

export type StaffUsersDeps = Pick<AppContext, 'db' | 'clock' | 'auditor'>;

export interface StaffUser {
  readonly id: string;
  readonly email: string;
  readonly role: Role;
  readonly createdAt: Date;
  readonly disabledAt: Date | null;
  readonly mustChangePassword: boolean;
}

type SignInResult =
  | { readonly ok: true; readonly principal: StaffPrincipal; readonly mustChangePassword: boolean; readonly session: OpenedSession }
  | { readonly ok: false };

type ChangePasswordResult =
  | { readonly ok: true; readonly session: OpenedSession }
  | { readonly ok: false; readonly problem: PasswordProblem | 'current_wrong' };

interface CreateUserInput {
  readonly email: string;
  readonly role: Role;
  /** Omitted: a one-time password is generated, returned once, and must be changed at first sign-in. */
  readonly password?: string;
}

export interface StaffUsers {
  create(input: CreateUserInput, actor: string): Promise<{ user: StaffUser; oneTimePassword: string | undefined }>;
  changeRole(email: string, role: Role, actor: string): Promise<StaffUser>;
  disable(email: string, actor: string): Promise<StaffUser>;
  /** Lifts every sign-in throttle on the account (on any network); returns how many counted failures went. */
  unlock(email: string, actor: string): Promise<number>;
  list(): Promise<StaffUser[]>;
  signIn(input: { email: string; password: string; origin: SessionOrigin; replacing?: unknown }): Promise<SignInResult>;
  signOut(token: unknown): Promise<void>;
  changePassword(input: { userId: string; current: string; next: string; origin: SessionOrigin }): Promise<ChangePasswordResult>;
}

function normaliseEmail(raw: string): string {
  return raw.normalize('NFC').trim().toLowerCase();
}

function isValidEmail(email: string): boolean {
  return email.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(email);
}

export function staffUsers(deps: StaffUsersDeps, signInPolicy: Partial<SignInPolicy> = {}): StaffUsers {
  const { db, clock, auditor } = deps;
  const policy: SignInPolicy = { ...DEFAULT_SIGN_IN_POLICY, ...signInPolicy };
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

  /** The throttle keys of an email on a network, with their limits; the account's own key first. */
  function throttleKeys(email: string, ip: string | undefined): { key: string; max: number }[] {
    const network = truncateIp(ip) ?? 'unknown';
    return [
      { key: `${accountKeyPrefix(email)}${network}`, max: policy.perAccountOnNetwork },
      { key: `network:${network}`, max: policy.perNetwork },
    ];
  }

  /** Whether any key is at its limit in the window (checked before hashing, and again under the keys' locks). */
  async function throttled(ex: Kysely<Tables>, keys: readonly { key: string; max: number }[], since: Date): Promise<boolean> {
    for (const { key, max } of keys) if ((await store.countFailuresSince(ex, key, since)) >= max) return true;
    return false;
  }

  /** Counts one failure; when it brings a known account to its limit on this network, that throttle is audited. */
  async function fail(
    trx: Transaction<Tables>,
    f: {
      action: store.AuthFailure['action'];
      keys: readonly { key: string; max: number }[];
      user: StaffUserRow | undefined;
      reason: string;
      now: Date;
      since: Date;
      origin: SessionOrigin;
    },
  ): Promise<void> {
    const [account] = f.keys;
    const reachesLimit = f.user !== undefined && account !== undefined && (await store.countFailuresSince(trx, account.key, f.since)) + 1 >= account.max;
    await store.recordAuthFailure(trx, auditor, {
      action: f.action,
      rateKeys: f.keys.map((k) => k.key),
      at: f.now,
      forgetBefore: f.since,
      actor: f.user ? staffActor(f.user.id) : 'anonymous',
      reason: f.reason,
      origin: originDetail(f.origin),
      throttles: reachesLimit && f.user ? { userId: f.user.id, until: new Date(f.now.getTime() + policy.windowMs) } : null,
    });
  }

  return {
    async create(input, actor) {
      const email = normaliseEmail(input.email);
      if (!isValidEmail(email)) throw new CustodianError('bad_request', 'that is not an email address');
      const generated = input.password === undefined ? generatePasswordFor(email) : undefined;
      const password = input.password ?? generated ?? '';
      await rejectWeak(password, email);
      const passwordHash = await hashPassword(password);
      const user = await inTransaction(async (trx) => {
        if (await store.findUserByEmail(trx, email)) throw new CustodianError('conflict', 'a staff account with that email already exists');
        const id = randomUUID();
        await store.insertUser(
          trx,
          auditor,
          { id, email, role: input.role, passwordHash, mustChangePassword: generated !== undefined, now: clock.now() },
          actor,
        );
        return store.findUserById(trx, id);
      });
      return { user: toUser(must(user)), oneTimePassword: generated };
    },

    async changeRole(email, role, actor) {
      return inTransaction(async (trx) => {
        const user = await existing(trx, email);
        if (user.role === role) return toUser(user);
        if (role !== 'owner') await keepAnOwner(trx, user);
        await store.setRole(trx, auditor, { userId: user.id, from: user.role, to: role }, actor);
        return toUser({ ...user, role });
      });
    },

    async disable(email, actor) {
      return inTransaction(async (trx) => {
        const user = await existing(trx, email);
        if (user.disabled_at) return toUser(user);
        await keepAnOwner(trx, user);
        const now = clock.now();
        await store.disableUser(trx, auditor, user.id, now, actor);
        return toUser({ ...user, disabled_at: now });
      });
    },

    async unlock(email, actor) {
      return inTransaction(async (trx) => {
        const user = await existing(trx, email);
        return store.unthrottleAccount(trx, auditor, { userId: user.id, keyPrefix: accountKeyPrefix(user.email) }, actor);
      });
    },

    async list() {
      return (await store.listUsers(db.kysely)).map(toUser);
    },

    async signIn({ email: rawEmail, password, origin, replacing }) {
      const now = clock.now();
      const email = normaliseEmail(rawEmail);
      const keys = throttleKeys(email, origin.ip);
      const since = new Date(now.getTime() - policy.windowMs);
      // Checked before hashing too, so a flood of guesses costs the server almost nothing.
      if (await throttled(db.kysely, keys, since)) throw new CustodianError('rate_limited', THROTTLED);
      const found = isValidEmail(email) ? await store.findUserByEmail(db.kysely, email) : undefined;
      const matches = await verifyPassword(password, found?.password_hash ?? (await dummyHash()));
      const rehashed = found && matches && needsRehash(found.password_hash) ? await hashPassword(password) : undefined;

      return inTransaction(async (trx): Promise<SignInResult> => {
        for (const { key } of [...keys].sort((a, b) => a.key.localeCompare(b.key))) await store.lockKey(trx, key);
        if (await throttled(trx, keys, since)) throw new CustodianError('rate_limited', THROTTLED);
        const user = found ? await store.findUserById(trx, found.id, true) : undefined;
        const reason = !user
          ? 'unknown-account'
          : user.disabled_at
            ? 'disabled'
            : !matches || user.password_hash !== found?.password_hash
              ? 'wrong-password'
              : undefined;
        if (!user || reason) {
          await fail(trx, {
            action: 'auth.sign-in-failed',
            keys,
            user: reason === 'wrong-password' ? user : undefined,
            reason: reason ?? 'unknown',
            now,
            since,
            origin,
          });
          return { ok: false };
        }
        const { opened, row } = newSession(user.id, now, origin);
        const replacingHash = tokenHash(replacing);
        await store.recordSignIn(trx, auditor, {
          userId: user.id,
          ...(rehashed ? { rehash: rehashed } : {}),
          ...(replacingHash ? { replacing: replacingHash } : {}),
          session: row,
          origin: originDetail(origin),
        });
        return { ok: true, principal: { userId: user.id, email: user.email, role: user.role }, mustChangePassword: user.must_change_password, session: opened };
      });
    },

    async signOut(token) {
      const idHash = tokenHash(token);
      if (idHash) await inTransaction((trx) => recordSignOut(trx, auditor, idHash));
    },

    async changePassword({ userId, current, next, origin }) {
      const found = await store.findUserById(db.kysely, userId);
      if (!found || found.disabled_at) throw new CustodianError('unauthenticated');
      // Guessing the current password from a stolen session counts towards the same throttle as sign-in.
      const keys = throttleKeys(found.email, origin.ip);
      const since = new Date(clock.now().getTime() - policy.windowMs);
      if (await throttled(db.kysely, keys, since)) throw new CustodianError('rate_limited', THROTTLED);
      const matches = await verifyPassword(current, found.password_hash);
      const problem = current === next ? 'unchanged' : await checkPassword(next, found.email);
      const nextHash = matches && !problem ? await hashPassword(next) : undefined;
      return inTransaction(async (trx): Promise<ChangePasswordResult> => {
        const now = clock.now();
        const user = must(await store.findUserById(trx, userId, true));
        if (!matches || user.password_hash !== found.password_hash) {
          await fail(trx, { action: 'auth.password-change-failed', keys, user, reason: 'wrong-current-password', now, since, origin });
          return { ok: false, problem: 'current_wrong' };
        }
        if (problem || !nextHash) return { ok: false, problem: problem ?? 'too_short' };
        const { opened, row } = newSession(user.id, now, origin);
        await store.recordPasswordChange(trx, auditor, { userId: user.id, passwordHash: nextHash, now, session: row });
        return { ok: true, session: opened };
      });
    },
  };
}

/** Every throttle key of one account starts so: `account:<sha-256 of the email>:` then the network. */
function accountKeyPrefix(email: string): string {
  return `account:${createHash('sha256').update(email).digest('hex')}:`;
}

/**
 * On a first start with no staff account at all, creates an owner with a one-time password and returns it, for the
 * caller to print once; returns undefined when any account exists. Safe when several processes start together.
 */
export async function ensureFirstOwner(deps: StaffUsersDeps, ownerEmail?: string): Promise<{ email: string; oneTimePassword: string } | undefined> {
  const email = normaliseEmail(ownerEmail ?? 'owner@localhost');
  if (!isValidEmail(email)) throw new CustodianError('bad_request', 'CUSTODIAN_OWNER_EMAIL is not an email address');
  return deps.db.kysely.transaction().execute(async (trx) => {
    await store.lockKey(trx, 'custodian:first-owner');
    if ((await store.countUsers(trx)) > 0) return undefined;
    const password = generatePasswordFor(email);
    const id = randomUUID();
    const owner = {
      id,
      email,
      role: 'owner' as const,
      passwordHash: await hashPassword(password),
      mustChangePassword: true,
      now: deps.clock.now(),
      firstOwner: true,
    };
    await store.insertUser(trx, deps.auditor, owner, 'system:first-start');
    return { email, oneTimePassword: password };
  });
}

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'; // no 0/o, 1/l/i: read aloud or copied from a terminal

/** About 99 bits: four groups of five, e.g. `k7mqz-3hb9x-…`. */
function oneTimePassword(): string {
  const groups = Array.from({ length: 4 }, () => Array.from({ length: 5 }, () => ALPHABET[randomInt(ALPHABET.length)]).join(''));
  return groups.join('-');
}

function generatePasswordFor(email: string): string {
  for (;;) {
    const candidate = oneTimePassword();
    // Random from a large alphabet: the estimator would only confirm it.
    if (!checkPasswordBasics(candidate, email)) return candidate;
  }
}

async function rejectWeak(password: string, email: string): Promise<void> {
  const problem = await checkPassword(password, email);
  if (problem) throw new CustodianError('password_rejected', PASSWORD_PROBLEM_TEXT[problem], { problem });
}

function originDetail(origin: SessionOrigin): store.OriginDetail {
  const ip = truncateIp(origin.ip) ?? undefined;
  return { ...(ip ? { ip } : {}), userAgent: browserFamily(origin.userAgent) ?? 'unknown' };
}

function toUser(row: StaffUserRow): StaffUser {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    createdAt: new Date(row.created_at),
    disabledAt: row.disabled_at ? new Date(row.disabled_at) : null,
    mustChangePassword: row.must_change_password,
  };
}

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new CustodianError('internal');
  return value;
}
