// The staff console's view of the log: newest first, filtered, paged without gaps or repeats.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { fixedClock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import type { Db } from '../db/connect.ts';
import { openTestDb } from '../test/helpers/test-db.ts';
import { testAuditor } from '../test/helpers/test-keyring.ts';
import { queryAuditLog } from './query-audit-log.ts';

let db: Db;
const alice = randomUUID();
const bob = randomUUID();
const record = randomUUID();

before(async () => {
  db = await openTestDb();
  const clock = fixedClock('2025-01-30T09:00:00Z');
  const auditor = testAuditor(clock, undefined, 'c'.repeat(64));
  // One event for each of two subjects a day for five days, crossing a month (so more partitions), then a batch
  // whose events share one instant.
  for (let day = 0; day < 5; day++) {
    await auditor.append(db.kysely, {
      actor: 'staff:1',
      action: 'record.read-sealed',
      subjectId: alice,
      recordIds: [record],
      purpose: 'care',
      detail: { day },
    });
    await auditor.append(db.kysely, { actor: 'staff:2', action: 'record.update', subjectId: bob, detail: { day } });
    clock.advance(24 * 3600_000);
  }
  await auditor.appendMany(
    db.kysely,
    Array.from({ length: 4 }, (_, i) => ({ actor: 'system:import', action: 'record.create' as const, subjectId: alice, detail: { i } })),
  );
});
after(async () => {
  await db.close();
});

test('filters by subject, actor, action and time; newest first; ids, not values', async () => {
  const aliceOnly = await queryAuditLog(db, { subjectId: alice.toUpperCase(), limit: 100 });
  assert.equal(aliceOnly.events.length, 9);
  assert.ok(aliceOnly.events.every((e) => e.subjectId === alice));
  const times = aliceOnly.events.map((e) => e.at.getTime());
  assert.deepEqual(
    times,
    [...times].sort((a, b) => b - a),
  );
  assert.equal(aliceOnly.next, null);

  const reads = await queryAuditLog(db, { actor: 'staff:1', action: 'record.read-sealed', limit: 100 });
  assert.equal(reads.events.length, 5);
  assert.deepEqual(reads.events[0]!.recordIds, [record]);
  assert.equal(reads.events[0]!.purpose, 'care');
  assert.deepEqual(reads.events[0]!.detail, { day: 4 });
  assert.match(reads.events[0]!.partition, /^2025-02\//);

  const january = await queryAuditLog(db, { from: new Date('2025-01-31T00:00:00Z'), to: new Date('2025-02-01T00:00:00Z'), limit: 100 });
  assert.deepEqual(
    january.events.map((e) => e.detail),
    [{ day: 1 }, { day: 1 }],
  );
});

test('pages follow each other without gaps or repeats, even through events of one instant', async () => {
  const all = await queryAuditLog(db, { limit: 1000 });
  assert.equal(all.events.length, 14);
  const paged: string[] = [];
  let before: string | undefined;
  for (;;) {
    const page = await queryAuditLog(db, { limit: 3, ...(before ? { before } : {}) });
    paged.push(...page.events.map((e) => e.id));
    if (!page.next) break;
    before = page.next;
  }
  assert.deepEqual(
    paged,
    all.events.map((e) => e.id),
  );
});

test('bad filters are refused with a code', async () => {
  for (const filters of [{ limit: 0 }, { limit: 1001 }, { limit: 10, before: 'nonsense' }, { limit: 10, subjectId: 'alice' }]) {
    await assert.rejects(queryAuditLog(db, filters), (e: unknown) => e instanceof CustodianError && e.code === 'bad_request');
  }
});
