// The auditor's memo of heads it signed or checked: bounded, and keyed by the whole head row, so a row changed in
// the database (a forged checkpoint, a wound-back seq) is never taken on trust.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { fixedClock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import type { Db } from '../db/connect.ts';
import { openTestDb } from '../test/helpers/test-db.ts';
import { testAuditor } from '../test/helpers/test-keyring.ts';
import { HeadMemo } from './head-memo.ts';

const head = (partition: string, seq = 1) => ({ partition, seq, hash: 'ab'.repeat(32), checkpoint: 'cd'.repeat(32) });

test('the memo holds at most its size, forgetting the head remembered longest ago', () => {
  const memo = new HeadMemo(3);
  for (const p of ['a', 'b', 'c', 'd']) memo.add(head(p));
  assert.equal(memo.size, 3);
  assert.equal(memo.has(head('a')), false);
  assert.equal(memo.has(head('d')), true);
  memo.add(head('b')); // remembered again: now the newest
  memo.add(head('e'));
  assert.equal(memo.has(head('b')), true);
  assert.equal(memo.has(head('c')), false);
});

test('a head is remembered with its seq, hash and checkpoint: any change is a different head', () => {
  const memo = new HeadMemo(10);
  memo.add(head('p', 5));
  assert.equal(memo.has({ ...head('p', 5), seq: '5' }), true, 'seq as the driver returns it');
  assert.equal(memo.has(head('p', 4)), false);
  assert.equal(memo.has({ ...head('p', 5), checkpoint: 'ee'.repeat(32) }), false);
  assert.equal(memo.has({ ...head('p', 5), hash: 'ee'.repeat(32) }), false);
});

let db: Db;
before(async () => {
  db = await openTestDb();
});
after(async () => db?.close());

test('an auditor does not trust a head it signed once the row is changed behind its back', async () => {
  const auditor = testAuditor(fixedClock('2026-05-05T10:00:00Z'));
  const subjectId = randomUUID();
  const { partition } = await auditor.append(db.kysely, { actor: 'staff:1', action: 'record.create', subjectId });
  await auditor.append(db.kysely, { actor: 'staff:1', action: 'record.update', subjectId }); // the memo now vouches for seq 2
  await sql`UPDATE audit_head SET checkpoint = sha256(checkpoint) WHERE partition = ${partition}`.execute(db.kysely);
  await assert.rejects(
    auditor.append(db.kysely, { actor: 'staff:1', action: 'record.update', subjectId }),
    (e: unknown) => e instanceof CustodianError && e.code === 'audit_chain_broken',
  );
});
