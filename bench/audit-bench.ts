// What the tamper-evident audit trail costs, against bare inserts and a bare read of equivalent rows measured in
// the same run on the same server. Run: node bench/audit-bench.ts  (DATABASE_URL, default the local server).
// Uses a fresh schema and drops it after. Targets: append >= 5,000 events/s, verify >= 200,000 events/s.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { Auditor, type AuditInput } from '../audit/auditor.ts';
import { auditPartition } from '../audit/partition.ts';
import { verifyAuditChain } from '../audit/verify/verify-audit-chain.ts';
import { verifyTrail } from '../audit/verify-trail.ts';
import { FileWitness } from '../audit/witness.ts';
import { fixedClock } from '../core/clock.ts';
import { keyringOf } from '../crypto/keyring.ts';
import { masterKey } from '../crypto/master-key.ts';
import { connect, type Db } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import type { Tables } from '../db/tables.ts';
import { reconcileConsentLedger } from '../consent/reconcile-ledger.ts';
import { reconcileRecords } from '../subjects/reconcile-records.ts';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SINGLE = Number(process.env.AUDIT_BENCH_SINGLE ?? 10_000); // one event per transaction
const BATCHED = Number(process.env.AUDIT_BENCH_BATCHED ?? 200_000); // also what verify reads
const BATCH = 1_000;
const CONCURRENCY = 8;

const at = new Date('2025-06-15T12:00:00Z');
const masterKeys = keyringOf([masterKey('bench-1', randomBytes(32))]);
const auditor = new Auditor({ clock: fixedClock(at.toISOString()), fingerprint: 'b'.repeat(64), masterKeys });

/** A typical event: a staff member updates one record of a subject, with a small detail. */
function eventInput(i: number): AuditInput {
  return {
    actor: `staff:${i % 50}`,
    action: 'record.update',
    subjectId: randomUUID(),
    recordIds: [randomUUID()],
    purpose: 'care',
    detail: { field: 'referral.reason', step: i },
  };
}

let plainSeq = 0;
const fakeHash = randomBytes(32).toString('hex');
/** The same row an append writes, with no chain: a counter for seq and a constant where the hashes go. */
function plainRow(i: number) {
  const e = eventInput(i);
  return {
    partition: auditPartition(at, e.subjectId ?? null, e.actor),
    seq: ++plainSeq,
    id: randomUUID(),
    actor: e.actor,
    action: e.action,
    subjectId: e.subjectId ?? null,
    recordIds: `{${(e.recordIds ?? []).join(',')}}`,
    detail: JSON.stringify(e.detail),
  };
}

async function insertPlain(db: Kysely<Tables>, rows: ReturnType<typeof plainRow>[]): Promise<void> {
  const col = <K extends keyof ReturnType<typeof plainRow>>(k: K) => rows.map((r) => r[k]);
  await sql`
    INSERT INTO bench_plain (partition, seq, id, at, actor, action, subject_id, record_ids, purpose, fingerprint, detail, prev_hash, hash)
    SELECT u.partition, u.seq, u.id, ${at.toISOString()}::timestamptz, u.actor, u.action, u.subject_id, u.record_ids::uuid[], 'care',
           ${auditor.fingerprint}, u.detail::jsonb, decode(${fakeHash}, 'hex'), decode(${fakeHash}, 'hex')
    FROM unnest(${col('partition')}::text[], ${col('seq')}::bigint[], ${col('id')}::uuid[], ${col('actor')}::text[], ${col('action')}::text[],
                ${col('subjectId')}::uuid[], ${col('recordIds')}::text[], ${col('detail')}::text[])
         AS u(partition, seq, id, actor, action, subject_id, record_ids, detail)`.execute(db);
}

async function concurrently(total: number, workers: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < total) await task(next++);
    }),
  );
}

async function rate(events: number, run: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await run();
  return events / ((performance.now() - started) / 1000);
}

/** A plain keyset read of every row with the driver's default parsing: what reading the rows costs, unhashed. */
async function readPlain(db: Db): Promise<number> {
  let n = 0;
  const { rows: partitions } = await sql<{ partition: string }>`SELECT DISTINCT partition FROM bench_plain`.execute(db.kysely);
  for (const { partition } of partitions) {
    let after = '0';
    for (;;) {
      const { rows } = await sql<{ seq: string }>`
        SELECT * FROM bench_plain WHERE partition = ${partition} AND seq > ${after}::bigint ORDER BY seq LIMIT 10000`.execute(db.kysely);
      n += rows.length;
      if (rows.length < 10_000) break;
      after = rows.at(-1)!.seq;
    }
  }
  return n;
}

