import { Command } from 'commander';
import { openMigratedDb, withDataOptions, type DataOptions } from './shared-options.ts';

export const migrateCommand = withDataOptions(
  new Command('migrate').description('Apply pending database migrations (the service also does this at start)'),
).action(async (opts: DataOptions) => {
  const db = await openMigratedDb(opts, (line) => process.stdout.write(`${line}\n`));
  process.stdout.write(`database is up to date (${db.engine}, ${db.location})\n`);
  await db.close();
});
