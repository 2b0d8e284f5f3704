// Crypto-shredding a person: their sealed values cannot be opened any more, anywhere; the shred is audited; and
// once the master key of the time is retired, neither can the copies in backups taken before it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CustodianError } from '../core/errors.ts';
import { loadKeyring, type Keyring } from '../crypto/keyring.ts';
import { rotateMasterKey } from '../crypto/rotate-master-key.ts';
import { openValue, unwrapKey } from '../crypto/seal.ts';
import type { Db } from '../db/connect.ts';
import { scanRequest } from '../test/helpers/scan-request.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { keysOf, testAuditor } from '../test/helpers/test-keyring.ts';
import { shredSubject } from './erase-subject.ts';

const dir = mkdtempSync(join(tmpdir(), 'custodian-shred-'));
let t: TestApp;
let db: Db;
let keyring: Keyring;
let app: TestApp['app'];
let clock: TestApp['clock'];

before(async () => {
  keyring = loadKeyring({ env: {}, dataDir: dir, createIfMissing: true, recheckMs: 0 }).keyring;
  t = await testApp('image-diagnostic-technology', { keyring });
  ({ db, app, clock } = t);
});
after(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

async function collect(i: number): Promise<{ subjectId: string; recordIds: string[] }> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('shred', i) });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

/** What a database backup holds for a person: their wrapped data key and their sealed values. */
async function backupOf(subjectId: string) {
  const key = await db.kysely.selectFrom('subject_key').select(['master_key_id', 'wrapped_key']).where('subject_id', '=', subjectId).executeTakeFirstOrThrow();
  const sealed = await db.kysely
    .selectFrom('record')
    .select(['id', 'value_sealed'])
    .where('subject_id', '=', subjectId)
    .where('value_sealed', 'is not', null)
    .execute();
  return { masterKeyId: key.master_key_id!, wrapped: key.wrapped_key!, sealed: sealed.map((r) => ({ id: r.id, value: r.value_sealed! })) };
}

/** Opens a backup's sealed values with whatever keys a keyring holds; null when no key it holds can. */
function openBackup(ring: Keyring, backup: Awaited<ReturnType<typeof backupOf>>, subjectId: string): string[] | null {
  const master = ring.get(backup.masterKeyId);
  if (!master) return null;
  const dek = unwrapKey(master, backup.wrapped, subjectId);
  return backup.sealed.map((s) => openValue(dek, s.value, s.id));
}

test('shredding destroys the key, marks the sealed records erased and is audited; a second shred changes nothing', async () => {
  const { subjectId } = await collect(1);
  const result = await shredSubject(t.ctx, { subjectId, actor: 'staff:dpo-1', overrideRetention: 'Erasure upheld by the ICO' });
  assert.deepEqual(result, { shredded: true, records: 2 });
  assert.equal(await keysOf(keyring).get(db.kysely, subjectId), null);
  const states = await db.kysely.selectFrom('record').select(['state', 'value_sealed']).where('subject_id', '=', subjectId).execute();
  assert.equal(states.filter((r) => r.state === 'erased').length, 2);
  assert.ok(
    states.filter((r) => r.value_sealed === null).every((r) => r.state === 'active'),
    'plain values are left to erasure proper',
  );
  const event = await db.kysely
    .selectFrom('audit_event')
    .select(['actor', 'record_ids', 'detail'])
    .where('action', '=', 'subject.key-shred')
    .where('subject_id', '=', subjectId)
    .executeTakeFirstOrThrow();
  assert.equal(event.actor, 'staff:dpo-1');
  assert.equal(event.record_ids.length, 2);
  assert.deepEqual(await shredSubject(t.ctx, { subjectId, actor: 'staff:dpo-1', overrideRetention: 'Erasure upheld by the ICO' }), {
    shredded: false,
    records: 0,
  });
  // A new submission with the same details is a new person: accepted, and nothing says anyone was erased.
  const again = await app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('shred', 1) });
  assert.equal(again.statusCode, 201, again.body);
  assert.notEqual(again.json().subjectId, subjectId);
  await assert.rejects(
    shredSubject(t.ctx, { subjectId: 'not-a-uuid', actor: 'staff:dpo-1' }),
    (e: unknown) => e instanceof CustodianError && e.code === 'bad_request',
  );
});

test('a backup taken before the shred opens only until the master key of its time is retired', async () => {
  const { subjectId } = await collect(2);
  const other = await collect(3);
  const taken = await backupOf(subjectId);
  const otherTaken = await backupOf(other.subjectId);
  assert.deepEqual(openBackup(keyring, taken, subjectId)?.sort(), [scanRequest('shred', 2)['scan.area']!, scanRequest('shred', 2)['scan.type']!].sort());

  await shredSubject(t.ctx, { subjectId, actor: 'staff:dpo-1', overrideRetention: 'Erasure upheld by the ICO' });
  // The live database can no longer open it, but the backup still holds a key the master key unwraps.
  assert.equal(await keysOf(keyring).get(db.kysely, subjectId), null);
  assert.notEqual(openBackup(keyring, taken, subjectId), null, 'until the master key is retired, an older backup still opens');

  clock.set('2026-11-22T10:00:00Z');
  const cli = loadKeyring({ env: {}, dataDir: dir, createIfMissing: false, recheckMs: 0 }).keyring;
  const rotated = await rotateMasterKey({ db, keyring: cli, clock, auditor: testAuditor(clock, cli) }, { retireOld: true, settleMs: 0 });
  assert.deepEqual(rotated.retired, [taken.masterKeyId]);
  const now = loadKeyring({ env: {}, dataDir: dir, createIfMissing: false }).keyring;
  assert.equal(openBackup(now, taken, subjectId), null, "the shredded person's values in the old backup are gone for good");
  assert.equal(openBackup(now, otherTaken, other.subjectId), null, "so are everyone else's in that backup: the price of the guarantee");
  // The live data of everyone else is untouched: re-wrapped under the new key.
  assert.notEqual(await keysOf(now).get(db.kysely, other.subjectId), null);
  assert.equal((await testAuditor(clock, now).verify(db)).ok, true);
});