async function main(): Promise<void> {
  const schema = `bench_audit_${randomBytes(4).toString('hex')}`;
  const db = await connect({ url, schema, poolSize: CONCURRENCY + 2 });
  const results: { what: string; rate: number; baseline?: number }[] = [];
  const say = (line: string) => process.stderr.write(`${line}\n`);
  try {
    await migrate(db);
    // Same columns, constraints and indexes as audit_event; no triggers, no chain.
    await sql`CREATE TABLE bench_plain (LIKE audit_event INCLUDING ALL)`.execute(db.kysely);
    say(`audit bench on ${db.location}: ${SINGLE} single events, ${BATCHED} batched, concurrency ${CONCURRENCY}`);

    // The baseline is what a store write costs without an audit event: BEGIN, one INSERT, COMMIT.
    const plainSingle = await rate(SINGLE, () =>
      concurrently(SINGLE, CONCURRENCY, async (i) => {
        await db.kysely.transaction().execute((trx) => insertPlain(trx, [plainRow(i)]));
      }),
    );
    results.push({ what: `bare INSERT, 1 row per transaction, ${CONCURRENCY} concurrent`, rate: plainSingle });
    const auditSingle = await rate(SINGLE, () =>
      concurrently(SINGLE, CONCURRENCY, async (i) => {
        await db.kysely.transaction().execute((trx) => auditor.append(trx, eventInput(i)));
      }),
    );
    results.push({ what: `Auditor.append, 1 per transaction, ${CONCURRENCY} concurrent`, rate: auditSingle, baseline: plainSingle });

    const plainBatched = await rate(BATCHED, async () => {
      for (let i = 0; i < BATCHED; i += BATCH)
        await insertPlain(
          db.kysely,
          Array.from({ length: BATCH }, (_, k) => plainRow(i + k)),
        );
    });
    results.push({ what: `bare INSERT, ${BATCH} rows per statement`, rate: plainBatched });
    const auditBatched = await rate(BATCHED, async () => {
      for (let i = 0; i < BATCHED; i += BATCH)
        await auditor.appendMany(
          db.kysely,
          Array.from({ length: BATCH }, (_, k) => eventInput(i + k)),
        );
    });
    results.push({ what: `Auditor.appendMany, ${BATCH} per call`, rate: auditBatched, baseline: plainBatched });

    await sql`VACUUM ANALYZE`.execute(db.kysely);
    // One untimed pass of each first, as the collect bench warms up: the timed pass then measures the steady rate
    // a long verification runs at, not the compiler warming up on its first thousands of events.
    await readPlain(db);
    await verifyAuditChain(db, { checkpointKey: auditor.checkpointKeys() });
    let plainRows = 0;
    const plainRead = await rate(SINGLE + BATCHED, async () => {
      plainRows = await readPlain(db);
    });
    results.push({ what: `plain read of ${plainRows} rows (keyset pages, default parsing)`, rate: plainRead });
    let verified = 0;
    const verify = await rate(SINGLE + BATCHED, async () => {
      const r = await verifyAuditChain(db, { checkpointKey: auditor.checkpointKeys() });
      if (!r.ok) throw new Error(`bench chain did not verify: ${JSON.stringify(r.firstBad)}`);
      verified = r.events;
    });
    results.push({ what: `verifyAuditChain over ${verified} events`, rate: verify, baseline: plainRead });

    // What `custodian audit verify` does: every chain, held to the latest witnessed checkpoint (a file outside the
    // database), the record table reconciled against the trail, and a new checkpoint signed and witnessed.
    const witnessDir = await mkdtemp(join(tmpdir(), 'custodian-bench-witness-'));
    try {
      const witnessed = new Auditor({
        clock: fixedClock(at.toISOString()),
        fingerprint: auditor.fingerprint,
        masterKeys,
        witness: new FileWitness(join(witnessDir, 'audit-witness.jsonl')),
      });
      await witnessed.checkpoint(db.kysely, { always: true });
      await verifyTrail(db, witnessed, { vouchesFor: async () => [...(await reconcileRecords(db)), ...(await reconcileConsentLedger(db))] });
      let trailEvents = 0;
      const trail = await rate(SINGLE + BATCHED, async () => {
        const v = await verifyTrail(db, witnessed, { vouchesFor: async () => [...(await reconcileRecords(db)), ...(await reconcileConsentLedger(db))] });
        if (!v.ok) throw new Error(`bench trail did not verify: ${v.shortfalls.join('; ')}`);
        trailEvents = v.chains.events;
      });
      results.push({ what: `audit verify: chains + witnessed checkpoint + records, ${trailEvents} events`, rate: trail, baseline: plainRead });
    } finally {
      await rm(witnessDir, { recursive: true, force: true });
    }
  } finally {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db.kysely).catch(() => {});
    await db.close();
  }

  const width = Math.max(...results.map((r) => r.what.length));
  const lines = [`${'measurement'.padEnd(width)}  ${'events/s'.padStart(10)}  vs baseline`];
  for (const r of results) {
    const ratio = r.baseline ? `${(r.rate / r.baseline).toFixed(2)}x` : 'baseline';
    lines.push(`${r.what.padEnd(width)}  ${Math.round(r.rate).toLocaleString('en').padStart(10)}  ${ratio}`);
  }
  const full = results.find((r) => r.what.startsWith('audit verify'));
  if (full)
    lines.push(
      `target: audit verify against a checkpoint >= 200,000 events/s: ${full.rate >= 200_000 ? 'pass' : 'MISS'} (${Math.round(full.rate).toLocaleString('en')}/s)`,
    );
  // Other work on the machine moves every figure; the load average says how much to trust this run.
  lines.push(
    `(load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on this machine at the end of the run)`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
