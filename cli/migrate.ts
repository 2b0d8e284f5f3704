import { Command } from 'commander';
import { toStdout, withDataOptions, withDb, type DataOptions } from './cli-context.ts';

export const migrateCommand = withDataOptions(
  new Command('migrate').description('Apply pending database migrations (the service also does this at start)'),
).action(async (opts: DataOptions) => {
  await withDb(opts, toStdout, async (db) => {
    process.stdout.write(`database is up to date (${db.engine}, ${db.location})\n`);
  });
});
