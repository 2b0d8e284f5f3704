// `custodian audit verify | log` as an operator runs them: a separate process on an embedded data folder.
// Always PGlite (DATABASE_URL is removed for the child), so the test means the same in both test modes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { fixedClock } from '../core/clock.ts';
import { keyFilePath, writeKeyFile } from '../crypto/key-file.ts';
import { masterKey } from '../crypto/master-key.ts';
import { connect, type Db } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { keyringOf } from '../crypto/keyring.ts';
import { testAuditor } from '../test/helpers/test-keyring.ts';
import type { AppendedAuditEvent } from './auditor.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const master = randomBytes(32);
const subject = randomUUID();
let dataDir = '';
let events: AppendedAuditEvent[] = [];

async function withDb<T>(dir: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await connect({ dataDir: dir });
  try {
    await migrate(db);
    return await fn(db);
  } finally {
    await db.close();
  }
}

function custodian(args: string[], env: Record<string, string> = {}) {
  const { DATABASE_URL: _url, CUSTODIAN_DATA: _data, CUSTODIAN_MASTER_KEY: _key, ...rest } = process.env;
  const r = spawnSync(process.execPath, ['cli/main.ts', ...args], { cwd: root, env: { ...rest, ...env }, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const withKey = { CUSTODIAN_MASTER_KEY: master.toString('base64') };

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'custodian-audit-cli-'));
  events = await withDb(dataDir, (db) =>
    testAuditor(fixedClock('2025-10-10T10:00:00Z'), keyringOf([masterKey('cli-test', master)])).appendMany(db.kysely, [
      { actor: 'staff:1', action: 'subject.create', subjectId: subject },
      { actor: 'staff:1', action: 'record.update', subjectId: subject, recordIds: [randomUUID()] },
      { actor: 'staff:1', action: 'record.read-sealed', subjectId: subject },
    ]),
  );
});
after(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

test('verify reports an intact chain and exits 0', () => {
  const r = custodian(['audit', 'verify', '--data', dataDir], withKey);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^audit chain intact: 3 events in 1 partition \(\d+ events\/s\)\n/);
  assert.match(r.stdout, /checkpoint #1 signed and witnessed\n$/, 'what was verified is witnessed');
});

test('verify refuses to run without a key, and takes it from <data>/master.key when the env has none', () => {
  const none = custodian(['audit', 'verify', '--data', dataDir]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /master_key_missing/);

  writeKeyFile(
    keyFilePath(dataDir),
    { active: 'k1-20251010', keys: [{ master: masterKey('k1-20251010', master), created: '2025-10-10T00:00:00Z' }] },
    'create',
  );
  const viaFile = custodian(['audit', 'verify', '--data', dataDir]);
  assert.equal(viaFile.code, 0, viaFile.stderr);
  assert.match(viaFile.stdout, /intact: 3 events in 1 partition/);
});

test('log prints the events about a subject as JSON lines, newest first', () => {
  const r = custodian(['audit', 'log', '--data', dataDir, '--subject', subject, '--limit', '2']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; action: string });
  assert.deepEqual(
    lines.map((l) => l.action),
    ['record.read-sealed', 'record.update'],
  );
});

test('verify names the broken event and exits 1 after tampering', async () => {
  await withDb(dataDir, (db) =>
    db.script((run) =>
      run(`ALTER TABLE audit_event DISABLE TRIGGER USER;
           UPDATE audit_event SET action = 'record.export' WHERE id = '${events[1]!.id}';
           ALTER TABLE audit_event ENABLE TRIGGER USER;`),
    ),
  );
  const r = custodian(['audit', 'verify', '--data', dataDir], withKey);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    `audit chain broken at partition ${events[1]!.partition}, event #2 (${events[1]!.id}): the hash does not match the content: the event was edited\n`,
  );
});
