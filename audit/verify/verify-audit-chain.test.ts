// Verification against an attacker with database superuser rights: triggers off, any row edited. Each tamper
// must be caught and the first bad event named.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { fixedClock } from '../../core/clock.ts';
import { CustodianError } from '../../core/errors.ts';
import type { Db } from '../../db/connect.ts';
import { openTestDb } from '../../test/helpers/test-db.ts';
import { testAuditor } from '../../test/helpers/test-keyring.ts';
import type { AppendedAuditEvent } from '../auditor.ts';
import { canonicalEventText, createChainHasher } from '../canonical-event.ts';
import { deriveCheckpointKey } from '../checkpoint.ts';
import { verifyAuditChain, type VerifyProgress } from './verify-audit-chain.ts';

let db: Db;
const auditor = testAuditor(fixedClock('2000-01-01T00:00:00Z'), undefined, 'f'.repeat(64));
const key = auditor.checkpointKeys();

before(async () => {
  db = await openTestDb();
});
after(async () => {
  await db.close();
});

let month = 0;
/** Five events about one subject, in a month no other test uses, so each test owns its partition. */
async function freshChain(): Promise<{ partition: string; events: AppendedAuditEvent[] }> {
  month++;
  const at = `${2000 + Math.floor(month / 12)}-${String((month % 12) + 1).padStart(2, '0')}-15T12:00:00Z`;
  const subjectId = randomUUID();
  const events = await auditor.appendMany(
    db.kysely,
    Array.from({ length: 5 }, (_, i) => ({
      actor: `staff:${i}`,
      action: 'record.update' as const,
      subjectId,
      recordIds: [randomUUID()],
      purpose: 'care',
      detail: { field: 'referral.reason', step: i },
    })),
    new Date(at),
  );
  return { partition: events[0]!.partition, events };
}

/** Runs SQL the way an attacker with superuser rights would: append-only triggers disabled first. */
async function asAttacker(text: string, via: 'disable-triggers' | 'replication-role' = 'disable-triggers'): Promise<void> {
  await db.script((run) =>
    run(
      via === 'replication-role'
        ? `SET LOCAL session_replication_role = replica; ${text};`
        : `ALTER TABLE audit_event DISABLE TRIGGER USER; ALTER TABLE audit_head DISABLE TRIGGER USER;
           ${text};
           ALTER TABLE audit_event ENABLE TRIGGER USER; ALTER TABLE audit_head ENABLE TRIGGER USER;`,
    ),
  );
}

function firstBadOf(result: Awaited<ReturnType<typeof verifyAuditChain>>) {
  assert.equal(result.ok, false, 'the tampering went unnoticed');
  assert.ok(result.firstBad);
  return result.firstBad;
}

test('an intact store verifies, across pages and partitions (on several threads on PostgreSQL), and reports progress', async () => {
  const chains = [await freshChain(), await freshChain(), await freshChain()];
  const progress: VerifyProgress[] = [];
  const result = await verifyAuditChain(db, { checkpointKey: key, pageSize: 2, threads: 3, onProgress: (p) => progress.push(p) });
  assert.deepEqual(result, { ok: true, events: 15, partitions: 3 });
  assert.deepEqual(progress.at(-1), { partition: chains[2]!.partition, events: 15, partitions: 3 });
  assert.deepEqual(await verifyAuditChain(db, { checkpointKey: key, partition: chains[1]!.partition }), { ok: true, events: 5, partitions: 1 });
});

test('codes outside ASCII, repeated and changing, verify as stored', async () => {
  const at = '2199-12-31T23:59:59.999Z'; // far enough from 2000 that the binary time is past exact doubles
  const subjectId = randomUUID(); // one subject: one partition
  const events = await auditor.appendMany(
    db.kysely,
    ['zahnärztin:1', 'zahnärztin:1', 'staff:2', '歯科:3', '歯科:3'].map((actor, i) => ({
      actor,
      action: 'record.update' as const,
      subjectId,
      recordIds: i === 4 ? [] : [randomUUID(), randomUUID()],
      purpose: i % 2 ? 'behandlung' : 'überweisung',
      detail: { feld: 'größe', n: i, ok: i % 2 === 0, none: null },
    })),
    new Date(at),
  );
  assert.deepEqual(await verifyAuditChain(db, { checkpointKey: key, partition: events[0]!.partition }), { ok: true, events: 5, partitions: 1 });
});

