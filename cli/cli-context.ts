// What every data-touching command shares: its options, the steps to reach a migrated database, and the one app
// context it builds from them (app/app-context.ts), so a command audits exactly as the server does.
import { Option, type Command } from 'commander';
import { createAppContext, type CommandContext } from '../app/app-context.ts';
import { systemClock } from '../core/clock.ts';
import { lineLogger } from '../core/logger.ts';
import { join, resolve } from 'node:path';
import { auditTrailExists } from '../audit/query-audit-log.ts';
import { FileWitness, HttpWitness, type Witness } from '../audit/witness.ts';
import { CustodianError } from '../core/errors.ts';
import { keyFilePath } from '../crypto/key-file.ts';
import { masterKeysInUse } from '../crypto/key-status.ts';
import { backupWarning, describeKeySource, loadKeyring, MASTER_KEY_ENV, type Keyring } from '../crypto/keyring.ts';
import { connect, type Db } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { loadRegisterFile, type Register } from '../register/load-register.ts';
import { formatReport } from '../register/problems.ts';

export interface DataOptions {
  data: string;
  databaseUrl?: string;
  /** The privacy register: checked before the command touches data; its fingerprint goes on audit events. */
  register?: string;
  /** Where signed audit checkpoints are witnessed: a file (default `<data>/audit-witness.jsonl`), and a URL. */
  auditWitness?: string;
  auditWitnessUrl?: string;
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
    .addOption(new Option('--database-url <url>', 'PostgreSQL connection string').env('DATABASE_URL'))
    .addOption(
      new Option('--audit-witness <file>', 'append-only file of signed audit checkpoints, outside the database (default: <data>/audit-witness.jsonl)').env(
        'CUSTODIAN_AUDIT_WITNESS',
      ),
    )
    .addOption(new Option('--audit-witness-url <url>', 'also send each signed audit checkpoint to this https endpoint').env('CUSTODIAN_AUDIT_WITNESS_URL'));
}

/** The witness of the audit trail's checkpoints, as configured. */
export function openWitness(opts: DataOptions): Witness {
  const file = new FileWitness(resolve(opts.auditWitness ?? join(opts.data, 'audit-witness.jsonl')));
  return opts.auditWitnessUrl ? new HttpWitness(opts.auditWitnessUrl, file) : file;
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

/** The command being run, as the embedded folder's lock names it to anyone else (`custodian user add`). */
function commandName(): string {
  const args = process.argv.slice(2);
  const firstOption = args.findIndex((a) => a.startsWith('-'));
  return ['custodian', ...args.slice(0, firstOption < 0 ? args.length : firstOption).slice(0, 2)].join(' ');
}

/** Connects and applies pending migrations; says which migrations ran. */
export async function openMigratedDb(opts: DataOptions, log: Out): Promise<Db> {
  const db = await connect({ url: opts.databaseUrl, dataDir: opts.data, lockAs: commandName() });
  try {
    const applied = await migrate(db);
    if (applied.length > 0) log(`applied ${applied.length} migration${applied.length === 1 ? '' : 's'}: ${applied.join(', ')}`);
  } catch (e) {
    await db.close();
    throw e;
  }
  return db;
}

export interface KeySettings {
  /** On a fresh embedded database, make the master key file (with a loud instruction to back it up). */
  readonly create: boolean;
  /** Refuse when a data key in the database is wrapped by a master key not held (a server about to write). */
  readonly requireAll: boolean;
  readonly log: Out;
}

/**
 * The master keys for a command: CUSTODIAN_MASTER_KEY, or `<data>/master.key`, checked against what the database
 * already holds. A key is only ever made for a database that holds nothing a key protects: with data keys or a
 * signed audit trail present, a missing key is refused by name and place, never silently replaced (a new key would
 * open no sealed value and verify no audit head).
 */
export async function openKeyring(db: Db, opts: DataOptions, settings: KeySettings): Promise<Keyring> {
  const used = await masterKeysInUse(db.kysely);
  const guarded = used.length > 0 || (await auditTrailExists(db));
  const expected = opts.databaseUrl ? MASTER_KEY_ENV : `${MASTER_KEY_ENV} or the key file ${keyFilePath(opts.data)}`;
  let loaded: ReturnType<typeof loadKeyring>;
  try {
    loaded = loadKeyring({ env: process.env, dataDir: opts.data, createIfMissing: settings.create && !opts.databaseUrl && !guarded, log: settings.log });
  } catch (e) {
    if (!(e instanceof CustodianError) || e.code !== 'master_key_missing' || !guarded) throw e;
    const what = used.length > 0 ? `data sealed under master key ${used.join(', ')}` : 'an audit trail signed with a master key';
    throw new CustodianError(
      'master_key_missing',
      `the database (${db.location}) holds ${what}, but no key was found in ${expected}: restore it from your key backup. A new key is not made: it could open none of that data.`,
    );
  }
  if (loaded.created) settings.log(backupWarning(keyFilePath(opts.data)));
  const missing = used.filter((id) => !loaded.keyring.ids().includes(id));
  if (settings.requireAll && missing.length > 0) {
    throw new CustodianError(
      'master_key_unknown',
      `the database (${db.location}) holds data keys wrapped by master key ${missing.join(', ')}, which ${describeKeySource(loaded.keyring.source)} does not hold (it has ${loaded.keyring.ids().join(', ')}): restore ${missing.length === 1 ? 'it' : 'them'} from your key backup (expected in ${expected})`,
    );
  }
  return loaded.keyring;
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
  const db = await openMigratedDb(opts, settings.log);
  try {
    const keyring = await openKeyring(db, opts, { create: settings.createKey, requireAll: false, log: settings.keyLog ?? settings.log });
    return await fn(createAppContext({ db, register, clock: systemClock, keyring, log: lineLogger(settings.log), witness: openWitness(opts) }));
  } finally {
    await db.close();
  }
}
