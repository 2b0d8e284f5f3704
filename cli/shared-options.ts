// Options every data-touching command shares, and the steps they all take to reach a migrated database.
import { Option, type Command } from 'commander';
import { connect, type Db } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { loadRegisterFile, type Register } from '../register/load-register.ts';
import { formatReport } from '../register/problems.ts';

export interface DataOptions {
  data: string;
  databaseUrl?: string;
}

export function withDataOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--data <dir>', 'folder of the embedded database (ignored when DATABASE_URL is set)').env('CUSTODIAN_DATA').default('./data'))
    .addOption(new Option('--database-url <url>', 'PostgreSQL connection string').env('DATABASE_URL'));
}

export function withRegisterOption(cmd: Command, required = true): Command {
  const opt = new Option('--register <file>', 'privacy register YAML').env('CUSTODIAN_REGISTER');
  if (required) opt.makeOptionMandatory();
  return cmd.addOption(opt);
}

/** Connects and applies pending migrations; prints which migrations ran. */
export async function openMigratedDb(opts: DataOptions, log: (line: string) => void = () => {}): Promise<Db> {
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
