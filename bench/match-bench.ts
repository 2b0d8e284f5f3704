// What telling people apart costs: one scan-request written (validated, matched, sealed, audited, one transaction)
// with nobody in the database, then with 1 million people in it (2 million contact points, 1 million practice
// patient numbers, a name and a birth date each), in the same run on the same server. Matching is indexed look-ups
// only (subject_identifier (kind, value), record (subject_id)): the difference between the two is what matching
// against a million people adds. The peer is the look-up a system that joins people by email does: one indexed
// SELECT of the email's owner, measured on the same million.
// Run: node bench/match-bench.ts  (DATABASE_URL, default the local server; a fresh schema, dropped after).
// Target: matching against 1,000,000 people adds at most 1 ms p50.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { createAppContext } from '../app/app-context.ts';
import { systemClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import { keyringOf } from '../crypto/keyring.ts';
import { masterKey } from '../crypto/master-key.ts';
import { connect, describeUrl } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { loadRegisterFile } from '../register/load-register.ts';
import { prepareSubmission } from '../subjects/collect/prepare-submission.ts';
import { writeBatchOutcomes } from '../subjects/collect/write-batch.ts';
import { SHARED_LINE_LIMIT, traitFields } from '../subjects/same-person.ts';
import { findHolders } from '../subjects/subjects-store.ts';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PEOPLE = Number(process.env.MATCH_BENCH_PEOPLE ?? 1_000_000);
const N = Number(process.env.MATCH_BENCH_N ?? 400);
const TARGET_MS = 1;

const loaded = loadRegisterFile(fileURLToPath(new URL('../examples/image-diagnostic-technology/register.yaml', import.meta.url)));
if (!loaded.ok) throw new Error('the example register does not load');
const register = loaded.register;

const phoneOf = (i: number) => `+4420${String(70_000_000 + i).padStart(8, '0')}`;

function p50(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
function p95(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length * 0.95)]!;
}