const edits: [string, (p: string, seq: number) => string][] = [
  ['actor', (p, seq) => `UPDATE audit_event SET actor = 'staff:999' WHERE partition = '${p}' AND seq = ${seq}`],
  ['detail', (p, seq) => `UPDATE audit_event SET detail = detail || '{"step": 42}' WHERE partition = '${p}' AND seq = ${seq}`],
  ['the time, by one microsecond', (p, seq) => `UPDATE audit_event SET at = at + interval '1 microsecond' WHERE partition = '${p}' AND seq = ${seq}`],
  ['the time, to infinity', (p, seq) => `UPDATE audit_event SET at = 'infinity' WHERE partition = '${p}' AND seq = ${seq}`],
  ['the time, by a century', (p, seq) => `UPDATE audit_event SET at = at - interval '100 years' WHERE partition = '${p}' AND seq = ${seq}`],
  [
    'record ids (renumbered from 0)',
    (p, seq) => `UPDATE audit_event SET record_ids = ('[0:0]=' || record_ids::text)::uuid[] WHERE partition = '${p}' AND seq = ${seq}`,
  ],
  ['record ids (made two-dimensional)', (p, seq) => `UPDATE audit_event SET record_ids = ARRAY[record_ids] WHERE partition = '${p}' AND seq = ${seq}`],
  ['record ids (emptied)', (p, seq) => `UPDATE audit_event SET record_ids = '{}' WHERE partition = '${p}' AND seq = ${seq}`],
  ['purpose (to NULL)', (p, seq) => `UPDATE audit_event SET purpose = NULL WHERE partition = '${p}' AND seq = ${seq}`],
  ['fingerprint (one character)', (p, seq) => `UPDATE audit_event SET fingerprint = 'e' || substr(fingerprint, 2) WHERE partition = '${p}' AND seq = ${seq}`],
  [
    'record ids (a NULL slipped into the array)',
    (p, seq) => `UPDATE audit_event SET record_ids = record_ids || NULL::uuid WHERE partition = '${p}' AND seq = ${seq}`,
  ],
  ['subject id', (p, seq) => `UPDATE audit_event SET subject_id = '${randomUUID()}' WHERE partition = '${p}' AND seq = ${seq}`],
  ['the stored hash', (p, seq) => `UPDATE audit_event SET hash = sha256(hash) WHERE partition = '${p}' AND seq = ${seq}`],
];
for (const [field, edit] of edits) {
  test(`an edit of ${field} is caught at that event`, async () => {
    const { partition, events } = await freshChain();
    await asAttacker(edit(partition, 3));
    assert.deepEqual(firstBadOf(await verifyAuditChain(db, { checkpointKey: key, partition })), {
      partition,
      seq: 3,
      id: events[2]!.id,
      reason: 'the hash does not match the content: the event was edited',
    });
  });
}

test('an edit made with session_replication_role = replica is caught too', async () => {
  const { partition, events } = await freshChain();
  await asAttacker(`UPDATE audit_event SET action = 'record.create' WHERE partition = '${partition}' AND seq = 2`, 'replication-role');
  const bad = firstBadOf(await verifyAuditChain(db, { checkpointKey: key, partition }));
  assert.deepEqual([bad.seq, bad.id], [2, events[1]!.id]);
});

