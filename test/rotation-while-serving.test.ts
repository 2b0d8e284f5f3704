// A master-key rotation with --retire-old while the service keeps running: the running server signs new audit heads
// with the new key, and afterwards the whole trail verifies with the new key alone.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { checkpointKeysOf } from '../audit/checkpoint.ts';
import { verifyAuditChain } from '../audit/verify-audit-chain.ts';
import { fixedClock } from '../core/clock.ts';
import { loadKeyring } from '../crypto/keyring.ts';
import { rotateMasterKey } from '../crypto/rotate-master-key.ts';
import { buildApp } from '../http/app.ts';
import { exampleRegister } from './helpers/test-app.ts';
import { openTestDb } from './helpers/test-db.ts';
import { scanRequest } from './helpers/scan-request.ts';

const dir = mkdtempSync(join(tmpdir(), 'custodian-rotation-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('rotating and retiring the old key under a running server leaves a trail that verifies with the new key', async () => {
  const db = await openTestDb();
  const clock = fixedClock('2026-11-22T09:00:00Z');
  const served = loadKeyring({ env: {}, dataDir: dir, createIfMissing: true, recheckMs: 0 }).keyring;
  const oldId = served.active().id;
  const app = await buildApp({ db, register: exampleRegister('image-diagnostic-technology'), clock, keyring: served, logLevel: false });
  try {
    const post = async (i: number) => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('rot', i) });
      assert.equal(res.statusCode, 201, res.body);
    };
    for (let i = 0; i < 5; i++) await post(i);

    // The CLI's view of the keys, as `custodian keys rotate --retire-old` would have it.
    const cli = loadKeyring({ env: {}, dataDir: dir, createIfMissing: false, recheckMs: 0 }).keyring;
    clock.set('2026-11-22T10:00:00Z');
    const result = await rotateMasterKey(db, cli, clock, { retireOld: true, settleMs: 0 });
    assert.notEqual(result.activeKeyId, oldId);
    assert.deepEqual(result.retired, [oldId]);

    for (let i = 5; i < 10; i++) await post(i);
    assert.equal(served.active().id, result.activeKeyId, 'the running server switched to the new key');

    const fresh = loadKeyring({ env: {}, dataDir: dir, createIfMissing: false }).keyring;
    assert.deepEqual([...fresh.ids()], [result.activeKeyId], 'only the new key is left');
    const verdict = await verifyAuditChain(db, { checkpointKey: checkpointKeysOf(fresh) });
    assert.equal(verdict.ok, true, JSON.stringify(verdict.firstBad));
  } finally {
    await app.close();
    await db.close();
  }
});
