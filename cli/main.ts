// `custodian` command line. One file per command; this one only assembles them.
import { Command } from 'commander';
import { checkCommand } from './check.ts';
import { migrateCommand } from './migrate.ts';
import { serveCommand } from './serve.ts';

const program = new Command('custodian')
  .description('Custodian: run a privacy register as software')
  .showHelpAfterError()
  .addCommand(checkCommand)
  .addCommand(migrateCommand)
  .addCommand(serveCommand);

program.parseAsync(process.argv).catch((e: unknown) => {
  const err = e as { code?: string; message?: string };
  process.stderr.write(`custodian: ${err.code ? `[${err.code}] ` : ''}${err.message ?? String(e)}\n`);
  process.exitCode = 1;
});
