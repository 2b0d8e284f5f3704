// What every data-touching command shares: its options, the steps to reach a migrated database, and the one app
// context it builds from them (app/app-context.ts), so a command audits exactly as the server does.
import { Option, type Command } from 'commander';
import { createAppContext, type CommandContext } from '../app/app-context.ts';
import { systemClock } from '../core/clock.ts';
import { lineLogger } from '../core/logger.ts';
import { keyFilePath } from '../crypto/key-file.ts';
import { backupWarning, loadKeyring, type Keyring } from '../crypto/keyring.ts';
import { connect, type Db } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { loadRegisterFile, type Register } from '../register/load-register.ts';
import { formatReport } from '../register/problems.ts';

export interface DataOptions {
  data: string;
  databaseUrl?: string;
  /** The privacy register: checked before the command touches data; its fingerprint goes on audit events. */
  register?: string;
}

export type Out = (line: string) => void;
export const toStdout: Out = (line) => process.stdout.write(`${line}\n`);
export const toStderr: Out = (line) => process.stderr.write(`${line}\n`);

/**
 * Every command that touches data takes `--data DIR` (or DATABASE_URL) and `--register FILE`; the register is
 * required where the command needs it (serve) and otherwise checked when given.
 */
export function withDataOptions(cmd: Command, register: 'required' | 'optional' = 'optional'): Command {
  const registerOption = new Option(
    '--register <file>',
    register === 'required' ? 'privacy register YAML' : 'privacy register YAML (checked first; its fingerprint is recorded on audit events)',
  ).env('CUSTODIAN_REGISTER');
  if (register === 'required') registerOption.makeOptionMandatory();
  return cmd
    .addOption(registerOption)
    .addOption(new Option('--data <dir>', 'folder of the embedded database (ignored when DATABASE_URL is set)').env('CUSTODIAN_DATA').default('./data'))
    .addOption(new Option('--database-url <url>', 'PostgreSQL connection string').env('DATABASE_URL'));
}

/** Loads a register or prints the check report and exits 1, as `custodian check` would. */
export function loadRegisterOrExit(file: string): { register: Register; source: string } {
  const result = loadRegisterFile(file);
  if (!result.ok) {
    process.stderr.write(`${formatReport(file, result.problems)}\n`);
    process.exit(1);
  }
  return result;
}

/** Connects and applies pending migrations; says which migrations ran. */
export async function openMigratedDb(opts: DataOptions, log: Out): Promise<Db> {
  const db = await connect({ url: opts.databaseUrl, dataDir: opts.data });
  try {
    const applied = await migrate(db);
    if (applied.length > 0) log(`applied ${applied.length} migration${applied.length === 1 ? '' : 's'}: ${applied.join(', ')}`);
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}

/**
 * The master keys for a command: CUSTODIAN_MASTER_KEY, or `<data>/master.key`. With `create` on the embedded
 * database the key file is made on first use, with a loud instruction to back it up (separately from the data).
 */
export function openKeyring(opts: DataOptions, create: boolean, log: Out): Keyring {
  const { keyring, created } = loadKeyring({ env: process.env, dataDir: opts.data, createIfMissing: create && !opts.databaseUrl, log });
  if (created) log(backupWarning(keyFilePath(opts.data)));
  return keyring;
}

/** Runs `fn` with the migrated database (commands that need no keys), and closes it. */
export async function withDb<T>(opts: DataOptions, log: Out, fn: (db: Db) => Promise<T>): Promise<T> {
  if (opts.register) loadRegisterOrExit(opts.register);
  const db = await openMigratedDb(opts, log);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/**
 * Runs `fn` with the command's app context (the register when given, the keys, the database), and closes it.
 * `createKey`: on a fresh embedded folder, make the master key (commands that may be the first to write). `keyLog`:
 * where the keyring says where its keys come from (default `log`).
 */
export async function withContext<T>(
  opts: DataOptions,
  settings: { createKey: boolean; log: Out; keyLog?: Out },
  fn: (ctx: CommandContext) => Promise<T>,
): Promise<T> {
  const register = opts.register ? loadRegisterOrExit(opts.register).register : null;
  const keyring = openKeyring(opts, settings.createKey, settings.keyLog ?? settings.log);
  const db = await openMigratedDb(opts, settings.log);
  try {
    return await fn(createAppContext({ db, register, clock: systemClock, keyring, log: lineLogger(settings.log) }));
  } finally {
    await db.close();
  }
}
