// The trail vouches for the data: records deleted behind it (down to an emptied table) or slipped in behind it are
// named by the same verification that checks the chains, and the verdict is not "intact".
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { verifyTrail } from '../audit/verify-trail.ts';
import { scanRequest } from '../test/helpers/scan-request.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { reconcileRecords } from './reconcile-records.ts';

let t: TestApp;
before(async () => {
  t = await testApp();
  for (let i = 0; i < 3; i++) {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('vouch', i) });
    assert.equal(res.statusCode, 201, res.body);
  }
});
after(async () => t?.close());

const verify = () => verifyTrail(t.db, t.ctx.auditor, { vouchesFor: () => reconcileRecords(t.db) });

test('records and trail agree after collection', async () => {
  assert.deepEqual(await reconcileRecords(t.db), []);
  assert.equal((await verify()).ok, true);
});

test('an emptied record table is not intact: the trail says what was created', async () => {
  const kept = await t.db.kysely.selectFrom('record').selectAll().execute();
  await sql`DELETE FROM record`.execute(t.db.kysely);
  try {
    const verdict = await verify();
    assert.equal(verdict.chains.ok, true);
    assert.equal(verdict.ok, false);
    assert.match(verdict.shortfalls.join('\n'), new RegExp(`^${kept.length} records the trail says were created and never deleted are missing`, 'm'));
  } finally {
    await t.db.kysely.insertInto('record').values(kept).execute();
  }
  assert.deepEqual(await reconcileRecords(t.db), []);
});

test('a record slipped in behind the trail is named', async () => {
  const [one] = await t.db.kysely.selectFrom('record').selectAll().limit(1).execute();
  const id = randomUUID();
  await t.db.kysely
    .insertInto('record')
    .values({ ...one!, id })
    .execute();
  const problems = await reconcileRecords(t.db);
  assert.deepEqual(problems, [`1 record has no event saying it was created (the first: ${id}): rows were added behind the trail`]);
  await sql`DELETE FROM record WHERE id = ${id}`.execute(t.db.kysely);
});
