import { Command, InvalidArgumentError, Option } from 'commander';
import { systemClock } from '../core/clock.ts';
import { recordServedVersion } from '../register/register-versions.ts';
import { loadRegisterOrExit, openMigratedDb, withDataOptions, withRegisterOption, type DataOptions } from './shared-options.ts';

interface ServeOptions extends DataOptions {
  register: string;
  port: number;
  host: string;
  https: boolean;
  logLevel: string;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('use a port number from 0 to 65535');
  return n;
}

export const serveCommand = withDataOptions(
  withRegisterOption(new Command('serve').description('Run the Custodian service for a privacy register')),
)
  .addOption(new Option('--port <n>', 'port to listen on').env('PORT').default(3000).argParser(port))
  .addOption(new Option('--host <address>', 'address to listen on').env('HOST').default('127.0.0.1'))
  .addOption(new Option('--https', 'running behind an https proxy: HSTS, Secure cookies, trust X-Forwarded-*').env('CUSTODIAN_HTTPS').default(false))
  .addOption(new Option('--log-level <level>', 'log level').env('LOG_LEVEL').choices(['fatal', 'error', 'warn', 'info', 'debug']).default('info'))
  .action(async (opts: ServeOptions) => {
    const out = (line: string) => process.stdout.write(`${line}\n`);
    const { register, source } = loadRegisterOrExit(opts.register);
    const db = await openMigratedDb(opts, out);
    const { isNew } = await recordServedVersion(db, register, source, systemClock);
    if (isNew) out(`register ${register.fingerprint.slice(0, 12)} is a new notice version`);
    // Loaded here, not at the top, so commands that do not serve (check, notice...) start fast.
    const { buildApp } = await import('../http/app.ts');
    const app = await buildApp({ db, register, clock: systemClock, logLevel: opts.logLevel, https: opts.https });
    const address = await app.listen({ port: opts.port, host: opts.host });
    out(`Custodian is serving ${register.controller.name} at ${address} (privacy notice: ${address}/privacy; database: ${db.engine}, ${db.location})`);

    let closing = false;
    const shutdown = async (signal: string) => {
      if (closing) return;
      closing = true;
      out(`${signal}: finishing open requests and stopping`);
      await app.close();
      await db.close();
      process.exit(0);
    };
    process.on('SIGINT', () => void shutdown('SIGINT'));
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
  });
