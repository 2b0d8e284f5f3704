// `custodian` command line. One file per command; this one only assembles them.
import { Command } from 'commander';
import { auditCommand } from './audit.ts';
import { checkCommand } from './check.ts';
import { diagramCommand } from './diagram.ts';
import { diffCommand } from './diff.ts';
import { keysCommand } from './keys.ts';
import { migrateCommand } from './migrate.ts';
import { noticeCommand } from './notice.ts';
import { ropaCommand } from './ropa.ts';
import { serveCommand } from './serve.ts';
import { userCommand } from './user.ts';

const program = new Command('custodian')
  .description('Custodian: run a privacy register as software')
  .showHelpAfterError()
  .addCommand(auditCommand)
  .addCommand(checkCommand)
  .addCommand(diagramCommand)
  .addCommand(diffCommand)
  .addCommand(keysCommand)
  .addCommand(migrateCommand)
  .addCommand(noticeCommand)
  .addCommand(ropaCommand)
  .addCommand(serveCommand)
  .addCommand(userCommand);

program.parseAsync(process.argv).catch((e: unknown) => {
  const err = e as { code?: string; message?: string };
  process.stderr.write(`custodian: ${err.code ? `[${err.code}] ` : ''}${err.message ?? String(e)}\n`);
  process.exitCode = 1;
});
