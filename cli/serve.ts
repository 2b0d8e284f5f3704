import { isIP } from 'node:net';
import { Command, InvalidArgumentError, Option } from 'commander';
import { createAppContext, type AppContext } from '../app/app-context.ts';
import { systemClock } from '../core/clock.ts';
import { isDuration, isZeroDuration } from '../core/duration.ts';
import { CustodianError } from '../core/errors.ts';
import { lineLogger } from '../core/logger.ts';
import { describeKeySource } from '../crypto/keyring.ts';
import type { Db } from '../db/connect.ts';
import type { Register } from '../register/load-register.ts';
import { recordServedVersion } from '../register/notice-versions-store.ts';
import { loadRegisterOrExit, openKeyring, openMigratedDb, openWitness, toStdout, withDataOptions, type DataOptions } from './cli-context.ts';

interface ServeOptions extends DataOptions {
  register: string;
  port: number;
  host: string;
  https: boolean;
  publicUrl?: string;
  trustProxy?: string[];
  logLevel: string;
  jobs: boolean;
  smtpUrl?: string;
  mailFrom?: string;
  mailRetention: string;
}

/** `10.0.0.5,10.1.0.0/16,::1`: each an IP address or a CIDR range. */
function proxies(value: string): string[] {
  const list = value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  for (const p of list) {
    const [address = '', bits, ...rest] = p.split('/');
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    if (!family || rest.length > 0 || (bits !== undefined && !(/^\d{1,3}$/.test(bits) && Number(bits) <= max))) {
      throw new InvalidArgumentError(`"${p}" is not an IP address or a CIDR range (like 10.0.0.0/8)`);
    }
  }
  return list;
}

function retention(value: string): string {
  if (!isDuration(value) || isZeroDuration(value)) throw new InvalidArgumentError('use an ISO 8601 duration such as P30D');
  return value;
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('use a port number from 0 to 65535');
  return n;
}

/**
 * The composition root's one app context: everything the server does shares it. Refuses to start on keys that do
 * not fit the data (cli-context.ts openKeyring), and on an audit trail whose latest head no held key verifies.
 */
async function startContext(db: Db, opts: ServeOptions, register: Register): Promise<AppContext> {
  const keyring = await openKeyring(db, opts, { create: true, requireAll: true, log: toStdout });
  const ctx = createAppContext({
    db,
    register,
    clock: systemClock,
    keyring,
    log: lineLogger(toStdout),
    witness: openWitness(opts),
    smtp: opts.smtpUrl ? { url: opts.smtpUrl, ...(opts.mailFrom ? { from: opts.mailFrom } : {}) } : null,
    mailRetention: opts.mailRetention,
  });
  if (!(await ctx.auditor.holdsTrailKey(db.kysely))) {
    throw new CustodianError(
      'master_key_unknown',
      `the audit trail in ${db.location} was signed with a master key that ${describeKeySource(keyring.source)} does not hold: restore that key from your key backup (or run \`custodian audit verify\` if the trail may have been tampered with)`,
    );
  }
  // The trail must reach every point the witness saw: a database restored from an older copy, or with a partition
  // deleted, is not served on (its next appends would build on a rolled-back chain).
  const short = await ctx.auditor.shortfalls(db.kysely);
  if (short.length > 0) {
    throw new CustodianError(
      'audit_chain_broken',
      `the audit trail in ${db.location} falls short of what ${ctx.auditor.witness!.where} saw: ${short.join('; ')}. Run \`custodian audit verify\`. If the database was restored from a backup on purpose, the events after that backup are lost from the trail: keep the witness file as the record of it, move it aside, and start again.`,
    );
  }
  return ctx;
}

