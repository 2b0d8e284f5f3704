// Appending: chains per partition and month, batches, concurrency, transactions, and what detail may carry.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { fixedClock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import type { Db } from '../db/connect.ts';
import { openTestDb } from '../test/helpers/test-db.ts';
import { testAuditor } from '../test/helpers/test-keyring.ts';
import type { AuditInput } from './auditor.ts';
import { GENESIS_HASH_HEX } from './canonical-event.ts';
import { auditPartition } from './partition.ts';
import { verifyAuditChain } from './verify/verify-audit-chain.ts';

let db: Db;
const fingerprint = 'a'.repeat(64);
const auditor = testAuditor(fixedClock('2025-01-01T00:00:00Z'), undefined, fingerprint);
const key = auditor.checkpointKeys();
const ctxAt = (iso: string) => new Date(iso);

before(async () => {
  db = await openTestDb();
});
after(async () => {
  await db.close();
});

interface StoredEvent {
  partition: string;
  seq: number;
  id: string;
  actor: string;
  subject_id: string | null;
  record_ids: string[];
  purpose: string | null;
  fingerprint: string | null;
  detail: unknown;
  prev: string;
  hash: string;
}

async function chainOf(partition: string): Promise<StoredEvent[]> {
  const { rows } = await sql<StoredEvent & { seq: string | number }>`
    SELECT partition, seq, id, actor, subject_id, record_ids, purpose, fingerprint, detail,
           encode(prev_hash, 'hex') AS prev, encode(hash, 'hex') AS hash
    FROM audit_event WHERE partition = ${partition} ORDER BY seq`.execute(db.kysely);
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

async function headOf(partition: string): Promise<{ seq: number; hash: string } | undefined> {
  const { rows } = await sql<{ seq: string | number; hash: string }>`
    SELECT seq, encode(hash, 'hex') AS hash FROM audit_head WHERE partition = ${partition}`.execute(db.kysely);
  const row = rows[0];
  return row && { seq: Number(row.seq), hash: row.hash };
}

async function verifyAll() {
  return verifyAuditChain(db, { checkpointKey: key });
}

test('events chain per partition and per month: seq from 1, genesis link, each links to the one before, head at the end', async () => {
  const alice = randomUUID();
  const bob = randomUUID();
  const recA = randomUUID().toUpperCase();
  const recB = randomUUID();
  const first = await auditor.append(
    db.kysely,
    {
      actor: 'staff:1',
      action: 'record.create',
      subjectId: alice,
      recordIds: [recA, recB, recA],
      purpose: 'care',
      detail: { field: 'referral.reason', count: 2, urgent: true, note: null },
    },
    ctxAt('2025-01-31T23:59:59.999Z'),
  );
  const second = await auditor.append(db.kysely, { actor: 'staff:1', action: 'record.read-sealed', subjectId: alice }, ctxAt('2025-01-31T23:59:59.999Z'));
  // One millisecond later is February in UTC: a new chain, starting again at seq 1.
  const feb = await auditor.append(db.kysely, { actor: 'staff:1', action: 'record.update', subjectId: alice }, ctxAt('2025-02-01T00:00:00.000Z'));
  // New York evening of 31 January is already 1 February in UTC.
  const febToo = await auditor.append(db.kysely, { actor: 'staff:2', action: 'record.update', subjectId: bob }, ctxAt('2025-01-31T20:30:00-05:00'));

  assert.equal(first.partition, auditPartition(new Date('2025-01-15T00:00:00Z'), alice, 'anyone'));
  assert.match(first.partition, /^2025-01\/\d{2}$/);
  assert.deepEqual([first.seq, second.seq], [1, 2]);
  assert.equal(second.partition, first.partition);
  assert.match(feb.partition, /^2025-02\//);
  assert.equal(feb.seq, 1);
  assert.match(febToo.partition, /^2025-02\//);

  const jan = await chainOf(first.partition);
  assert.deepEqual(
    jan.map((e) => e.id),
    [first.id, second.id],
  );
  assert.equal(jan[0]!.prev, GENESIS_HASH_HEX);
  assert.equal(jan[1]!.prev, jan[0]!.hash);
  assert.notEqual(jan[0]!.hash, jan[1]!.hash);
  assert.deepEqual(jan[0]!.record_ids, [recA.toLowerCase(), recB].sort(), 'record ids are stored lower-case, unique and sorted');
  assert.deepEqual(jan[0]!.detail, { field: 'referral.reason', count: 2, urgent: true, note: null });
  assert.equal(jan[0]!.fingerprint, fingerprint);
  assert.deepEqual(await headOf(first.partition), { seq: 2, hash: jan[1]!.hash });

  const result = await verifyAll();
  assert.equal(result.ok, true, JSON.stringify(result.firstBad));
});

test('a batch takes consecutive seqs per partition and returns them in input order', async () => {
  const subjects = [randomUUID(), randomUUID(), randomUUID()];
  const inputs = Array.from({ length: 30 }, (_, i) => ({ actor: 'system:import', action: 'record.create' as const, subjectId: subjects[i % 3]! }));
  const appended = await auditor.appendMany(db.kysely, inputs, ctxAt('2025-03-10T10:00:00Z'));
  assert.equal(appended.length, 30);
  for (const s of subjects) {
    const partition = auditPartition(new Date('2025-03-10T10:00:00Z'), s, 'x');
    const chain = await chainOf(partition);
    const mine = appended.filter((_a, i) => inputs[i]!.subjectId === s);
    // Several subjects can share a shard: the subject's events are consecutive within the batch's run of seqs.
    for (const a of mine) assert.equal(chain.find((e) => e.seq === a.seq)?.id, a.id);
    assert.deepEqual(
      chain.map((e) => e.seq),
      chain.map((_, i) => i + 1),
    );
  }
  assert.equal((await verifyAll()).ok, true);
});

test('twenty transactions appending in parallel, to shared and separate partitions, leave valid chains', async () => {
  const shared = randomUUID();
  const ctx = ctxAt('2025-04-02T08:00:00Z');
  await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      db.kysely.transaction().execute(async (trx) => {
        if (i % 2 === 0) {
          await auditor.append(trx, { actor: `staff:${i}`, action: 'record.read-sealed', subjectId: shared }, ctx);
          await auditor.append(trx, { actor: `staff:${i}`, action: 'record.export', subjectId: shared }, ctx);
          return;
        }
        // Batches over several partitions, listed in different orders: heads are locked in one sorted order.
        const subjects = i % 4 === 1 ? [randomUUID(), shared, randomUUID()] : [shared, randomUUID(), randomUUID()].reverse();
        await auditor.appendMany(
          trx,
          subjects.flatMap((subjectId) => [
            { actor: `staff:${i}`, action: 'record.update' as const, subjectId },
            { actor: `staff:${i}`, action: 'record.read-sealed' as const, subjectId },
          ]),
          ctx,
        );
      }),
    ),
  );
  const chain = await chainOf(auditPartition(new Date('2025-04-02T08:00:00Z'), shared, 'x'));
  assert.equal(chain.filter((e) => e.subject_id === shared).length, 40);
  assert.deepEqual(
    chain.map((e) => e.seq),
    chain.map((_, i) => i + 1),
  );
  for (let i = 1; i < chain.length; i++) assert.equal(chain[i]!.prev, chain[i - 1]!.hash);
  const result = await verifyAll();
  assert.equal(result.ok, true, JSON.stringify(result.firstBad));
});

test('a rolled-back transaction leaves no event and no head change', async () => {
  const subject = randomUUID();
  const ctx = ctxAt('2025-05-05T05:05:05Z');
  const kept = await auditor.append(db.kysely, { actor: 'staff:1', action: 'record.create', subjectId: subject }, ctx);
  const headBefore = await headOf(kept.partition);
  const fresh = randomUUID();
  const freshPartition = auditPartition(new Date('2025-06-01T00:00:00Z'), fresh, 'x');
  const existedBefore = await headOf(freshPartition);

  await assert.rejects(
    db.kysely.transaction().execute(async (trx) => {
      await auditor.append(trx, { actor: 'staff:1', action: 'record.delete', subjectId: subject }, ctx);
      await auditor.append(trx, { actor: 'staff:1', action: 'record.delete', subjectId: fresh }, ctxAt('2025-06-01T00:00:00Z'));
      throw new Error('the change being audited failed');
    }),
    /the change being audited failed/,
  );
  assert.deepEqual(await headOf(kept.partition), headBefore);
  assert.deepEqual(await headOf(freshPartition), existedBefore);
  assert.deepEqual(
    (await chainOf(kept.partition)).map((e) => e.id),
    [kept.id],
  );
  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_event WHERE subject_id IN (${subject}, ${fresh})`.execute(db.kysely);
  assert.equal(rows[0]!.n, 1);
  assert.equal((await verifyAll()).ok, true);
});

test('detail and actor refuse anything that could be personal text, and nothing is written', async () => {
  const subject = randomUUID();
  const ctx = ctxAt('2025-07-07T07:07:07Z');
  const refused = async (input: AuditInput, message: RegExp) => {
    await assert.rejects(auditor.append(db.kysely, input, ctx), (e: unknown) => {
      assert.ok(e instanceof CustodianError);
      assert.equal(e.code, 'audit_input_invalid');
      assert.match(e.message, message);
      return true;
    });
  };
  const base = { actor: 'staff:1', action: 'record.update', subjectId: subject } as const;
  await refused({ ...base, detail: { note: 'x'.repeat(201) } }, /longer than 200/);
  await refused({ ...base, detail: { note: 'Patient called about her MRI results' } }, /whitespace/);
  await refused({ ...base, detail: { contact: 'jane.doe@example.com' } }, /email/);
  await refused({ ...base, detail: { ['k'.repeat(65)]: 1 } }, /short identifier/);
  await refused({ ...base, detail: { nested: { name: 'Jane' } as never } }, /no nested objects/);
  await refused({ ...base, detail: { n: Number.NaN } }, /finite/);
  await refused({ ...base, actor: 'jane.doe@example.com' }, /email/);
  await refused({ ...base, subjectId: 'Jane Doe' }, /uuid/);
  await refused({ ...base, action: 'record.gossip' as never }, /unknown audit action/);

  const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_event WHERE subject_id = ${subject}`.execute(db.kysely);
  assert.equal(rows[0]!.n, 0);
  assert.equal(await headOf(auditPartition(new Date('2025-07-07T07:07:07Z'), subject, 'x')), undefined);
});

test('unusual but valid values survive the round trip through the database and still verify', async () => {
  const detail = { code: 'a"b\\c', unicode: 'ø→😀', big: 1e21, small: 1e-7, frac: 0.1 + 0.2, neg: -0, empty: '', no: false };
  const appended = await auditor.append(
    db.kysely,
    { actor: 'staff:Zoë', action: 'disclosure', subjectId: randomUUID(), purpose: 'überweisung', detail },
    ctxAt('2025-08-08T08:08:08.123Z'),
  );
  const [stored] = (await chainOf(appended.partition)).filter((e) => e.id === appended.id);
  assert.deepEqual(stored!.detail, { ...detail, neg: 0 });
  const result = await verifyAuditChain(db, { checkpointKey: key, partition: appended.partition });
  assert.equal(result.ok, true, JSON.stringify(result.firstBad));
});

test('a transaction that appended and rolled back is not a wound-back trail: the next append goes on from the head', async () => {
  const subjectId = randomUUID();
  const input: AuditInput = { actor: 'system:test', action: 'record.create', subjectId };
  // The subject is random, so its shard may already hold other tests' events: count from this append.
  const first = await auditor.append(db.kysely, input);
  await assert.rejects(
    db.kysely.transaction().execute(async (trx) => {
      await auditor.append(trx, input);
      await auditor.append(trx, input);
      throw new Error('the caller fails after appending');
    }),
    /the caller fails/,
  );
  const next = await auditor.append(db.kysely, input);
  assert.equal(next.seq, first.seq + 1, 'the rolled-back events left no gap');
  assert.equal((await auditor.verify(db)).ok, true);
});

test('a committed head put back behind what this process appended is still refused', async () => {
  const subjectId = randomUUID();
  const input: AuditInput = { actor: 'system:test', action: 'record.create', subjectId };
  await auditor.append(db.kysely, input);
  const second = await auditor.append(db.kysely, input);
  // Someone with database rights removes the last event and winds the head back to the first (as a restore would).
  const first = (
    await sql<{ hash: Uint8Array; checkpoint: Uint8Array }>`
    SELECT e.hash, h.checkpoint FROM audit_event e, audit_head h WHERE e.partition = ${second.partition} AND e.seq = 1 AND h.partition = e.partition`.execute(
      db.kysely,
    )
  ).rows[0]!;
  const signed = auditor.checkpointKeys()[0]!;
  assert.ok(signed);
  await sql`ALTER TABLE audit_event DISABLE TRIGGER USER`.execute(db.kysely);
  await sql`DELETE FROM audit_event WHERE partition = ${second.partition} AND seq = 2`.execute(db.kysely);
  await sql`ALTER TABLE audit_event ENABLE TRIGGER USER`.execute(db.kysely);
  await sql`ALTER TABLE audit_head DISABLE TRIGGER USER`.execute(db.kysely);
  await sql`UPDATE audit_head SET seq = 1, hash = ${first.hash} WHERE partition = ${second.partition}`.execute(db.kysely);
  await sql`ALTER TABLE audit_head ENABLE TRIGGER USER`.execute(db.kysely);
  await assert.rejects(auditor.append(db.kysely, input), (e: CustodianError) => e.code === 'audit_chain_broken');
});