test('deleting a middle event names the missing seq', async () => {
  const { partition } = await freshChain();
  await asAttacker(`DELETE FROM audit_event WHERE partition = '${partition}' AND seq = 3`);
  const bad = firstBadOf(await verifyAuditChain(db, { checkpointKey: key, partition }));
  assert.deepEqual({ seq: bad.seq, id: bad.id }, { seq: 3, id: null });
  assert.match(bad.reason, /#3 is missing/);
});

test('deleting a middle event and renumbering the rest breaks the link', async () => {
  const { partition, events } = await freshChain();
  await asAttacker(`DELETE FROM audit_event WHERE partition = '${partition}' AND seq = 3;
    UPDATE audit_event SET seq = seq + 1000 WHERE partition = '${partition}' AND seq > 3;
    UPDATE audit_event SET seq = seq - 1001 WHERE partition = '${partition}' AND seq > 1000`);
  const bad = firstBadOf(await verifyAuditChain(db, { checkpointKey: key, partition }));
  assert.deepEqual({ seq: bad.seq, id: bad.id }, { seq: 3, id: events[3]!.id });
  assert.match(bad.reason, /does not link/);
});

test('deleting the last event is caught by the signed head', async () => {
  const { partition } = await freshChain();
  await asAttacker(`DELETE FROM audit_event WHERE partition = '${partition}' AND seq = 5`);
  const bad = firstBadOf(await verifyAuditChain(db, { checkpointKey: key, partition }));
  assert.deepEqual({ seq: bad.seq, id: bad.id }, { seq: 5, id: null });
  assert.match(bad.reason, /#5 missing: the signed head is at #5/);
});

test('deleting the last event and winding the head back fails the head checkpoint', async () => {
  const { partition } = await freshChain();
  await asAttacker(`DELETE FROM audit_event WHERE partition = '${partition}' AND seq = 5;
    UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_event WHERE partition = '${partition}' AND seq = 4)
    WHERE partition = '${partition}'`);
  const bad = firstBadOf(await verifyAuditChain(db, { checkpointKey: key, partition }));
  assert.deepEqual({ seq: bad.seq, id: bad.id }, { seq: 4, id: null });
  assert.match(bad.reason, /head checkpoint does not verify/);
});

/** The attacker knows the algorithm (it is open source): the forged event links and hashes correctly. */
async function forgeAfter(partition: string, last: AppendedAuditEvent): Promise<string> {
  const { rows } = await sql<{ hash: string }>`SELECT encode(hash, 'hex') AS hash FROM audit_event WHERE id = ${last.id}`.execute(db.kysely);
  const id = randomUUID();
  const at = '2030-01-01T00:00:00.000000Z';
  const canonical = canonicalEventText({
    partition,
    seq: last.seq + 1,
    id,
    at,
    actor: 'staff:1',
    action: 'record.delete',
    subjectId: null,
    recordIds: '{}',
    purpose: null,
    fingerprint: null,
    detail: {},
  });
  const hash = createChainHasher()(rows[0]!.hash, canonical);
  await asAttacker(`INSERT INTO audit_event (partition, seq, id, at, actor, action, prev_hash, hash)
    VALUES ('${partition}', ${last.seq + 1}, '${id}', '${at}', 'staff:1', 'record.delete', '\\x${rows[0]!.hash}', '\\x${hash}')`);
  return id;
}

test('a forged event appended after the head is caught', async () => {
  const { partition, events } = await freshChain();
  const forged = await forgeAfter(partition, events[4]!);
  const bad = firstBadOf(await verifyAuditChain(db, { checkpointKey: key, partition }));
  assert.deepEqual({ seq: bad.seq, id: bad.id }, { seq: 6, id: forged });
  assert.match(bad.reason, /beyond the signed head/);
});

test('a forged event with the head moved to it fails the head checkpoint', async () => {
  const { partition, events } = await freshChain();
  const forged = await forgeAfter(partition, events[4]!);
  await asAttacker(`UPDATE audit_head SET seq = 6, hash = (SELECT hash FROM audit_event WHERE id = '${forged}') WHERE partition = '${partition}'`);
  assert.match(firstBadOf(await verifyAuditChain(db, { checkpointKey: key, partition })).reason, /head checkpoint does not verify/);
});

test('swapping the seq of two events is caught at the first swapped position', async () => {
  const { partition, events } = await freshChain();
  await asAttacker(`UPDATE audit_event SET seq = 1000 WHERE partition = '${partition}' AND seq = 2;
    UPDATE audit_event SET seq = 2 WHERE partition = '${partition}' AND seq = 4;
    UPDATE audit_event SET seq = 4 WHERE partition = '${partition}' AND seq = 1000`);
  const bad = firstBadOf(await verifyAuditChain(db, { checkpointKey: key, partition }));
  assert.deepEqual({ seq: bad.seq, id: bad.id }, { seq: 2, id: events[3]!.id });
  assert.match(bad.reason, /does not link to event #1/);
});

test('rewriting the last event with a correct hash is caught by the head', async () => {
  const { partition, events } = await freshChain();
  const { rows } = await sql<{ prev: string; at: string; record_ids: string }>`
    SELECT encode(prev_hash, 'hex') AS prev, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at,
           record_ids::text AS record_ids
    FROM audit_event WHERE id = ${events[4]!.id}`.execute(db.kysely);
  const row = rows[0]!;
  const canonical = canonicalEventText({
    partition,
    seq: 5,
    id: events[4]!.id,
    at: row.at,
    actor: 'staff:4',
    action: 'record.update',
    subjectId: null,
    recordIds: row.record_ids,
    purpose: 'care',
    fingerprint: 'f'.repeat(64),
    detail: { field: 'referral.reason', step: 4 },
  });
  const hash = createChainHasher()(row.prev, canonical);
  await asAttacker(`UPDATE audit_event SET subject_id = NULL, hash = '\\x${hash}' WHERE id = '${events[4]!.id}'`);
  const bad = firstBadOf(await verifyAuditChain(db, { checkpointKey: key, partition }));
  assert.deepEqual({ seq: bad.seq, id: bad.id }, { seq: 5, id: events[4]!.id });
  assert.match(bad.reason, /does not match the signed head/);
});

test('an append refuses to build on a head that does not verify, so a wound-back head cannot be laundered', async () => {
  const { partition, events } = await freshChain();
  await asAttacker(`DELETE FROM audit_event WHERE partition = '${partition}' AND seq = 5;
    UPDATE audit_head SET seq = 4, hash = (SELECT hash FROM audit_event WHERE partition = '${partition}' AND seq = 4)
    WHERE partition = '${partition}'`);
  const { rows } = await sql<{ subject_id: string; at: Date }>`SELECT subject_id, at FROM audit_event WHERE id = ${events[0]!.id}`.execute(db.kysely);
  await assert.rejects(
    auditor.appendMany(db.kysely, [{ actor: 'staff:1', action: 'record.read-sealed', subjectId: rows[0]!.subject_id }], new Date(rows[0]!.at)),
    (e: unknown) => e instanceof CustodianError && e.code === 'audit_chain_broken' && e.message.includes(partition),
  );
  assert.match(firstBadOf(await verifyAuditChain(db, { checkpointKey: key, partition })).reason, /head checkpoint does not verify/);
});

test('an edited head is caught', async () => {
  const { partition } = await freshChain();
  await asAttacker(`UPDATE audit_head SET hash = sha256(hash) WHERE partition = '${partition}'`);
  const bad = firstBadOf(await verifyAuditChain(db, { checkpointKey: key, partition }));
  assert.deepEqual({ seq: bad.seq, id: bad.id }, { seq: 5, id: null });
  assert.match(bad.reason, /head checkpoint does not verify/);
});

test('a removed head is caught', async () => {
  const { partition, events } = await freshChain();
  await asAttacker(`DELETE FROM audit_head WHERE partition = '${partition}'`);
  const bad = firstBadOf(await verifyAuditChain(db, { checkpointKey: key, partition }));
  assert.deepEqual({ seq: bad.seq, id: bad.id }, { seq: 1, id: events[0]!.id });
  assert.match(bad.reason, /no head checkpoint/);
});

test('the checkpoint needs the right key; an older key in the list still verifies', async () => {
  const { partition } = await freshChain();
  const other = deriveCheckpointKey(randomBytes(32));
  assert.match(firstBadOf(await verifyAuditChain(db, { checkpointKey: other, partition })).reason, /head checkpoint/);
  assert.equal((await verifyAuditChain(db, { checkpointKey: [other, ...key], partition })).ok, true);
});

test('verifying everything names the first broken partition in order, on one thread or several', async () => {
  const result = await verifyAuditChain(db, { checkpointKey: key, threads: 1 });
  for (const threads of [2, 3, 8]) {
    const progress: VerifyProgress[] = [];
    assert.deepEqual(await verifyAuditChain(db, { checkpointKey: key, threads, onProgress: (p) => progress.push(p) }), result, `${threads} threads`);
    assert.ok(
      progress.every((p, i) => i === 0 || p.events >= progress[i - 1]!.events),
      'progress only goes forward',
    );
  }
  const bad = firstBadOf(result);
  // The first three partitions (from the first test) are intact; the fourth is the first tampered one.
  assert.equal(result.partitions, 4);
  assert.equal(result.events, 15 + 2);
  assert.match(bad.reason, /edited/);
});

test('a long verification lets other work through between chains (PGlite has one connection)', {
  skip: process.env.DATABASE_URL ? 'PostgreSQL serves other connections alongside a verification' : false,
}, async () => {
  const own = await openTestDb();
  try {
    // Chains in three months; a query issued while the first is checked must not wait for the last.
    for (const month of ['2025-01', '2025-02', '2025-03']) {
      await auditor.appendMany(
        own.kysely,
        [{ actor: 'staff:1', action: 'record.update' as const, subjectId: randomUUID() }],
        new Date(`${month}-10T10:00:00Z`),
      );
    }
    const order: string[] = [];
    let asked = false;
    const result = await verifyAuditChain(own, {
      checkpointKey: key,
      onProgress: () => {
        if (asked) return;
        asked = true;
        void sql`SELECT 1`.execute(own.kysely).then(() => order.push('other query'));
      },
    });
    order.push('verify done');
    assert.deepEqual([result.ok, result.partitions], [true, 3]);
    assert.deepEqual(order, ['other query', 'verify done']);
  } finally {
    await own.close();
  }
});
