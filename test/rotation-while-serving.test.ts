// A master-key rotation with --retire-old while the service keeps running: the running server signs new audit heads
// with the new key, and afterwards the whole trail verifies with the new key alone.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadKeyring } from '../crypto/keyring.ts';
import { rotateMasterKey } from '../crypto/rotate-master-key.ts';
import { scanRequest } from './helpers/scan-request.ts';
import { testApp } from './helpers/test-app.ts';
import { testAuditor } from './helpers/test-keyring.ts';

const dir = mkdtempSync(join(tmpdir(), 'custodian-rotation-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('rotating and retiring the old key under a running server leaves a trail that verifies with the new key', async () => {
  const served = loadKeyring({ env: {}, dataDir: dir, createIfMissing: true, recheckMs: 0 }).keyring;
  const oldId = served.active().id;
  const t = await testApp('image-diagnostic-technology', { keyring: served });
  const { app, db, clock } = t;
  try {
    const post = async (i: number) => {
      const res = await app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('rot', i) });
      assert.equal(res.statusCode, 201, res.body);
    };
    for (let i = 0; i < 5; i++) await post(i);

    // The CLI's view of the keys, as `custodian keys rotate --retire-old` would have it.
    const cli = loadKeyring({ env: {}, dataDir: dir, createIfMissing: false, recheckMs: 0 }).keyring;
    clock.set('2026-11-22T10:00:00Z');
    const result = await rotateMasterKey({ db, keyring: cli, clock, auditor: testAuditor(clock, cli) }, { retireOld: true, settleMs: 0 });
    assert.notEqual(result.activeKeyId, oldId);
    assert.deepEqual(result.retired, [oldId]);

    for (let i = 5; i < 10; i++) await post(i);
    assert.equal(served.active().id, result.activeKeyId, 'the running server switched to the new key');

    const fresh = loadKeyring({ env: {}, dataDir: dir, createIfMissing: false }).keyring;
    assert.deepEqual([...fresh.ids()], [result.activeKeyId], 'only the new key is left');
    const verdict = await testAuditor(clock, fresh).verify(db);
    assert.equal(verdict.ok, true, JSON.stringify(verdict.firstBad));
  } finally {
    await t.close();
  }
});
