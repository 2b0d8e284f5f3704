// `custodian user add|list|role|disable|unlock`: manage staff accounts from the command line (the first owner, recovery).
import { Command, Option } from 'commander';
import { ROLES, type Role } from '../staff/roles.ts';
import { staffUsers, type StaffUser, type StaffUsersDeps } from '../staff/users-service.ts';
import { toStderr, toStdout, withContext, withDataOptions, type DataOptions } from './cli-context.ts';

export interface UserCommandDeps {
  /** Runs `fn` with the app context (default: the embedded data folder or DATABASE_URL, migrated, with its keys). */
  readonly withUsersContext?: <T>(opts: DataOptions, fn: (ctx: StaffUsersDeps) => Promise<T>) => Promise<T>;
  readonly out?: (line: string) => void;
  readonly warn?: (line: string) => void;
  readonly readStdin?: () => Promise<string>;
}

const ACTOR = 'system:cli';

export function buildUserCommand(deps: UserCommandDeps = {}): Command {
  const out = deps.out ?? toStdout;
  const warn = deps.warn ?? toStderr;
  // Account changes are audited: the command may be the first to write to a fresh embedded folder, so it makes the key.
  const withUsersContext =
    deps.withUsersContext ?? (<T>(opts: DataOptions, fn: (ctx: StaffUsersDeps) => Promise<T>) => withContext(opts, { createKey: true, log: warn }, fn));
  const readStdin = deps.readStdin ?? readAllStdin;
  async function withUsers<T>(opts: DataOptions, fn: (users: ReturnType<typeof staffUsers>) => Promise<T>): Promise<T> {
    return withUsersContext(opts, (ctx) => fn(staffUsers(ctx)));
  }

  const email = () => new Option('--email <address>', 'the staff member’s email address').makeOptionMandatory();
  const role = () => new Option('--role <role>', 'owner, dpo, staff or auditor').choices(ROLES).makeOptionMandatory();

  const add = withDataOptions(new Command('add').description('Create a staff account and print a one-time password (shown once; changed at first sign-in)'))
    .addOption(email())
    .addOption(role())
    .option('--password-stdin', 'read the password from standard input instead of generating one (no change is then forced)')
    .action(async (opts: DataOptions & { email: string; role: Role; passwordStdin?: boolean }) => {
      const password = opts.passwordStdin ? (await readStdin()).replace(/\r?\n$/, '') : undefined;
      const { user, oneTimePassword } = await withUsers(opts, (users) =>
        users.create({ email: opts.email, role: opts.role, ...(password !== undefined ? { password } : {}) }, ACTOR),
      );
      out(`created ${user.role} ${user.email}`);
      if (oneTimePassword) out(`one-time password (shown only now; it must be changed at first sign-in): ${oneTimePassword}`);
    });

  const list = withDataOptions(new Command('list').description('List staff accounts')).action(async (opts: DataOptions) => {
    const users = await withUsers(opts, (u) => u.list());
    if (users.length === 0) return out('no staff accounts yet');
    const rows = users.map((u) => [u.email, u.role, status(u), u.createdAt.toISOString().slice(0, 10)]);
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

  const unlock = withDataOptions(
    new Command('unlock').description('Lift the sign-in throttle on an account, on every network (after too many wrong passwords)'),
  )
    .addOption(email())
    .action(async (opts: DataOptions & { email: string }) => {
      const forgotten = await withUsers(opts, (users) => users.unlock(opts.email, ACTOR));
      out(`${opts.email.trim().toLowerCase()} may sign in again from every network (${forgotten} counted failure${forgotten === 1 ? '' : 's'} forgotten)`);
    });

  return new Command('user')
    .description('Manage staff accounts (owner, dpo, staff, auditor)')
    .showHelpAfterError()
    .addCommand(add)
    .addCommand(list)
    .addCommand(changeRole)
    .addCommand(disable)
    .addCommand(unlock);
}

export const userCommand = buildUserCommand();

function status(user: StaffUser): string {
  if (user.disabledAt) return 'disabled';
  return user.mustChangePassword ? 'active (one-time password)' : 'active';
}

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) =>
    r
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
