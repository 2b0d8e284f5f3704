import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fixedClock } from '../core/clock.ts';
import type { Db } from '../db/connect.ts';
import { openTestDb } from '../test/helpers/test-db.ts';
import { appendAuditEvents } from './append-audit-event.ts';
import { resignAuditHeads } from './resign-audit-heads.ts';
import { verifyAuditChain } from './verify-audit-chain.ts';

let db: Db;
before(async () => {
  db = await openTestDb();
});
after(async () => db?.close());

test('after a rotation the heads verify with the new key alone, so the old key can be retired', async () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const clock = fixedClock('2026-10-31T23:59:00Z');
  await db.kysely.transaction().execute((trx) => appendAuditEvents(trx, [{ actor: 'system:test', action: 'keys.rotate' }], { clock, fingerprint: null, checkpointKey: oldKey }));
  clock.set('2026-11-01T00:01:00Z');
  await db.kysely.transaction().execute((trx) => appendAuditEvents(trx, [{ actor: 'system:test', action: 'keys.rotate' }], { clock, fingerprint: null, checkpointKey: oldKey }));
  assert.equal((await verifyAuditChain(db, { checkpointKey: [newKey] })).ok, false, 'not yet re-signed');

  const result = await resignAuditHeads(db.kysely, [newKey, oldKey]);
  assert.ok(result.resigned >= 2);
  assert.deepEqual(result.refused, []);
  assert.equal((await verifyAuditChain(db, { checkpointKey: [newKey] })).ok, true);
});

test('a head that verifies with no known key is not re-signed (that would launder tampering)', async () => {
  const stranger = randomBytes(32);
  const newer = randomBytes(32);
  const result = await resignAuditHeads(db.kysely, [newer, stranger]);
  assert.equal(result.resigned, 0);
  assert.ok(result.refused.length >= 2);
});
