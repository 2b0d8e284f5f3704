// `custodian keys status|rotate|shred`: which master keys wrap the subject data keys, master key rotation, and
// crypto-shredding one person.
import { Command, InvalidArgumentError, Option } from 'commander';
import { keyStatus } from '../crypto/key-status.ts';
import { KEYRING_RECHECK_MS, MASTER_KEY_ENV } from '../crypto/keyring.ts';
import { rotateMasterKey } from '../crypto/rotate-master-key.ts';
import { shredSubject } from '../subjects/erase-subject.ts';
import { toStdout, withContext, withDataOptions, type DataOptions } from './cli-context.ts';

interface RotateOptions extends DataOptions {
  retireOld: boolean;
  rewrapOnly: boolean;
  batchSize: number;
  settleSeconds: number;
}

const out = toStdout;
const keysOnly = { createKey: false, log: out };

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('use a whole number from 1 to 10000');
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('use a number of seconds, 0 or more');
  return n;
}

const ROTATE_HELP = `
With a key file (<data>/master.key, the embedded default):
  A new master key is added to the file and made active. The old keys stay in the file, so running servers can
  still unwrap; they switch to the new key within ${KEYRING_RECHECK_MS / 1000} s, without a restart. Every subject data key is
  then re-wrapped under the new key, a batch per transaction, skipping rows a request holds, so the service keeps
  running and writing. Sealed values are not touched (their data keys do not change).
  --retire-old then waits ${(2 * KEYRING_RECHECK_MS) / 1000} s, sweeps again and removes the old keys that no data key uses.
  Back up master.key again afterwards: it holds a new key. Never keep it in the same backup as the database.
  With PostgreSQL the service can keep running. The embedded database opens in one process only: stop the
  service first.

With ${MASTER_KEY_ENV} (production): this command cannot change your servers' environment, so it never
makes a key (a key only it knew would leave running servers unable to unwrap). Rotate in four steps:
  1. make a key:                   openssl rand -base64 32
  2. on every server, put it FIRST: ${MASTER_KEY_ENV}="k2:<new base64>,<old id>:<old base64>", restart
     (<old id> is what \`custodian keys status\` shows as active now, e.g. env-1a2b3c4d for a bare key)
  3. run, with that same value:    custodian keys rotate      (re-wraps every data key under k2)
  4. when \`custodian keys status\` shows nothing under the old id, remove it from the list.

If a rotation was interrupted, --rewrap-only finishes it without adding another key.`;

const rotateCommand = withDataOptions(
  new Command('rotate').description('Rotate the master key: add a new active key and re-wrap every subject data key under it'),
)
  .addOption(new Option('--retire-old', 'afterwards, remove older keys that no data key uses any more (key file only)').default(false))
  .addOption(new Option('--rewrap-only', 'do not add a key: re-wrap data keys still under older keys (finishes a rotation)').default(false))
  .addOption(new Option('--batch-size <n>', 'data keys re-wrapped per transaction').default(500).argParser(positiveInt))
  .addOption(
    new Option('--settle-seconds <s>', 'wait before retiring old keys')
      .default((2 * KEYRING_RECHECK_MS) / 1000)
      .argParser(seconds)
      .hideHelp(),
  )
  .addHelpText('after', ROTATE_HELP)
  .action(async (opts: RotateOptions) => {
    await withContext(opts, keysOnly, async (ctx) => {
      const keyring = ctx.keyring;
      const fromEnv = keyring.source.kind === 'env';
      let shown = 0;
      const result = await rotateMasterKey(ctx, {
        addKey: !fromEnv && !opts.rewrapOnly,
        retireOld: opts.retireOld,
        batchSize: opts.batchSize,
        settleMs: opts.settleSeconds * 1000,
        log: out,
        onProgress: (n) => {
          if (n - shown >= 10 * opts.batchSize) out(`  re-wrapped ${(shown = n)} data keys so far`);
        },
      });
      out(`re-wrapped ${result.rewrapped} subject data key${result.rewrapped === 1 ? '' : 's'} under master key ${result.activeKeyId}`);
      if (result.remaining > 0) {
        out(`${result.remaining} data keys are still under older master keys (their rows stayed locked): run \`custodian keys rotate --rewrap-only\` again`);
        process.exitCode = 1;
      }
      for (const s of result.stranded) {
        out(
          `${s.count} data keys are wrapped by master key ${s.masterKeyId}, which is not configured: those subjects' sealed values cannot be opened until it is restored from your key backup`,
        );
        process.exitCode = 1;
      }
      if (result.retired.length > 0) out(`retired master keys no data key uses: ${result.retired.join(', ')}`);
      if (result.unused.length > 0) {
        out(`older master keys no data key uses: ${result.unused.join(', ')}`);
        out(fromEnv ? `  remove them from ${MASTER_KEY_ENV} on every server` : '  run again with --retire-old to remove them from the key file');
      }
      if (result.addedKeyId && keyring.source.kind === 'file') {
        out(`BACK UP ${keyring.source.path} AGAIN NOW: it holds the new key ${result.addedKeyId}, without which the re-wrapped data keys cannot be opened.`);
        out('Keep it out of the database backups.');
      }
      if (fromEnv && result.rewrapped === 0 && result.remaining === 0) {
        out(`every data key was already under the active key ${result.activeKeyId}. To rotate with ${MASTER_KEY_ENV}, see \`custodian keys rotate --help\`.`);
      }
    });
  });