export const serveCommand = withDataOptions(new Command('serve').description('Run the Custodian service for a privacy register'), 'required')
  .addOption(new Option('--port <n>', 'port to listen on').env('PORT').default(3000).argParser(port))
  .addOption(new Option('--host <address>', 'address to listen on').env('HOST').default('127.0.0.1'))
  .addOption(new Option('--https', 'served over https (by a proxy in front): HSTS and Secure cookies').env('CUSTODIAN_HTTPS').default(false))
  .addOption(
    new Option('--public-url <url>', 'the address people reach this server at, for links in mail (default: http://HOST:PORT)')
      .env('CUSTODIAN_PUBLIC_URL')
      .argParser(publicUrl),
  )
  .addOption(
    new Option('--trust-proxy <addresses>', 'proxies whose X-Forwarded-For is believed: comma-separated addresses or CIDR ranges (none by default)')
      .env('CUSTODIAN_TRUST_PROXY')
      .argParser(proxies),
  )
  .addOption(new Option('--log-level <level>', 'log level').env('LOG_LEVEL').choices(['fatal', 'error', 'warn', 'info', 'debug']).default('info'))
  .addOption(new Option('--no-jobs', 'do not run background jobs in this process (another process runs them)'))
  // No argParser for the URL: commander would print a refused value, password and all; the mailer refuses it by code.
  .addOption(
    new Option(
      '--smtp-url <url>',
      'SMTP server for outgoing mail: smtp://user:pass@host:587 (STARTTLS required), smtps://…:465, or ?tls=off for a local relay; none: mail is held in the console outbox',
    ).env('CUSTODIAN_SMTP_URL'),
  )
  .addOption(
    new Option('--mail-from <address>', "From address of outgoing mail (default: the register's controller email, else its DPO's)").env('CUSTODIAN_MAIL_FROM'),
  )
  .addOption(
    new Option('--mail-retention <duration>', 'how long the content of sent mail is kept (ISO 8601 duration)')
      .env('CUSTODIAN_MAIL_RETENTION')
      .default('P30D')
      .argParser(retention),
  )
  .action(async (opts: ServeOptions) => {
    const out = toStdout;
    const { register, source } = loadRegisterOrExit(opts.register);
    const db = await openMigratedDb(opts, out);
    const ctx = await startContext(db, opts, register).catch(async (e: unknown) => {
      await db.close();
      throw e;
    });
    const { isNew } = await recordServedVersion(db, ctx.auditor, register, source, ctx.clock.now());
    if (isNew) out(`register ${register.fingerprint.slice(0, 12)} is a new notice version`);

    if (!opts.databaseUrl) {
      // First embedded start: an owner account with a one-time password, printed this once only.
      const { ensureFirstOwner } = await import('../staff/users-service.ts');
      const owner = await ensureFirstOwner(ctx, process.env.CUSTODIAN_OWNER_EMAIL);
      if (owner) {
        out(
          [
            '',
            '='.repeat(72),
            `  First start: staff owner account created`,
            `    email:              ${owner.email}`,
            `    one-time password:  ${owner.oneTimePassword}`,
            '  Sign in at /console and choose a new password. This is shown only once.',
            '='.repeat(72),
            '',
          ].join('\n'),
        );
      }
    }

    // Loaded here, not at the top, so commands that do not serve (check, notice...) start fast.
    const { buildApp } = await import('../http/app.ts');
    const publicUrl = opts.publicUrl ?? `http://${opts.host === '0.0.0.0' || opts.host === '::' ? 'localhost' : opts.host}:${opts.port}`;
    const app = await buildApp(ctx, {
      logLevel: opts.logLevel,
      https: opts.https,
      publicUrl,
      ...(opts.trustProxy ? { trustProxy: opts.trustProxy } : {}),
    });
    const address = await app.listen({ port: opts.port, host: opts.host });
    out(
      `Custodian is serving ${register.controller.name} at ${address} (privacy notice: ${address}/privacy; console: ${address}/console; database: ${db.engine}, ${db.location})`,
    );
    out(ctx.mailer.describe());

    let jobs: { stop(): Promise<void> } | undefined;
    if (opts.jobs) {
      // Started after listening: the service answers at once while the job queue sets itself up.
      const { startJobs } = await import('../jobs/start-jobs.ts');
      startJobs(ctx, { publicUrl }).then(
        (j) => {
          jobs = j;
        },
        (e: unknown) => out(`background jobs could not start: ${(e as Error).message}`),
      );
    }

    let closing = false;
    const shutdown = async (signal: string) => {
      if (closing) return;
      closing = true;
      out(`${signal}: finishing open requests and stopping`);
      await app.close();
      // A last checkpoint, so that what this server wrote is witnessed before it goes.
      await ctx.auditor.checkpoint(db.kysely).catch((e: unknown) => out(`audit checkpoint at shutdown failed: ${(e as Error).message}`));
      await jobs?.stop().catch(() => {});
      await ctx.mailer.close();
      await db.close();
      process.exit(0);
    };
    process.on('SIGINT', () => void shutdown('SIGINT'));
    process.on('SIGTERM', () => void shutdown('SIGTERM'));
  });

function publicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('give a full address such as https://privacy.example.com');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new InvalidArgumentError('the public address must be http or https');
  if (url.search || url.hash || url.username) throw new InvalidArgumentError('the public address has no query, fragment or user');
  return url.href.replace(/\/$/, '');
}
