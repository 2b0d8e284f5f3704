// `custodian user add|list|role|disable`: manage staff accounts from the command line (the first owner, recovery).
import { Command, Option } from 'commander';
import { systemClock, type Clock } from '../core/clock.ts';
import type { Db } from '../db/connect.ts';
import { ROLES, type Role } from '../staff/roles.ts';
import type { StaffAudit } from '../staff/staff-audit.ts';
import { staffUsers, type StaffUser } from '../staff/users-service.ts';
import { auditWriter, openKeyring, openMigratedDb, registerFingerprint, withDataOptions, type DataOptions } from './shared-options.ts';

export interface UserCommandDeps {
  /** Default: the embedded data folder or DATABASE_URL, migrated. */
  readonly openDb?: (opts: DataOptions) => Promise<Db>;
  /** The audit writer for account changes, bound to the database the command opened. */
  readonly audit?: (db: Db, opts: DataOptions) => StaffAudit | Promise<StaffAudit>;
  readonly clock?: Clock;
  readonly out?: (line: string) => void;
  readonly warn?: (line: string) => void;
  readonly readStdin?: () => Promise<string>;
}

const ACTOR = 'system:cli';

export function buildUserCommand(deps: UserCommandDeps = {}): Command {
  const out = deps.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const warn = deps.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const openDb = deps.openDb ?? ((opts: DataOptions) => openMigratedDb(opts, warn));
  const audit = deps.audit ?? (() => unwiredAudit(warn));
  const readStdin = deps.readStdin ?? readAllStdin;

  async function withUsers<T>(opts: DataOptions, fn: (users: ReturnType<typeof staffUsers>) => Promise<T>): Promise<T> {
    const db = await openDb(opts);
    try {
      return await fn(staffUsers({ db, clock: deps.clock ?? systemClock, audit: await audit(db, opts) }));
    } finally {
      await db.close();
    }
  }

  const email = () => new Option('--email <address>', 'the staff member’s email address').makeOptionMandatory();
  const role = () => new Option('--role <role>', 'owner, dpo, staff or auditor').choices(ROLES).makeOptionMandatory();

  const add = withDataOptions(new Command('add').description('Create a staff account and print a one-time password (shown once; changed at first sign-in)'))
    .addOption(email())
    .addOption(role())
    .option('--password-stdin', 'read the password from standard input instead of generating one (no change is then forced)')
    .action(async (opts: DataOptions & { email: string; role: Role; passwordStdin?: boolean }) => {
      const password = opts.passwordStdin ? (await readStdin()).replace(/\r?\n$/, '') : undefined;
      const { user, oneTimePassword } = await withUsers(opts, (users) => users.create({ email: opts.email, role: opts.role, ...(password !== undefined ? { password } : {}) }, ACTOR));
      out(`created ${user.role} ${user.email}`);
      if (oneTimePassword) out(`one-time password (shown only now; it must be changed at first sign-in): ${oneTimePassword}`);
    });

  const list = withDataOptions(new Command('list').description('List staff accounts'))
    .action(async (opts: DataOptions) => {
      const users = await withUsers(opts, (u) => u.list());
      if (users.length === 0) return out('no staff accounts yet');
      const rows = users.map((u) => [u.email, u.role, status(u, (deps.clock ?? systemClock).now()), u.createdAt.toISOString().slice(0, 10)]);
      for (const line of table([['EMAIL', 'ROLE', 'STATUS', 'CREATED'], ...rows])) out(line);
    });

  const changeRole = withDataOptions(new Command('role').description('Change the role of a staff account'))
    .addOption(email())
    .addOption(role())
    .action(async (opts: DataOptions & { email: string; role: Role }) => {
      const user = await withUsers(opts, (users) => users.changeRole(opts.email, opts.role, ACTOR));
      out(`${user.email} is now ${user.role}`);
    });

  const disable = withDataOptions(new Command('disable').description('Disable a staff account and end its sessions'))
    .addOption(email())
    .action(async (opts: DataOptions & { email: string }) => {
      const user = await withUsers(opts, (users) => users.disable(opts.email, ACTOR));
      out(`${user.email} is disabled`);
    });

  return new Command('user')
    .description('Manage staff accounts (owner, dpo, staff, auditor)')
    .showHelpAfterError()
    .addCommand(add)
    .addCommand(list)
    .addCommand(changeRole)
    .addCommand(disable);
}

export const userCommand = buildUserCommand({ audit: (_db, opts) => auditWriter(openKeyring(opts), systemClock, registerFingerprint(opts)) });

function status(user: StaffUser, now: Date): string {
  if (user.disabledAt) return 'disabled';
  if (user.lockedUntil && user.lockedUntil > now) return `locked until ${user.lockedUntil.toISOString().slice(11, 16)} UTC`;
  return user.mustChangePassword ? 'active (one-time password)' : 'active';
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd());
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

// Until the audit trail is wired in (cli/main.ts passes `buildUserCommand({ audit })`), say so on every change.
function unwiredAudit(warn: (line: string) => void): StaffAudit {
  return async (_trx, input) => {
    warn(`warning: the audit trail is not connected to this command yet; "${input.action}" was not recorded in it`);
  };
}
