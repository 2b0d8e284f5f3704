// `custodian` command line. One file per command; this one only assembles them. Only the command being run is
// loaded (a register check must not pay for the web server's start-up); `custodian --help` loads them all.
import { enableCompileCache } from 'node:module';
import type { Command } from 'commander';
import { Command as Program } from 'commander';

// Caches compiled (and type-stripped) modules on disk: repeated runs such as `custodian check` start faster.
enableCompileCache();

const COMMANDS: Record<string, () => Promise<Command>> = {
  audit: async () => (await import('./audit.ts')).auditCommand,
  check: async () => (await import('./check.ts')).checkCommand,
  db: async () => (await import('./db.ts')).dbCommand,
  diagram: async () => (await import('./diagram.ts')).diagramCommand,
  diff: async () => (await import('./diff.ts')).diffCommand,
  keys: async () => (await import('./keys.ts')).keysCommand,
  migrate: async () => (await import('./migrate.ts')).migrateCommand,
  notice: async () => (await import('./notice.ts')).noticeCommand,
  ropa: async () => (await import('./ropa.ts')).ropaCommand,
  requests: async () => (await import('./requests.ts')).requestsCommand,
  serve: async () => (await import('./serve.ts')).serveCommand,
  user: async () => (await import('./user.ts')).userCommand,
};

const program = new Program('custodian').description('Custodian: run a privacy register as software').showHelpAfterError();
const requested = process.argv[2];
const names = requested && requested in COMMANDS ? [requested] : Object.keys(COMMANDS);
for (const name of names) program.addCommand(await COMMANDS[name]!());

program.parseAsync(process.argv).catch((e: unknown) => {
  const err = e as { code?: string; message?: string };
  process.stderr.write(`custodian: ${err.code ? `[${err.code}] ` : ''}${err.message ?? String(e)}\n`);
  process.exitCode = 1;
});
