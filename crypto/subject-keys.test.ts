// Per-subject data keys on the real database: made once, stored only wrapped, destroyed for good by shredding.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { fixedClock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import type { Db } from '../db/connect.ts';
import { openTestDb } from '../test/helpers/test-db.ts';
import { insertTestSubjects } from '../test/helpers/insert-test-subjects.ts';
import { loadKeyring, MASTER_KEY_ENV, type Keyring } from './keyring.ts';
import { masterKey } from './master-key.ts';
import { openValue, sealValue, unwrapKey, wrapKey } from './seal.ts';
import { keysOf } from '../test/helpers/test-keyring.ts';

const clock = fixedClock('2026-11-22T10:00:00Z');
const masterB64 = randomBytes(32).toString('base64');
/** A keyring as a server would load it; a second call is "another process" or "after a restart" (no shared cache hits). */
const loadServerKeyring = (): Keyring =>
  loadKeyring({ env: { [MASTER_KEY_ENV]: `k1-20261122:${masterB64}` }, dataDir: '/nonexistent', createIfMissing: false }).keyring;

let db: Db;
let keyring: Keyring;
before(async () => {
  db = await openTestDb();
  keyring = loadServerKeyring();
});
after(() => db.close());

const isCode = (code: string) => (e: unknown) => e instanceof CustodianError && e.code === code;
const keyFor = (subjectId: string) => db.kysely.transaction().execute((trx) => keysOf(keyring).getOrCreate(trx, subjectId, clock.now()));
const keyRow = (subjectId: string) => db.kysely.selectFrom('subject_key').selectAll().where('subject_id', '=', subjectId).executeTakeFirstOrThrow();

/** Stores one sealed value as the collection endpoint would: a record row with value_sealed, AAD = record id. */
async function storeSealed(subjectId: string, text: string): Promise<string> {
  const recordId = randomUUID();
  await db.kysely.transaction().execute(async (trx) => {
    const dek = await keysOf(keyring).getOrCreate(trx, subjectId, clock.now());
    await sql`INSERT INTO record (id, subject_id, field, category, purposes, bases, source, channel, collected_at,
        retention_event, value_sealed, register_fingerprint)
      VALUES (${recordId}::uuid, ${subjectId}::uuid, 'diagnosis', 'health', ARRAY['care'], ARRAY['art9-2h'], 'subject', 'form',
        now(), 'last_visit', ${sealValue(dek, text, recordId)}, 'test')`.execute(trx);
  });
  return recordId;
}

const sealedOf = async (recordId: string) =>
  (await db.kysely.selectFrom('record').select('value_sealed').where('id', '=', recordId).executeTakeFirstOrThrow()).value_sealed as Uint8Array;

test('each subject gets its own data key, the same one every time, from any process', async () => {
  const [a, b] = (await insertTestSubjects(db, 2)) as [string, string];
  const keyA = await keyFor(a);
  const keyB = await keyFor(b);
  assert.equal(keyA.length, 32);
  assert.notDeepEqual(Buffer.from(keyA), Buffer.from(keyB));
  assert.deepEqual(Buffer.from(await keyFor(a)), Buffer.from(keyA));
  const restarted = loadServerKeyring();
  assert.deepEqual(Buffer.from((await keysOf(restarted).get(db.kysely, a)) ?? []), Buffer.from(keyA));
});

test('the database holds the data key only wrapped by the master key', async () => {
  const [s] = (await insertTestSubjects(db, 1)) as [string];
  const dek = await keyFor(s);
  const row = await keyRow(s);
  assert.equal(row.master_key_id, 'k1-20261122');
  assert.ok(row.wrapped_key);
  assert.equal(Buffer.from(row.wrapped_key).includes(Buffer.from(dek)), false);
  assert.equal(row.shredded_at, null);
  assert.deepEqual(Buffer.from(unwrapKey(keyring.resolve('k1-20261122'), row.wrapped_key, s)), Buffer.from(dek));
});

test('a value sealed for a subject opens after a restart through the stored key', async () => {
  const [s] = (await insertTestSubjects(db, 1)) as [string];
  const recordId = await storeSealed(s, 'Fractura de radio distal — paciente 🩻');
  const dek = await keysOf(loadServerKeyring()).get(db.kysely, s);
  assert.ok(dek);
  assert.equal(openValue(dek, await sealedOf(recordId), recordId), 'Fractura de radio distal — paciente 🩻');
});

test('shredding destroys the key: the live database and master key can no longer open values copied out after it', async () => {
  const [s] = (await insertTestSubjects(db, 1)) as [string];
  const recordId = await storeSealed(s, 'MRI: lesion at L4');
  const backupOfKeyRow = await keyRow(s); // what a database backup taken before the shred would hold
  await keysOf(keyring).get(db.kysely, s); // warm this process's cache

  clock.set('2026-11-23T09:00:00Z');
  assert.equal(await db.kysely.transaction().execute((trx) => keysOf(keyring).shred(trx, s, clock.now())), true);
  const sealedAfter = await sealedOf(recordId);

  assert.equal(await keysOf(keyring).get(db.kysely, s), null, 'the cache must not outlive the key');
  assert.equal(await keysOf(loadServerKeyring()).get(db.kysely, s), null);
  const row = await keyRow(s);
  assert.equal(row.wrapped_key, null);
  assert.equal(row.master_key_id, null);
  assert.equal(new Date(row.shredded_at as Date).toISOString(), '2026-11-23T09:00:00.000Z');
  await assert.rejects(keyFor(s), isCode('subject_key_shredded'), 'no new key is made for an erased subject');
  assert.equal(await db.kysely.transaction().execute((trx) => keysOf(keyring).shred(trx, s, clock.now())), false, 'already shredded');

  // What shredding cannot do: a backup from BEFORE the shred still holds the wrapped key, so that backup plus the
  // master key still opens the value. This is why the master key must never be stored with database backups.
  const fromBackup = unwrapKey(keyring.resolve('k1-20261122'), backupOfKeyRow.wrapped_key as Uint8Array, s);
  assert.equal(openValue(fromBackup, sealedAfter, recordId), 'MRI: lesion at L4');
});

