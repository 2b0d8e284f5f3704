// `custodian keys status|rotate|shred` end to end: a real process on an embedded database in a temporary data folder.
// (It sits in crypto/ rather than beside cli/keys.ts only because of who owns which folder today.)
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { systemClock } from '../core/clock.ts';
import { connect } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { insertTestSubjects } from '../test/helpers/insert-test-subjects.ts';
import { keyFilePath, readKeyFile } from './key-file.ts';
import { loadKeyring } from './keyring.ts';
import { openValue, sealValue } from './seal.ts';
import { keysOf } from '../test/helpers/test-keyring.ts';

const MAIN = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), 'custodian-keys-cli-'));
const IDT = new URL('../examples/image-diagnostic-technology/register.yaml', import.meta.url).pathname;
const sealed: { subjectId: string; recordId: string; sealed: Uint8Array; text: string }[] = [];

async function custodian(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  // Only what the command needs: a DATABASE_URL or master key from the test's own environment must not leak in.
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], { env: { ...base, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

before(async () => {
  // As a first embedded start would leave it: a key file, subjects, and values sealed under their keys.
  const db = await connect({ dataDir });
  await migrate(db);
  const { keyring, created } = loadKeyring({ env: {}, dataDir, createIfMissing: true });
  assert.equal(created, true);
  for (const subjectId of await insertTestSubjects(db, 25)) {
    const dek = await db.kysely.transaction().execute((trx) => keysOf(keyring).getOrCreate(trx, subjectId, systemClock.now()));
    const recordId = randomUUID();
    const text = `Befund ${subjectId.slice(0, 4)}: unauffällig`;
    sealed.push({ subjectId, recordId, text, sealed: sealValue(dek, text, recordId) });
  }
  await db.close();
});
after(() => rmSync(dataDir, { recursive: true, force: true }));

test('keys status, rotate, then rotate --retire-old: every value still opens, under the new key only', async () => {
  const status = await custodian(['keys', 'status', '--data', dataDir]);
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, /active: k1-\d{8}/);
  assert.match(status.stdout, /k1-\d{8}\s+25\n/);
  assert.match(status.stdout, /shredded \(erased subjects\): 0/);

  const rotate = await custodian(['keys', 'rotate', '--data', dataDir, '--batch-size', '7']);
  assert.equal(rotate.code, 0, rotate.stderr);
  assert.match(rotate.stdout, /re-wrapped 25 subject data keys under master key k2-\d{8}/);
  assert.match(rotate.stdout, /BACK UP .*master\.key AGAIN NOW/);
  assert.match(rotate.stdout, /older master keys no data key uses: k1-\d{8}/);
  assert.deepEqual(readKeyFile(keyFilePath(dataDir))?.keys.length, 2);

  const retire = await custodian(['keys', 'rotate', '--rewrap-only', '--retire-old', '--settle-seconds', '0', '--data', dataDir]);
  assert.equal(retire.code, 0, retire.stderr);
  assert.match(retire.stdout, /re-wrapped 0 subject data keys/);
  assert.match(retire.stdout, /retired master keys no data key uses: k1-\d{8}/);
  const file = readKeyFile(keyFilePath(dataDir));
  assert.deepEqual(
    file?.keys.map((k) => k.master.id),
    [file?.active],
  );
  if (process.platform !== 'win32') assert.equal(statSync(keyFilePath(dataDir)).mode & 0o777, 0o600);

  const db = await connect({ dataDir });
  try {
    const keyring = loadKeyring({ env: {}, dataDir, createIfMissing: false }).keyring;
    for (const v of sealed) {
      const dek = await keysOf(keyring).get(db.kysely, v.subjectId);
      assert.ok(dek);
      assert.equal(openValue(dek, v.sealed, v.recordId), v.text);
    }
    const ids = await db.kysely.selectFrom('subject_key').select('master_key_id').distinct().execute();
    assert.deepEqual(
      ids.map((r) => r.master_key_id),
      [file?.active],
    );
  } finally {
    await db.close();
  }
});

test('a malformed CUSTODIAN_MASTER_KEY stops the command with its code and no key material', async () => {
  const hex = randomBytes(32).toString('hex');
  const result = await custodian(['keys', 'status', '--data', dataDir], { CUSTODIAN_MASTER_KEY: hex });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /\[master_key_invalid\] CUSTODIAN_MASTER_KEY is not a base64-encoded 32-byte key/);
  assert.equal(`${result.stdout}${result.stderr}`.includes(hex.slice(0, 8)), false);
});

test('rotate --help explains what happens with env keys', async () => {
  const help = await custodian(['keys', 'rotate', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /With CUSTODIAN_MASTER_KEY/);
  assert.match(help.stdout, /openssl rand -base64 32/);
});

test("keys shred destroys one person's data key, once, and says what it means for backups", async () => {
  const victim = sealed[0]!;
  const shred = await custodian(['keys', 'shred', '--subject', victim.subjectId, '--data', dataDir, '--register', IDT]);
  assert.equal(shred.code, 0, shred.stderr);
  assert.match(shred.stdout, /data key destroyed; 0 sealed records can no longer be opened/); // these test values live outside the record table
  assert.match(shred.stdout, /Backups made before now still hold this key until the current master key is retired/);
  const twice = await custodian(['keys', 'shred', '--subject', victim.subjectId, '--data', dataDir, '--register', IDT]);
  assert.match(twice.stdout, /already destroyed; nothing changed/);
  const unknown = await custodian(['keys', 'shred', '--subject', randomUUID(), '--data', dataDir, '--register', IDT]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /\[not_found\]/);
  const status = await custodian(['keys', 'status', '--data', dataDir]);
  assert.match(status.stdout, /shredded \(erased subjects\): 1/);
  const db = await connect({ dataDir });
  try {
    assert.equal(await keysOf(loadKeyring({ env: {}, dataDir, createIfMissing: false }).keyring).get(db.kysely, victim.subjectId), null);
    const audited = await db.kysely
      .selectFrom('audit_event')
      .select('actor')
      .where('action', '=', 'subject.key-shred')
      .where('subject_id', '=', victim.subjectId)
      .execute();
    assert.deepEqual(
      audited.map((a) => a.actor),
      ['system:cli'],
    );
  } finally {
    await db.close();
  }
});
