// Options every data-touching command shares, and the steps they all take to reach a migrated database.
import { Option, type Command } from 'commander';
import type { Transaction } from 'kysely';
import { appendAuditEvent, type AuditInput } from '../audit/append-audit-event.ts';
import { checkpointKeysOf } from '../audit/checkpoint.ts';
import type { Clock } from '../core/clock.ts';
import { keyFilePath } from '../crypto/key-file.ts';
import { backupWarning, loadKeyring, type Keyring } from '../crypto/keyring.ts';
import type { Tables } from '../db/tables.ts';
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

/**
 * Every command that touches data takes `--data DIR` (or DATABASE_URL) and `--register FILE`; the register is
 * required where the command needs it (serve) and otherwise checked when given.
 */
export function withDataOptions(cmd: Command, register: 'required' | 'optional' = 'optional'): Command {
  const registerOption = new Option('--register <file>', register === 'required' ? 'privacy register YAML' : 'privacy register YAML (checked first; its fingerprint is recorded on audit events)').env('CUSTODIAN_REGISTER');
  if (register === 'required') registerOption.makeOptionMandatory();
  return cmd
    .addOption(registerOption)
    .addOption(new Option('--data <dir>', 'folder of the embedded database (ignored when DATABASE_URL is set)').env('CUSTODIAN_DATA').default('./data'))
    .addOption(new Option('--database-url <url>', 'PostgreSQL connection string').env('DATABASE_URL'));
}

/** The fingerprint of the register named by --register, after checking it (exit 1 with the report if invalid). */
export function registerFingerprint(opts: DataOptions): string | null {
  return opts.register ? loadRegisterOrExit(opts.register).register.fingerprint : null;
}

/** Connects and applies pending migrations; prints which migrations ran. */
export async function openMigratedDb(opts: DataOptions, log: (line: string) => void = () => {}): Promise<Db> {
  registerFingerprint(opts);
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

/** Loads a register or prints the check report and exits 1, as `custodian check` would. */
export function loadRegisterOrExit(file: string): { register: Register; source: string } {
  const result = loadRegisterFile(file);
  if (!result.ok) {
    process.stderr.write(`${formatReport(file, result.problems)}\n`);
    process.exit(1);
  }
  return result;
}

/**
 * The master keys for a command: CUSTODIAN_MASTER_KEY, or `<data>/master.key`. On the embedded database the key
 * file is made on first use, with a loud instruction to back it up (separately from the data).
 */
export function openKeyring(opts: DataOptions, out: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Keyring {
  const { keyring, created } = loadKeyring({ env: process.env, dataDir: opts.data, createIfMissing: !opts.databaseUrl, log: out });
  if (created) out(backupWarning(keyFilePath(opts.data)));
  return keyring;
}

/** An audit writer bound to the keyring, for commands that change personal data or accounts. */
export function auditWriter(keyring: Keyring, clock: Clock, fingerprint: string | null = null) {
  return async (trx: Transaction<Tables>, input: AuditInput): Promise<void> => {
    await appendAuditEvent(trx, input, { clock, fingerprint, checkpointKey: checkpointKeysOf(keyring) });
  };
}