test('a key shredded by another process is not served from this process cache', async () => {
  const [s] = (await insertTestSubjects(db, 1)) as [string];
  await keyFor(s);
  assert.ok(await keysOf(keyring).get(db.kysely, s));
  await sql`UPDATE subject_key SET wrapped_key = NULL, master_key_id = NULL, shredded_at = now() WHERE subject_id = ${s}::uuid`.execute(db.kysely);
  assert.equal(await keysOf(keyring).get(db.kysely, s), null);
  await assert.rejects(keyFor(s), isCode('subject_key_shredded'));
});

test('shredding a subject that never had a key leaves a tombstone so none is made later', async () => {
  const [s] = (await insertTestSubjects(db, 1)) as [string];
  assert.equal(await keysOf(keyring).get(db.kysely, s), null);
  assert.equal(await db.kysely.transaction().execute((trx) => keysOf(keyring).shred(trx, s, clock.now())), true);
  await assert.rejects(keyFor(s), isCode('subject_key_shredded'));
});

test('a key made in a transaction that rolled back is not used afterwards', async () => {
  const [s] = (await insertTestSubjects(db, 1)) as [string];
  let lost: Uint8Array | undefined;
  await assert.rejects(
    db.kysely.transaction().execute(async (trx) => {
      lost = await keysOf(keyring).getOrCreate(trx, s, clock.now());
      throw new Error('request failed');
    }),
    /request failed/,
  );
  assert.equal(await keysOf(keyring).get(db.kysely, s), null);
  const kept = await keyFor(s);
  assert.notDeepEqual(Buffer.from(kept), Buffer.from(lost ?? []));
  assert.deepEqual(Buffer.from((await keysOf(keyring).get(db.kysely, s)) ?? []), Buffer.from(kept));
});

test('concurrent first uses of one subject agree on a single key', async () => {
  const [s] = (await insertTestSubjects(db, 1)) as [string];
  const keys = await Promise.all(Array.from({ length: 12 }, () => keyFor(s)));
  for (const k of keys) assert.deepEqual(Buffer.from(k), Buffer.from(keys[0] ?? []));
  const rows = await db.kysely.selectFrom('subject_key').select('subject_id').where('subject_id', '=', s).execute();
  assert.equal(rows.length, 1);
});

test('an erasure waits for a write in flight that holds the key, then destroys it', async () => {
  const [s] = (await insertTestSubjects(db, 1)) as [string];
  await keyFor(s);
  const events: string[] = [];
  let shred: Promise<unknown> | undefined;
  await db.kysely.transaction().execute(async (trx) => {
    await keysOf(keyring).getOrCreate(trx, s, clock.now());
    shred = db.kysely
      .transaction()
      .execute((t) => keysOf(keyring).shred(t, s, clock.now()))
      .then(() => events.push('shredded'));
    await new Promise((r) => setTimeout(r, 100));
    events.push('write committed');
  });
  await shred;
  assert.deepEqual(events, ['write committed', 'shredded']);
  assert.equal(await keysOf(keyring).get(db.kysely, s), null);
});

test('a subject that does not exist gets no key', async () => {
  await assert.rejects(keyFor(randomUUID()), isCode('not_found'));
});

test('a key wrapped by a master key this keyring lacks is refused by id, without key material', async () => {
  const [s] = (await insertTestSubjects(db, 1)) as [string];
  const stranger = masterKey('k0-20240101', randomBytes(32));
  const wrapped = wrapKey(stranger, randomBytes(32), s);
  await db.kysely.insertInto('subject_key').values({ subject_id: s, master_key_id: stranger.id, wrapped_key: wrapped, created_at: clock.now() }).execute();
  const e = await keysOf(keyring)
    .get(db.kysely, s)
    .then(
      () => assert.fail('expected a refusal'),
      (err: unknown) => err as CustodianError,
    );
  assert.equal(e.code, 'master_key_unknown');
  assert.match(e.message, /k0-20240101/);
  for (const secret of [masterB64, Buffer.from(stranger.key).toString('base64')]) assert.equal(e.message.includes(secret.slice(0, 10)), false);
});

test('an altered wrapped key is refused', async () => {
  const [s] = (await insertTestSubjects(db, 1)) as [string];
  await keyFor(s);
  await sql`UPDATE subject_key SET wrapped_key = set_byte(wrapped_key, 20, get_byte(wrapped_key, 20) # 1) WHERE subject_id = ${s}::uuid`.execute(db.kysely);
  await assert.rejects(keysOf(loadServerKeyring()).get(db.kysely, s), isCode('seal_invalid'));
});
