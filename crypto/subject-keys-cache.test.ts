// The cache of unwrapped data keys belongs to one SubjectKeys (one per app, one per writer thread): bounded by its
// size, never shared between instances, and never the judge of whether a key still exists.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fixedClock } from '../core/clock.ts';
import type { Db } from '../db/connect.ts';
import { insertTestSubjects } from '../test/helpers/insert-test-subjects.ts';
import { openTestDb } from '../test/helpers/test-db.ts';
import { testKeyring } from '../test/helpers/test-keyring.ts';
import { DekCache } from './dek-cache.ts';
import { masterKey } from './master-key.ts';
import { SubjectKeys } from './subject-keys.ts';

const clock = fixedClock('2026-11-22T10:00:00Z');
let db: Db;
before(async () => {
  db = await openTestDb();
});
after(async () => db?.close());

test('the cache keeps at most its size, least recently used first out', () => {
  const cache = new DekCache(2);
  const master = masterKey('k1', randomBytes(32));
  const entry = (n: number) => [`s${n}`, master, Buffer.from([n]), randomBytes(32)] as const;
  cache.set(...entry(1));
  cache.set(...entry(2));
  assert.ok(cache.get('s1', master, Buffer.from([1])), 's1 used: now the most recent');
  cache.set(...entry(3));
  assert.equal(cache.size, 2);
  assert.equal(cache.get('s2', master, Buffer.from([2])), undefined);
  assert.ok(cache.get('s1', master, Buffer.from([1])));
  assert.equal(cache.get('s1', master, Buffer.from([9])), undefined, 'a different wrapped key is a miss, and drops the entry');
});

test('each SubjectKeys has a cache of its own, bounded by its size', async () => {
  const keyring = testKeyring();
  const small = new SubjectKeys(keyring, { cacheSize: 3 });
  const other = new SubjectKeys(keyring);
  for (const id of await insertTestSubjects(db, 5)) await db.kysely.transaction().execute((trx) => small.getOrCreate(trx, id, clock.now()));
  assert.equal(small.cached, 3);
  assert.equal(other.cached, 0, 'nothing leaks into another instance');
});
