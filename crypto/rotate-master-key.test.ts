// Master key rotation while the service keeps working: every data key moves to the new key, nothing sealed before
// becomes unreadable, and an old key is only retired once nothing uses it.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, test } from 'node:test';
import { sql } from 'kysely';
import { fixedClock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import type { Db } from '../db/connect.ts';
import { engineUnderTest, openTestDb } from '../test/helpers/test-db.ts';
import { insertTestSubjects } from '../test/helpers/insert-test-subjects.ts';
import { keyFilePath, readKeyFile } from './key-file.ts';
import { keyStatus } from './key-status.ts';
import { loadKeyring, MASTER_KEY_ENV, type Keyring } from './keyring.ts';
import { rotateMasterKey } from './rotate-master-key.ts';
import { masterKey } from './master-key.ts';
import { openValue, sealValue, wrapKey } from './seal.ts';
import { keysOf, testAuditor } from '../test/helpers/test-keyring.ts';

const clock = fixedClock('2026-11-22T10:00:00Z');
const dirs: string[] = [];
let db: Db;
// Rotation covers the whole table: each test starts with no data keys (subjects may stay).
// Each test gets a database of its own: rotation writes an audit event signed with that test's keys, and one
// installation has one line of master keys (another test's audit heads would not verify with them).
beforeEach(async () => {
  await db?.close();
  db = await openTestDb();
});
after(async () => {
  await db.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A fresh key file; `recheckMs` long, so a "server" keyring keeps its old active key unless it must re-read. */
function keyFileDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-rotate-'));
  dirs.push(dir);
  loadKeyring({ env: {}, dataDir: dir, createIfMissing: true, clock });
  return dir;
}
/** What a rotation is given: the database, the keyring it rotates, and an auditor over that keyring. */
const rotation = (keyring: Keyring) => ({ db, keyring, clock, auditor: testAuditor(clock, keyring) });
const fileKeyring = (dir: string): Keyring => loadKeyring({ env: {}, dataDir: dir, createIfMissing: false, clock, recheckMs: 60_000 }).keyring;

interface Sealed {
  subjectId: string;
  recordId: string;
  sealed: Uint8Array;
  text: string;
}

async function sealFor(keyring: Keyring, subjectId: string): Promise<Sealed> {
  const recordId = randomUUID();
  const text = `value of ${subjectId.slice(0, 8)} — ✓`;
  const dek = await db.kysely.transaction().execute((trx) => keysOf(keyring).getOrCreate(trx, subjectId, clock.now()));
  return { subjectId, recordId, text, sealed: sealValue(dek, text, recordId) };
}

async function assertOpens(keyring: Keyring, values: readonly Sealed[]): Promise<void> {
  for (const v of values) {
    const dek = await keysOf(keyring).get(db.kysely, v.subjectId);
    assert.ok(dek, `no key for ${v.subjectId}`);
    assert.equal(openValue(dek, v.sealed, v.recordId), v.text);
  }
}

const masterIdsOf = async (subjectIds: readonly string[]) =>
  new Set((await db.kysely.selectFrom('subject_key').select('master_key_id').where('subject_id', 'in', subjectIds).execute()).map((r) => r.master_key_id));

test('rotation re-wraps every subject key under a new key while the service keeps making and reading keys', async () => {
  const dir = keyFileDir();
  const server = fileKeyring(dir); // a running server that has not looked at the key file since it started
  const before = await Promise.all((await insertTestSubjects(db, 150)).map((s) => sealFor(server, s)));

  // A fixed amount of traffic, not "until rotation ends": PGlite's single connection is handed out unfairly, so an
  // endless request loop could starve the rotation there.
  const during: Sealed[] = [];
  let rotationDone = false;
  let servedDuringRotation = 0;
  const traffic = (async () => {
    for (let i = 0; i < 30; i++) {
      const old = before[(i * 7) % before.length] as Sealed;
      await assertOpens(server, [old]);
      await assertOpens(server, [await sealFor(server, old.subjectId)]);
      during.push(await sealFor(server, ((await insertTestSubjects(db, 1)) as [string])[0]));
      if (!rotationDone) servedDuringRotation++;
    }
  })();
  const result = await rotateMasterKey(rotation(fileKeyring(dir)), { batchSize: 10 }).finally(() => {
    rotationDone = true;
  });
  await traffic;
  assert.ok(servedDuringRotation > 0, 'no request was served while the rotation ran');

  assert.equal(result.addedKeyId, 'k2-20261122');
  assert.equal(result.activeKeyId, 'k2-20261122');
  assert.ok(result.rewrapped >= before.length, `re-wrapped ${result.rewrapped}`);
  assert.deepEqual(result.retired, []);
  assert.deepEqual(await masterIdsOf(before.map((v) => v.subjectId)), new Set(['k2-20261122']));
  const rotatedAt = await db.kysely
    .selectFrom('subject_key')
    .select('rotated_at')
    .where('subject_id', '=', before[0]?.subjectId ?? '')
    .executeTakeFirstOrThrow();
  assert.equal(new Date(rotatedAt.rotated_at as Date).toISOString(), '2026-11-22T10:00:00.000Z');

  // The server learns k2 by re-reading the file when it first meets it; a fresh process reads it at start.
  await assertOpens(server, [...before, ...during]);
  await assertOpens(fileKeyring(dir), [...before, ...during]);
  const file = readKeyFile(keyFilePath(dir));
  assert.deepEqual(
    file?.keys.map((k) => k.master.id),
    ['k1-20261122', 'k2-20261122'],
    'old key kept for running servers',
  );
  if (process.platform !== 'win32') assert.equal(statSync(keyFilePath(dir)).mode & 0o777, 0o600);
});

test('--retire-old sweeps up keys a lagging server wrapped with the old key, then removes the old key', async () => {
  const dir = keyFileDir();
  const lagging = fileKeyring(dir);
  const values = await Promise.all((await insertTestSubjects(db, 30)).map((s) => sealFor(lagging, s)));
  const first = await rotateMasterKey(rotation(fileKeyring(dir)), {});
  assert.deepEqual(first.unused, ['k1-20261122']);
  values.push(await sealFor(lagging, ((await insertTestSubjects(db, 1)) as [string])[0])); // still wraps with k1

  const second = await rotateMasterKey(rotation(fileKeyring(dir)), { addKey: false, retireOld: true, settleMs: 0 });
  assert.equal(second.addedKeyId, null);
  assert.equal(second.rewrapped, 1);
  assert.deepEqual(second.retired, ['k1-20261122']);
  assert.deepEqual(
    readKeyFile(keyFilePath(dir))?.keys.map((k) => k.master.id),
    ['k2-20261122'],
  );
  await assertOpens(fileKeyring(dir), values); // a process that never saw k1 reads everything
  if (process.platform !== 'win32') assert.equal(statSync(keyFilePath(dir)).mode & 0o777, 0o600);
});

test('a key still wrapping a row that stays locked is not retired', { skip: engineUnderTest === 'pglite' && 'needs concurrent connections' }, async () => {
  const dir = keyFileDir();
  const [held, other] = (await insertTestSubjects(db, 2)) as [string, string];
  const values = [await sealFor(fileKeyring(dir), held), await sealFor(fileKeyring(dir), other)];
  let release = () => {};
  const locked = new Promise<void>((r) => (release = r));
  let holding = () => {};
  const isHolding = new Promise<void>((r) => (holding = r));
  const writer = db.kysely.transaction().execute(async (trx) => {
    await keysOf(fileKeyring(dir)).getOrCreate(trx, held, clock.now()); // share-locks the row, as a request does
    holding();
    await locked;
  });
  await isHolding;
  const result = await rotateMasterKey(rotation(fileKeyring(dir)), { retireOld: true, settleMs: 0 }).finally(release);
  await writer;
  assert.equal(result.remaining, 1);
  assert.deepEqual(result.retired, []);
  assert.deepEqual(
    readKeyFile(keyFilePath(dir))?.keys.map((k) => k.master.id),
    ['k1-20261122', 'k2-20261122'],
  );
  await assertOpens(fileKeyring(dir), values);
});

test('two rotations at once: the second is refused', { skip: engineUnderTest === 'pglite' && 'PGlite runs in one process' }, async () => {
  const dir = keyFileDir();
  await Promise.all((await insertTestSubjects(db, 200)).map((s) => sealFor(fileKeyring(dir), s)));
  const results = await Promise.allSettled([
    rotateMasterKey(rotation(fileKeyring(dir)), { batchSize: 5 }),
    rotateMasterKey(rotation(fileKeyring(dir)), { batchSize: 5 }),
  ]);
  const refused = results.filter((r) => r.status === 'rejected');
  assert.equal(refused.length, 1);
  assert.equal(((refused[0] as PromiseRejectedResult).reason as CustodianError).code, 'conflict');
  assert.equal(readKeyFile(keyFilePath(dir))?.keys.length, 2);
});

test('with env keys, rotation re-wraps under the first key of the list and names the old ones to remove', async () => {
  const [k1, k2] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
  const envKeyring = (value: string) => loadKeyring({ env: { [MASTER_KEY_ENV]: value }, dataDir: '/nonexistent', createIfMissing: false }).keyring;
  const values = await Promise.all((await insertTestSubjects(db, 20)).map((s) => sealFor(envKeyring(`e1:${k1}`), s)));

  await assert.rejects(
    rotateMasterKey(rotation(envKeyring(`e1:${k1}`)), { addKey: true }),
    (e: unknown) => e instanceof CustodianError && /CUSTODIAN_MASTER_KEY/.test(e.message),
  );
  const both = envKeyring(`e2:${k2},e1:${k1}`);
  const result = await rotateMasterKey(rotation(both), { retireOld: true, settleMs: 0 });
  assert.equal(result.addedKeyId, null);
  assert.equal(result.rewrapped >= 20, true);
  assert.deepEqual(result.unused, ['e1']);
  assert.deepEqual(result.retired, []);
  assert.deepEqual(await masterIdsOf(values.map((v) => v.subjectId)), new Set(['e2']));
  await assertOpens(envKeyring(`e2:${k2}`), values);
  const status = await keyStatus(db.kysely, envKeyring(`e2:${k2}`));
  assert.equal(status.activeKeyId, 'e2');
  assert.equal(
    status.byMasterKey.find((k) => k.masterKeyId === 'e1'),
    undefined,
  );
});

test('a data key under a master key nobody holds any more is reported, and does not stop the others from moving', async () => {
  const dir = keyFileDir();
  const values = await Promise.all((await insertTestSubjects(db, 5)).map((s) => sealFor(fileKeyring(dir), s)));
  const [orphan] = (await insertTestSubjects(db, 1)) as [string];
  const lost = masterKey('k0-20200101', randomBytes(32));
  await db.kysely
    .insertInto('subject_key')
    .values({ subject_id: orphan, master_key_id: lost.id, wrapped_key: wrapKey(lost, randomBytes(32), orphan), created_at: clock.now() })
    .execute();

  const result = await rotateMasterKey(rotation(fileKeyring(dir)), {});
  assert.equal(result.rewrapped, 5);
  assert.equal(result.remaining, 0);
  assert.deepEqual(result.stranded, [{ masterKeyId: 'k0-20200101', count: 1 }]);
  await assertOpens(fileKeyring(dir), values);
});

test('key status counts live data keys per master key and the shredded ones, and flags keys it lacks', async () => {
  const dir = keyFileDir();
  const keyring = fileKeyring(dir);
  const [a, b, c] = (await insertTestSubjects(db, 3)) as [string, string, string];
  await sealFor(keyring, a);
  await sealFor(keyring, b);
  await sql`UPDATE subject_key SET wrapped_key = NULL, master_key_id = NULL, shredded_at = now() WHERE subject_id = ${b}::uuid`.execute(db.kysely);
  const lost = masterKey('k0-20200101', randomBytes(32));
  await db.kysely
    .insertInto('subject_key')
    .values({ subject_id: c, master_key_id: lost.id, wrapped_key: wrapKey(lost, randomBytes(32), c), created_at: clock.now() })
    .execute();

  const status = await keyStatus(db.kysely, keyring);
  assert.equal(status.activeKeyId, 'k1-20261122');
  assert.match(status.source, /the key file .*master\.key/);
  assert.deepEqual(status.knownKeyIds, ['k1-20261122']);
  assert.deepEqual(status.byMasterKey, [
    { masterKeyId: 'k0-20200101', count: 1, known: false },
    { masterKeyId: 'k1-20261122', count: 1, known: true },
  ]);
  assert.equal(status.shredded, 1);
});
