import { Command, Option } from 'commander';
import { CustodianError } from '../core/errors.ts';
import { grantToService } from '../db/roles.ts';
import { toStdout, withDataOptions, withDb, type DataOptions } from './cli-context.ts';

export const migrateCommand = withDataOptions(
  new Command('migrate').description('Apply pending database migrations (the service also does this at start, when its role may)'),
)
  .addOption(new Option('--grant-to <role>', 'PostgreSQL: then grant the least-privilege service role what it needs (see `custodian db roles`)'))
  .action(async (opts: DataOptions & { grantTo?: string }) => {
    await withDb(opts, toStdout, async (db) => {
      if (opts.grantTo) {
        if (db.engine !== 'postgres') throw new CustodianError('bad_request', '--grant-to is for PostgreSQL; the embedded database has no roles');
        await grantToService(db, opts.grantTo);
        process.stdout.write(`granted ${opts.grantTo} what the service needs (the audit trail: read and add only)\n`);
      }
      process.stdout.write(`database is up to date (${db.engine}, ${db.location})\n`);
    });
  });
