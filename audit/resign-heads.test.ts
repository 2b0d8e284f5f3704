// After a master-key rotation the auditor re-signs every head with the new key, so the old key can be retired; a
// head that no key it holds verifies is refused, never re-signed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fixedClock } from '../core/clock.ts';
import { keyringOf } from '../crypto/keyring.ts';
import { masterKey } from '../crypto/master-key.ts';
import type { Db } from '../db/connect.ts';
import { openTestDb } from '../test/helpers/test-db.ts';
import { testAuditor } from '../test/helpers/test-keyring.ts';
import { deriveCheckpointKey } from './checkpoint.ts';
import { verifyAuditChain } from './verify/verify-audit-chain.ts';

let db: Db;
before(async () => {
  db = await openTestDb();
});
after(async () => db?.close());

test('after a rotation the heads verify with the new key alone, so the old key can be retired', async () => {
  const oldKey = masterKey('k1', randomBytes(32));
  const newKey = masterKey('k2', randomBytes(32));
  const clock = fixedClock('2026-10-31T23:59:00Z');
  const before = testAuditor(clock, keyringOf([oldKey]));
  await before.append(db.kysely, { actor: 'system:test', action: 'keys.rotate' });
  clock.set('2026-11-01T00:01:00Z');
  await before.append(db.kysely, { actor: 'system:test', action: 'keys.rotate' });
  const newOnly = [deriveCheckpointKey(newKey.key)];
  assert.equal((await verifyAuditChain(db, { checkpointKey: newOnly })).ok, false, 'not yet re-signed');

  const result = await testAuditor(clock, keyringOf([newKey, oldKey])).resignHeads(db.kysely);
  assert.ok(result.resigned >= 2);
  assert.deepEqual(result.refused, []);
  assert.equal((await verifyAuditChain(db, { checkpointKey: newOnly })).ok, true);
});

test('a head that verifies with no known key is not re-signed (that would launder tampering)', async () => {
  const stranger = masterKey('k9', randomBytes(32));
  const newer = masterKey('k3', randomBytes(32));
  const result = await testAuditor(fixedClock('2026-11-02T00:00:00Z'), keyringOf([newer, stranger])).resignHeads(db.kysely);
  assert.equal(result.resigned, 0);
  assert.ok(result.refused.length >= 2);
});
