// Keyed hashes must match for ever: the suppression list compares the hash of an address made before an erasure and
// a master key rotation with one made after both. The secret is stored wrapped; rotation re-wraps it and the old key
// can then be retired.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sql } from 'kysely';
import { fixedClock } from '../core/clock.ts';
import { openTestDb } from '../test/helpers/test-db.ts';
import { testAuditor } from '../test/helpers/test-keyring.ts';
import { HashKeys } from './hash-key.ts';
import { keyFilePath, readKeyFile } from './key-file.ts';
import { loadKeyring } from './keyring.ts';
import { rotateMasterKey } from './rotate-master-key.ts';

const clock = fixedClock('2026-11-22T10:00:00Z');
const dir = mkdtempSync(join(tmpdir(), 'custodian-hash-key-'));
const db = await openTestDb();
after(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a keyed hash made before a rotation that retires the old master key is the same after it; the secret is never stored in clear', async () => {
  const keyring = loadKeyring({ env: {}, dataDir: dir, createIfMissing: true, clock }).keyring;
  const first = keyring.active().id;
  const before = await new HashKeys(keyring).hash(db.kysely, 'marketing-suppression', 'email:anna@example.com', clock.now());
  const stored = await sql<{ wrapped_key: Uint8Array; master_key_id: string }>`SELECT wrapped_key, master_key_id FROM hash_key`.execute(db.kysely);
  assert.equal(stored.rows.length, 1);
  assert.equal(stored.rows[0]!.master_key_id, first);

  const rotated = await rotateMasterKey({ db, keyring, clock, auditor: testAuditor(clock, keyring) }, { retireOld: true, settleMs: 0 });
  assert.deepEqual(rotated.retired, [first], 'the old key was retired: nothing, the hash key included, needs it');
  assert.ok(!readKeyFile(keyFilePath(dir))?.keys.some((k) => k.master.id === first));
  const after = loadKeyring({ env: {}, dataDir: dir, createIfMissing: false, clock }).keyring;
  const again = await new HashKeys(after).hash(db.kysely, 'marketing-suppression', 'email:anna@example.com', clock.now());
  assert.ok(again.equals(before));
  const other = await new HashKeys(after).hash(db.kysely, 'marketing-suppression', 'email:bob@example.com', clock.now());
  assert.ok(!other.equals(before));
});
