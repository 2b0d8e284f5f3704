// `custodian audit verify | log`: prove the audit trail is intact, and read it, from the command line.
import { Command, InvalidArgumentError, Option } from 'commander';
import { AUDIT_ACTIONS, type AuditAction } from '../audit/actions.ts';
import { queryAuditLog } from '../audit/query-audit-log.ts';
import { toStderr, withContext, withDataOptions, withDb, type DataOptions } from './cli-context.ts';

interface VerifyOptions extends DataOptions {
  partition?: string;
}

interface LogOptions extends DataOptions {
  subject?: string;
  actor?: string;
  action?: AuditAction;
  limit: number;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('use a whole number of 1 or more');
  return n;
}

const verifyCommand = withDataOptions(
  new Command('verify').description('Recompute every audit hash chain and check it against its signed head; exit 1 and name the first bad event if not intact'),
)
  .addOption(new Option('--partition <partition>', 'verify one partition only (YYYY-MM/NN)'))
  .action(async (opts: VerifyOptions) => {
    // Every master key held (active first), from CUSTODIAN_MASTER_KEY or `<data>/master.key`: heads signed before a
    // master-key rotation must still verify.
    await withContext(opts, { createKey: false, log: toStderr, keyLog: () => {} }, async (ctx) => {
      const started = performance.now();
      const result = await ctx.auditor.verify(ctx.db, opts.partition ? { partition: opts.partition } : {});
      const seconds = (performance.now() - started) / 1000;
      const bad = result.firstBad;
      if (bad) {
        process.stderr.write(`audit chain broken at partition ${bad.partition}, event #${bad.seq} (${bad.id ?? 'no event'}): ${bad.reason}\n`);
        process.exitCode = 1;
        return;
      }
      if (opts.partition && result.partitions === 0) {
        process.stderr.write(`no audit partition named ${opts.partition} (partitions look like 2025-03/07)\n`);
        process.exitCode = 1;
        return;
      }
      const rate = seconds > 0 ? Math.round(result.events / seconds) : result.events;
      process.stdout.write(
        `audit chain intact: ${result.events} events in ${result.partitions} partition${result.partitions === 1 ? '' : 's'} (${rate} events/s)\n`,
      );
    });
  });

const logCommand = withDataOptions(new Command('log').description('Print audit events, newest first, as JSON lines'))
  .addOption(new Option('--subject <id>', 'only events about this subject id'))
  .addOption(new Option('--actor <actor>', 'only events by this actor (e.g. staff:<id>)'))
  .addOption(new Option('--action <action>', 'only this action').choices(AUDIT_ACTIONS))
  .addOption(new Option('--limit <n>', 'at most this many events').default(50).argParser(positiveInt))
  .action(async (opts: LogOptions) => {
    await withDb(opts, toStderr, async (db) => {
      let remaining = opts.limit;
      let before: string | undefined;
      while (remaining > 0) {
        const page = await queryAuditLog(db, {
          limit: Math.min(remaining, 1000),
          ...(opts.subject ? { subjectId: opts.subject } : {}),
          ...(opts.actor ? { actor: opts.actor } : {}),
          ...(opts.action ? { action: opts.action } : {}),
          ...(before ? { before } : {}),
        });
        for (const e of page.events) process.stdout.write(`${JSON.stringify(e)}\n`);
        remaining -= page.events.length;
        if (!page.next) break;
        before = page.next;
      }
    });
  });

export const auditCommand = new Command('audit').description('Verify and read the tamper-evident audit trail').addCommand(verifyCommand).addCommand(logCommand);
