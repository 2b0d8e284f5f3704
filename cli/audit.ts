// `custodian audit verify | checkpoint | key | log`: prove the audit trail is intact and complete, file a signed
// checkpoint of it, publish the key checkpoints are signed with, and read it, from the command line.
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { AUDIT_ACTIONS, type AuditAction } from '../audit/actions.ts';
import { queryAuditLog } from '../audit/query-audit-log.ts';
import { verifyTrail } from '../audit/verify-trail.ts';
import { parseLines } from '../audit/witness.ts';
import { reconcileConsentLedger } from '../consent/reconcile-ledger.ts';
import { reconcileRecords } from '../subjects/reconcile-records.ts';
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
  new Command('verify').description(
    'Recompute every audit hash chain against its signed head, and hold the database to what the witness saw; exit 1 naming the first fault',
  ),
)
  .addOption(new Option('--partition <partition>', 'verify one partition only (YYYY-MM/NN)'))
  .addOption(new Option('--checkpoint <file>', 'hold the database to checkpoints filed away earlier (`custodian audit checkpoint`) instead of the witness'))
  .action(async (opts: VerifyOptions & { checkpoint?: string }) => {
    // Every master key held (active first), from CUSTODIAN_MASTER_KEY or `<data>/master.key`: heads signed before a
    // master-key rotation must still verify.
    await withContext(opts, { createKey: false, log: toStderr, keyLog: () => {} }, async (ctx) => {
      const started = performance.now();
      const filed = opts.checkpoint ? { where: opts.checkpoint, entries: parseLines(readFileSync(opts.checkpoint, 'utf8')).entries } : undefined;
      const verdict = await verifyTrail(ctx.db, ctx.auditor, {
        ...(opts.partition ? { partition: opts.partition } : {}),
        ...(filed ? { filed } : {}),
        vouchesFor: async () => [...(await reconcileRecords(ctx.db)), ...(await reconcileConsentLedger(ctx.db))],
      });
      const seconds = (performance.now() - started) / 1000;
      const { chains } = verdict;
      const bad = chains.firstBad;
      if (bad) {
        process.stderr.write(`audit chain broken at partition ${bad.partition}, event #${bad.seq} (${bad.id ?? 'no event'}): ${bad.reason}\n`);
        process.exitCode = 1;
        return;
      }
      if (verdict.shortfalls.length > 0) {
        process.stderr.write(
          `audit trail incomplete, held to ${verdict.against?.where ?? 'the data it vouches for'}:\n${verdict.shortfalls.map((p) => `  ${p}`).join('\n')}\n`,
        );
        process.exitCode = 1;
        return;
      }
      if (opts.partition && chains.partitions === 0) {
        process.stderr.write(`no audit partition named ${opts.partition} (partitions look like 2025-03/07)\n`);
        process.exitCode = 1;
        return;
      }
      const rate = seconds > 0 ? Math.round(chains.events / seconds) : chains.events;
      process.stdout.write(
        `audit chain intact: ${chains.events} events in ${chains.partitions} partition${chains.partitions === 1 ? '' : 's'} (${rate} events/s)\n`,
      );
      const held = verdict.against;
      if (held?.state.latest) {
        process.stdout.write(`complete as of checkpoint #${held.state.latest.seq} (${held.state.latest.at}) in ${held.where}\n`);
      } else if (!opts.partition) {
        process.stdout.write(`no witnessed checkpoint yet: completeness is proven from the next one on (${held?.where ?? 'no witness configured'})\n`);
      }
      if (verdict.checkpoint) process.stdout.write(`checkpoint #${verdict.checkpoint} signed and witnessed\n`);
      if (held && held.state.unknownKey > 0) process.stdout.write(`(${held.state.unknownKey} older checkpoint(s) signed with keys not held were not used)\n`);
    });
  });

const checkpointCommand = withDataOptions(
  new Command('checkpoint').description('Sign a checkpoint of the whole audit trail now, witness it, and print it (file it away to verify against later)'),
).action(async (opts: DataOptions) => {
  await withContext(opts, { createKey: false, log: toStderr, keyLog: () => {} }, async (ctx) => {
    const made = await ctx.auditor.checkpoint(ctx.db.kysely, { full: true, always: true });
    process.stdout.write(`${JSON.stringify(made!.signed)}\n`);
  });
});

const keyCommand = withDataOptions(
  new Command('key').description('Print the public keys audit checkpoints are signed with (as published at /.well-known/custodian-audit-key)'),
).action(async (opts: DataOptions) => {
  await withContext(opts, { createKey: false, log: toStderr, keyLog: () => {} }, async (ctx) => {
    process.stdout.write(`${JSON.stringify({ keys: ctx.auditor.publishedKeys() }, null, 2)}\n`);
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

export const auditCommand = new Command('audit')
  .description('Verify, checkpoint and read the tamper-evident audit trail')
  .addCommand(verifyCommand)
  .addCommand(checkpointCommand)
  .addCommand(keyCommand)
  .addCommand(logCommand);