async function main(): Promise<void> {
  const schema = `bench_match_${randomBytes(4).toString('hex')}`;
  const db = await connect({ url, schema, poolSize: 4 });
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const keyring = keyringOf([masterKey('bench-1', randomBytes(32))]);
  const ctx = createAppContext({ db, register, clock: systemClock, keyring, log: silentLogger });
  const rows: { what: string; samples: number[]; alone?: boolean; peer?: boolean }[] = [];
  let run = 0;
  /** One submission at a time, each its own transaction: the latency one clinic's form sees. */
  const timeWrites = async (what: string, body: (i: number) => Record<string, string>, items?: (n: number) => void) => {
    const tag = ++run;
    // Warm up (the first measurement longer: the compiler and the connection pool start cold).
    for (let i = 0; i < (tag === 1 ? 400 : 50); i++) await writeOne(body(tag * 1_000_000 + i));
    const samples: number[] = [];
    let opened = 0;
    for (let i = 0; i < N; i++) {
      const started = performance.now();
      opened += await writeOne(body(tag * 1_000_000 + 500 + i));
      samples.push(performance.now() - started);
    }
    items?.(opened);
    rows.push({ what, samples });
  };
  const writeOne = async (body: Record<string, string>): Promise<number> => {
    const prepared = prepareSubmission(register, { point: 'scan-request', body, actor: 'public:scan-request' });
    const [outcome] = await writeBatchOutcomes(ctx, [prepared], new Date());
    if (!outcome?.ok) throw new Error(`write failed: ${String((outcome as { error: unknown } | undefined)?.error)}`);
    return outcome.result.reviewItems;
  };
  const stranger = (i: number) => ({
    'patient.name': `Stranger ${i}`,
    'patient.dob': '1990-01-01',
    'patient.phone': `+4420${String(10_000_000 + (i % 9_000_000)).padStart(8, '0')}`,
    'patient.email': `s${i}@new.example`,
    'patient.reference': `S${i}`,
    'referrer.email': `desk${i % 500}@new-practice.example`,
    'scan.type': 'Medical CT',
    'scan.area': 'Lower left molar, suspected cyst',
  });
  try {
    await migrate(db);
    say(`match bench on ${db.location}: ${N} single submissions per measurement, then ${PEOPLE.toLocaleString('en')} people`);

    // 1. Nobody known: the write with matching that finds nobody.
    await timeWrites('new person, database empty (baseline)', stranger);

    // 2. A million people, as a busy referral service would have after some years.
    const started = performance.now();
    await sql`
      INSERT INTO subject (id, kind, created_at)
      SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'patient', now() FROM generate_series(1, ${PEOPLE}::int) g`.execute(db.kysely);
    await sql`
      INSERT INTO subject_identifier (kind, value, scope, strong, verified, subject_id, created_at)
      SELECT k.kind,
             CASE k.kind WHEN 'email' THEN 'p' || g || '@known.example' WHEN 'phone' THEN '+4420' || lpad((70000000 + g)::text, 8, '0') ELSE 'R' || g END,
             CASE k.kind WHEN 'patient-number' THEN 'referrer.email=desk' || (g % 2000) || '@known-practice.example' ELSE '*' END,
             k.kind = 'patient-number', false, ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, now()
      FROM generate_series(1, ${PEOPLE}::int) g CROSS JOIN (VALUES ('email'), ('phone'), ('patient-number')) AS k(kind)`.execute(db.kysely);
    await sql`
      INSERT INTO record (id, subject_id, collection_point, field, category, purposes, bases, source, channel, collected_at,
                          retention_event, value_text, register_fingerprint)
      SELECT gen_random_uuid(), ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid, 'scan-request', f.field, 'patient-contact',
             '{provide-scan}', '{contract}', 'clinician', 'web', now(), 'collected',
             CASE f.field WHEN 'patient.name' THEN 'Known Person ' || g ELSE ('1970-01-01'::date + (g % 20000))::text END, ${register.fingerprint}
      FROM generate_series(1, ${PEOPLE}::int) g CROSS JOIN (VALUES ('patient.name'), ('patient.dob')) AS f(field)`.execute(db.kysely);
    await sql`VACUUM ANALYZE`.execute(db.kysely);
    await sql`CHECKPOINT`.execute(db.kysely); // the bulk load's dirty pages written now, not during the measurements
    say(
      `  ${PEOPLE.toLocaleString('en')} people with ${(PEOPLE * 3).toLocaleString('en')} identifiers and ${(PEOPLE * 2).toLocaleString('en')} records in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );

    // 3. The same write with a million people known, sharing nothing.
    await timeWrites(`new person, ${PEOPLE.toLocaleString('en')} known, shares nothing`, stranger);

    // 4. Sharing a known person's phone, with their name and birth date: found, traits read, an item opened.
    let items = 0;
    await timeWrites(
      `new person, ${PEOPLE.toLocaleString('en')} known, shares a phone (review item)`,
      (i) => {
        const k = 1 + ((i * 7919) % PEOPLE);
        return { ...stranger(i), 'patient.phone': phoneOf(k), 'patient.name': `Known Person ${k}`, 'patient.dob': dobOf(k) };
      },
      (n) => (items = n),
    );
    say(`  ${items} review items opened in the last measurement (one each expected)`);

    // 5. Matching alone, as the writer runs it: who holds the submission's identifiers (email, phone, and the patient
    // number in its practice), with their names and birth dates, in one statement.
    const fields = traitFields(register);
    const match = async (prepared: ReturnType<typeof prepareSubmission>) => {
      const { holders } = await findHolders(
        db.kysely,
        prepared.identifiers.map((i) => ({ ...i, subjectKind: prepared.subjectKind })),
        SHARED_LINE_LIMIT,
        fields,
      );
      return holders.length;
    };
    const miss = (i: number) => prepareSubmission(register, { point: 'scan-request', body: stranger(9_000_000 + i), actor: 'public:scan-request' });
    const hit = (i: number) =>
      prepareSubmission(register, {
        point: 'scan-request',
        body: { ...stranger(9_000_000 + i), 'patient.phone': phoneOf(1 + ((i * 7919) % PEOPLE)) },
        actor: 'public:scan-request',
      });
    // 6. The peer: the one indexed look-up a system that joins by email makes, on the same million. The three are
    // interleaved, one of each in turn, so that whatever else the machine does weighs on them alike.
    const peerLookUp = (i: number) =>
      sql`SELECT subject_id FROM subject_identifier WHERE kind = 'email' AND value = ${`p${1 + ((i * 104_729) % PEOPLE)}@known.example`}`.execute(db.kysely);
    const samples = { miss: [] as number[], hit: [] as number[], peer: [] as number[] };
    const timed = async (into: number[] | null, fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      await fn();
      into?.push(performance.now() - t0);
    };
    for (let i = 0; i < N + 50; i++) {
      const warm = i < 50;
      const [m, h] = [miss(i), hit(i)];
      await timed(warm ? null : samples.miss, () => match(m));
      await timed(warm ? null : samples.hit, () => match(h));
      await timed(warm ? null : samples.peer, () => peerLookUp(i));
    }
    rows.push({ what: `matching alone: finds nobody among ${PEOPLE.toLocaleString('en')}`, samples: samples.miss, alone: true });
    rows.push({ what: `matching alone: finds one of ${PEOPLE.toLocaleString('en')}, with their name and birth date`, samples: samples.hit, alone: true });
    rows.push({
      what: `peer: one indexed SELECT of an email's owner (join-by-email), ${PEOPLE.toLocaleString('en')} known`,
      samples: samples.peer,
      peer: true,
    });
  } finally {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db.kysely).catch(() => {});
    await db.close();
  }

  const base = p50(rows[0]!.samples);
  const peerP50 = p50(rows.find((r) => r.peer)!.samples);
  const width = Math.max(...rows.map((r) => r.what.length));
  const lines = [
    `one scan-request per transaction, ${N} timed after a warm-up, PostgreSQL ${describeUrl(url)}`,
    `${'measurement'.padEnd(width)}  ${'p50 ms'.padStart(7)}  ${'p95 ms'.padStart(7)}  ${'vs baseline'.padStart(11)}  ${'vs peer'.padStart(8)}`,
  ];
  for (const [i, r] of rows.entries()) {
    const m = p50(r.samples);
    const vsBase = i === 0 ? 'baseline' : r.alone || r.peer ? '' : `${(m - base >= 0 ? '+' : '') + (m - base).toFixed(2)} ms`;
    const vsPeer = r.peer ? 'peer' : r.alone ? `${(m / peerP50).toFixed(1)}x` : '';
    lines.push(`${r.what.padEnd(width)}  ${m.toFixed(2).padStart(7)}  ${p95(r.samples).toFixed(2).padStart(7)}  ${vsBase.padStart(11)}  ${vsPeer.padStart(8)}`);
  }
  const worst = Math.max(...rows.filter((r) => r.alone).map((r) => p50(r.samples)));
  lines.push(
    `target: matching a submission against ${PEOPLE.toLocaleString('en')} people adds <= ${TARGET_MS} ms p50: ${worst <= TARGET_MS ? 'pass' : 'MISS'} (${worst.toFixed(2)} ms at worst, matching alone)`,
  );
  lines.push(
    `(load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on this machine at the end of the run)`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** The birth date SQL gave person k: 1970-01-01 plus (k mod 20000) days. */
function dobOf(k: number): string {
  return new Date(Date.UTC(1970, 0, 1) + (k % 20_000) * 86_400_000).toISOString().slice(0, 10);
}

await main();
