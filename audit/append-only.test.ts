// The database itself refuses to rewrite history, whatever code or hand-written SQL tries.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { fixedClock } from '../core/clock.ts';
import type { Db } from '../db/connect.ts';
import { openTestDb } from '../test/helpers/test-db.ts';
import { testAuditor } from '../test/helpers/test-keyring.ts';
import { verifyAuditChain } from './verify/verify-audit-chain.ts';

let db: Db;
const auditor = testAuditor(fixedClock('2025-09-01T10:00:00Z'));
const key = auditor.checkpointKeys();
let partition = '';

before(async () => {
  db = await openTestDb();
  const subjectId = randomUUID();
  await auditor.append(db.kysely, { actor: 'staff:1', action: 'subject.create', subjectId });
  partition = (await auditor.append(db.kysely, { actor: 'staff:1', action: 'record.create', subjectId })).partition;
});
after(async () => {
  await db.close();
});

const refusals: [string, () => string][] = [
  ['UPDATE of an event', () => `UPDATE audit_event SET actor = 'staff:2' WHERE partition = '${partition}'`],
  ['UPDATE that matches no row', () => `UPDATE audit_event SET actor = 'staff:2' WHERE false`],
  ['DELETE of an event', () => `DELETE FROM audit_event WHERE partition = '${partition}' AND seq = 2`],
  ['TRUNCATE of the events', () => 'TRUNCATE audit_event'],
  ['DELETE of a head', () => `DELETE FROM audit_head WHERE partition = '${partition}'`],
  ['TRUNCATE of the heads', () => 'TRUNCATE audit_head'],
  ['moving a head back', () => `UPDATE audit_head SET seq = 1 WHERE partition = '${partition}'`],
];
for (const [what, statement] of refusals) {
  test(`the database refuses ${what}`, async () => {
    await assert.rejects(sql.raw(statement()).execute(db.kysely), /append-only|can only move forward/);
  });
}

test('after the refused attempts the chain is whole', async () => {
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_event WHERE partition = ${partition}`.execute(db.kysely);
  assert.equal(rows[0]!.n, 2);
  assert.deepEqual(await verifyAuditChain(db, { checkpointKey: key }), { ok: true, events: 2, partitions: 1 });
});
