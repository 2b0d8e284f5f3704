// The ledger's one-round-trip write (Auditor.prepareGuarded) tested as an attacker or a second process would: it
// builds on the audit head only while that head is exactly the one this process wrote last. Another server writing
// the same chain, a head wound back to an earlier state (a restore), a forged head: each is caught, nothing is
// written on top of it, and the trail still verifies (or the ledger refuses to write until someone looks).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import type { Auditor } from '../audit/auditor.ts';
import { auditPartition } from '../audit/partition.ts';
import { fixedClock } from '../core/clock.ts';
import type { CustodianError } from '../core/errors.ts';
import type { Db } from '../db/connect.ts';
import { loadRegisterFile } from '../register/load-register.ts';
import { openTestDb } from '../test/helpers/test-db.ts';
import { testAuditor, testKeyring } from '../test/helpers/test-keyring.ts';
import { ConsentLedger } from './consent-ledger.ts';
import type { People } from './people.ts';

const loaded = loadRegisterFile(new URL('../examples/image-information-systems/register.yaml', import.meta.url).pathname);
assert.ok(loaded.ok);
const register = loaded.register;
const clock = fixedClock('2026-03-02T10:00:00Z');
const keyring = testKeyring();
const nobody: People = {
  holder: async () => null,
  family: async () => [],
  identifiers: async () => [],
  recordPurposes: async () => [],
};

let db: Db;
before(async () => {
  db = await openTestDb();
});
after(async () => db?.close());

/** A server process of its own: its own auditor (same master key, as a second instance behind a load balancer). */
function server(): { ledger: ConsentLedger; auditor: Auditor } {
  const auditor = testAuditor(clock, keyring, register.fingerprint);
  return { auditor, ledger: new ConsentLedger({ db, register, clock, auditor }, nobody) };
}

const choice = () => ({
  visitorId: `v_${randomBytes(12).toString('hex')}`,
  purposes: { analytics: true },
  gpc: false,
  method: 'banner' as const,
  language: 'en',
  actor: 'public:banner',
});
const ledgerRows = async () => Number((await sql<{ n: string }>`SELECT count(*)::text AS n FROM consent_event`.execute(db.kysely)).rows[0]!.n);
/** The chain banner choices join (no subject: spread by actor; one writer, so the actor as given). */
const partition = auditPartition(clock.now(), null, 'public:banner');
const head = async () =>
  (
    await sql<{
      seq: string;
      hash: Uint8Array;
      checkpoint: Uint8Array;
    }>`SELECT seq::text AS seq, hash, checkpoint FROM audit_head WHERE partition = ${partition}`.execute(db.kysely)
  ).rows[0]!;
const asAdmin = async (table: 'audit_head' | 'audit_event', change: () => Promise<unknown>) => {
  await sql`ALTER TABLE ${sql.table(table)} DISABLE TRIGGER USER`.execute(db.kysely);
  try {
    await change();
  } finally {
    await sql`ALTER TABLE ${sql.table(table)} ENABLE TRIGGER USER`.execute(db.kysely);
  }
};

test('choices in a row chain onto one another without a lock; every one is in the ledger and on a trail that verifies', async () => {
  const a = server();
  const before = await ledgerRows();
  for (let i = 0; i < 5; i++) await a.ledger.record(choice());
  await Promise.all(Array.from({ length: 40 }, () => a.ledger.record(choice())));
  assert.equal((await ledgerRows()) - before, 45);
  assert.equal(Number((await head()).seq), 45, 'one audit event per choice, on the one chain');
  const writes = a.ledger.writes();
  assert.equal(writes.locked, 1, 'only the first batch locked the head (it had not written it before)');
  assert.ok(writes.guarded >= 5, JSON.stringify(writes));
  const verified = await a.auditor.verify(db);
  assert.equal(verified.ok, true, JSON.stringify(verified));
});

test('a second server writing the same chain: neither builds on a head it did not see; both chains of writes land and verify', async () => {
  const a = server();
  const b = server();
  const before = await ledgerRows();
  const start = Number((await head()).seq);
  // Interleaved: each server's guess of the head goes stale whenever the other writes.
  for (let i = 0; i < 6; i++) {
    await a.ledger.record(choice());
    await b.ledger.record(choice());
  }
  await Promise.all([...Array.from({ length: 20 }, () => a.ledger.record(choice())), ...Array.from({ length: 20 }, () => b.ledger.record(choice()))]);
  assert.equal((await ledgerRows()) - before, 52);
  assert.equal(Number((await head()).seq) - start, 52);
  assert.ok(a.ledger.writes().locked > 1 && b.ledger.writes().locked > 1, 'each found its guess stale and locked instead');
  const verified = await a.auditor.verify(db);
  assert.equal(verified.ok, true, JSON.stringify(verified));
});

test('a head wound back to an earlier state (a restore of the head, the later events deleted): refused, nothing written', async () => {
  const a = server();
  await a.ledger.record(choice());
  const earlier = await head();
  await a.ledger.record(choice());
  await a.ledger.record(choice());
  // Someone with database rights puts the trail back to `earlier`: the events after it go, the head is restored.
  await asAdmin('audit_event', () => sql`DELETE FROM audit_event WHERE partition = ${partition} AND seq > ${earlier.seq}::bigint`.execute(db.kysely));
  await asAdmin('audit_head', () =>
    sql`UPDATE audit_head SET seq = ${earlier.seq}::bigint, hash = ${earlier.hash}, checkpoint = ${earlier.checkpoint} WHERE partition = ${partition}`.execute(
      db.kysely,
    ),
  );
  const before = await ledgerRows();
  await assert.rejects(a.ledger.record(choice()), (e: CustodianError) => e.code === 'audit_chain_broken' && /rolled back/.test(e.message));
  assert.equal(await ledgerRows(), before, 'no choice was stored on top of the wound-back trail');
});

test('a forged head (its hash rewritten by hand): refused by a server that wrote the chain and by one that did not', async () => {
  // A fresh chain for this test: another month.
  const may = fixedClock('2026-05-04T10:00:00Z');
  const auditorA = testAuditor(may, keyring, register.fingerprint);
  const ledgerA = new ConsentLedger({ db, register, clock: may, auditor: auditorA }, nobody);
  await ledgerA.record(choice());
  await ledgerA.record(choice());
  const p = auditPartition(may.now(), null, 'public:banner');
  await asAdmin('audit_head', () => sql`UPDATE audit_head SET hash = ${randomBytes(32)} WHERE partition = ${p}`.execute(db.kysely));
  const before = await ledgerRows();
  await assert.rejects(ledgerA.record(choice()), (e: CustodianError) => e.code === 'audit_chain_broken' && /does not verify/.test(e.message));
  const ledgerB = new ConsentLedger({ db, register, clock: may, auditor: testAuditor(may, keyring, register.fingerprint) }, nobody);
  await assert.rejects(ledgerB.record(choice()), (e: CustodianError) => e.code === 'audit_chain_broken');
  assert.equal(await ledgerRows(), before);
});