interface ShredOptions extends DataOptions {
  subject: string;
  overrideRetention?: string;
}

const SHRED_HELP = `
Destroys the person's data key at once: their sealed values can no longer be opened, here or in any copy of the
database made from now on. Their sealed records are marked erased; the shred is in the audit trail. Plain (unsealed)
values are not touched: erasing those is a separate step.
Backups made before now still hold the data key, wrapped by the current master key. The erasure reaches them when
that master key is retired (\`custodian keys rotate --retire-old\`, or removing it from ${MASTER_KEY_ENV}); from then on
no sealed value in those older backups can be opened, anyone's, so time the rotation to your backup retention.`;

const shredCommand = withDataOptions(
  new Command('shred').description('Crypto-shred one person: destroy their data key so their sealed values can never be opened again'),
  'required',
)
  .requiredOption('--subject <id>', 'the subject id (from the console person page)')
  .option('--override-retention <reason>', 'shred even sealed records a retention rule still keeps; the reason goes into the audit trail')
  .addHelpText('after', SHRED_HELP)
  .action(async (opts: ShredOptions) => {
    await withContext(opts, keysOnly, async (ctx) => {
      const register = ctx.register!;
      const result = await shredSubject(
        { ...ctx, register },
        { subjectId: opts.subject, actor: 'system:cli', ...(opts.overrideRetention !== undefined ? { overrideRetention: opts.overrideRetention } : {}) },
      );
      if (!result.shredded) out(`subject ${opts.subject}: the data key was already destroyed; nothing changed`);
      else {
        out(`subject ${opts.subject}: data key destroyed; ${result.records} sealed record${result.records === 1 ? '' : 's'} can no longer be opened`);
        out('Backups made before now still hold this key until the current master key is retired: see `custodian keys shred --help`.');
      }
    });
  });

const statusCommand = withDataOptions(
  new Command('status').description('Show the active master key and how many subject data keys each master key wraps'),
).action(async (opts: DataOptions) => {
  await withContext(opts, keysOnly, async (ctx) => {
    const status = await keyStatus(ctx.db.kysely, ctx.keyring);
    out(`master keys from ${status.source}`);
    out(`  active: ${status.activeKeyId}   configured: ${status.knownKeyIds.join(', ')}`);
    out('subject data keys by master key:');
    if (status.byMasterKey.length === 0) out('  (none yet)');
    for (const k of status.byMasterKey) {
      out(
        `  ${k.masterKeyId.padEnd(24)} ${String(k.count).padStart(9)}${k.known ? '' : "   NOT CONFIGURED: these subjects' sealed values cannot be opened; restore the key"}`,
      );
    }
    out(`shredded (erased subjects): ${status.shredded}`);
    if (status.byMasterKey.some((k) => !k.known)) process.exitCode = 1;
  });
});

export const keysCommand = new Command('keys')
  .description('Master keys and subject data keys: status, rotation, shredding')
  .addCommand(statusCommand)
  .addCommand(rotateCommand)
  .addCommand(shredCommand);
