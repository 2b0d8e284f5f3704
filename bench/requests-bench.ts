// What answering rights requests costs as the database grows: the access answer for one person (Art. 15: their
// records read, sealed values opened and the opening audited, every Art. 15 item computed from the register) and the
// erasure of a person with 1,000 records (decided per record: most erased, those a legal obligation keeps restricted,
// each decision kept as evidence, Art. 19 notices), at 100,000 and at 1,000,000 people holding 20 records each, in
// the same run on the same server. Each is compared with the plain indexed statement on the same rows: a
// `SELECT * FROM record WHERE subject_id = $1` for the answer, an `UPDATE record SET value_text = NULL WHERE
// subject_id = $1` for the erasure.
// Run: node bench/requests-bench.ts  (DATABASE_URL, default the local server; a fresh schema, dropped after).
// Targets, at 1,000,000 people: the access answer <= 150 ms p50; erasing a person with 1,000 records <= 1 s p50.
//
// The crowd is written by set-based SQL (generate_series), with the record and identifier indexes dropped during the
// load and rebuilt after it, exactly as the migrations define them (checked). The people measured are written from
// Node with real data keys and real sealed values, so the answer opens real ciphertext; their requests go through
// the request service (received verified, linked by staff, a health professional's opinion recorded).
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type pg from 'pg';
import { type AppContext, createAppContext } from '../app/app-context.ts';
import { systemClock } from '../core/clock.ts';
import { silentLogger } from '../core/logger.ts';
import { keyringOf } from '../crypto/keyring.ts';
import { masterKey } from '../crypto/master-key.ts';
import { sealValue } from '../crypto/seal.ts';
import { connect, type Db, describeUrl } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { loadRegisterFile } from '../register/load-register.ts';
import { buildAccessAnswer } from '../requests/access-answer.ts';
import { fulfilErasure, recordHealthOpinion } from '../requests/fulfil.ts';
import { linkRequestSubject, receiveRequest } from '../requests/request-service.ts';
import { emptyRecordColumns, insertRecordsSql } from '../subjects/subjects-store.ts';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SIZES = (process.env.REQUESTS_BENCH_SIZES ?? '100000,1000000').split(',').map(Number);
const ACCESS_N = Number(process.env.REQUESTS_BENCH_ACCESS_N ?? 50);
const ERASE_N = Number(process.env.REQUESTS_BENCH_ERASE_N ?? 8);
/** Keep the schema afterwards (for EXPLAIN ANALYZE by hand); its name is printed. */
const KEEP = process.env.REQUESTS_BENCH_KEEP === '1';
const ACCESS_WARM = 5;
const ERASE_WARM = 1;
const RECORDS_EACH = 20;
const ERASE_RECORDS = 1_000;
/** Of the erased person's records, how many a legal obligation keeps (healthcare-records). */
const ERASE_KEPT = 100;
const ACCESS_TARGET_MS = 150;
const ERASE_TARGET_MS = 1_000;
/** People per INSERT statement while filling. */
const CHUNK = 50_000;

const loaded = loadRegisterFile(fileURLToPath(new URL('../examples/image-diagnostic-technology/register.yaml', import.meta.url)));
if (!loaded.ok) throw new Error('the example register does not load');
const register = loaded.register;

/** One person's 20 records: three scan requests of the `scan-request` point (the third without an email). */
const SHAPE = [1, 2, 3].flatMap((sub) =>
  ['patient.name', 'patient.dob', 'patient.phone', 'patient.email', 'patient.reference', 'scan.type', 'scan.area']
    .filter((field) => !(sub === 3 && field === 'patient.email'))
    .map((field) => ({ sub, field, category: field.startsWith('scan.') ? 'scan-request' : 'patient-contact', sealed: field.startsWith('scan.') })),
);
if (SHAPE.length !== RECORDS_EACH) throw new Error('the record shape must have 20 records');
const SEALED_EACH = SHAPE.filter((s) => s.sealed).length;

const say = (line: string) => process.stderr.write(`${line}\n`);
const secs = (ms: number) => `${(ms / 1000).toFixed(0)} s`;

function quantile(samples: readonly number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!;
}

/** The plaintext of person `tag`'s record of `field` in submission `sub`. */
function plaintextOf(tag: string, field: string, sub: number): string {
  switch (field) {
    case 'patient.name':
      return `Measured Person ${tag}`;
    case 'patient.dob':
      return '1984-03-07';
    case 'patient.phone':
      return `+4479${tag.replace(/\D/g, '').padStart(8, '0').slice(-8)}`;
    case 'patient.email':
      return `${tag}@measured.example`;
    case 'patient.reference':
      return `M-${tag}`;
    case 'scan.type':
      return sub % 2 ? 'Medical CT' : 'CBCT (cone beam CT)';
    default:
      return `Lower left molar ${sub}, suspected cyst, person ${tag}`;
  }
}

// ---- The crowd: set-based SQL ----

const idOf = (g: string) => `md5('bench-person-' || ${g})::uuid`;
const fakeSealed = (seed: string) => `decode('01' || md5(${seed} || 'a') || md5(${seed} || 'b') || md5(${seed} || 'c'), 'hex')`;

function fillStatements(from: number, to: number): string[] {
  const people = `generate_series(${from}, ${to}) g`;
  const shape = SHAPE.map((s, j) => `(${j}, ${s.sub}, '${s.field}', '${s.category}', ${s.sealed})`).join(', ');
  return [
    `INSERT INTO subject (id, kind, created_at) SELECT ${idOf('g')}, 'patient', now() - (g % 1500) * interval '1 day' FROM ${people}`,
    `INSERT INTO subject_identifier (kind, value, scope, strong, verified, subject_id, created_at)
     SELECT k.kind,
            CASE k.kind WHEN 'email' THEN 'p' || g || '@patients.example' WHEN 'phone' THEN '+4420' || lpad((10000000 + g)::text, 8, '0') ELSE 'R' || g END,
            CASE k.kind WHEN 'patient-number' THEN 'referrer.email=desk' || (g % 2000) || '@practice.example' ELSE '*' END,
            k.kind = 'patient-number', false, ${idOf('g')}, now() - (g % 1500) * interval '1 day'
     FROM ${people} CROSS JOIN (VALUES ('email'), ('phone'), ('patient-number')) AS k(kind)`,
    `INSERT INTO subject_key (subject_id, master_key_id, wrapped_key, created_at)
     SELECT ${idOf('g')}, 'bench-1', decode('01' || md5(g || 'k') || md5(g || 'l') || md5(g || 'm') || substr(md5(g || 'n'), 1, 24), 'hex'),
            now() - (g % 1500) * interval '1 day'
     FROM ${people}`,
    `INSERT INTO record (id, subject_id, collection_point, field, category, purposes, bases, source, channel, collected_at,
                         retention_event, retention_starts_at, value_text, value_sealed, register_fingerprint)
     SELECT gen_random_uuid(), ${idOf('g')}, 'scan-request', f.field, f.category, '{provide-scan,healthcare-records}', '{contract,legal-obligation}',
            'clinician', 'web', t.at, 'collected', t.at,
            CASE WHEN f.sealed THEN NULL
                 WHEN f.field = 'patient.name' THEN 'Patient ' || g
                 WHEN f.field = 'patient.dob' THEN ('1940-01-01'::date + (g % 25000))::text
                 WHEN f.field = 'patient.phone' THEN '+4420' || lpad((10000000 + g)::text, 8, '0')
                 WHEN f.field = 'patient.email' THEN 'p' || g || '@patients.example'
                 ELSE 'R' || g END,
            CASE WHEN f.sealed THEN ${fakeSealed("g || '.' || f.j")} END,
            '${register.fingerprint}'
     FROM ${people}
          CROSS JOIN (VALUES ${shape}) AS f(j, sub, field, category, sealed)
          CROSS JOIN LATERAL (SELECT now() - ((g % 1500) + (3 - f.sub) * 40) * interval '1 day' AS at) t`,
  ];
}

interface Defs {
  readonly constraints: { name: string; tbl: string; type: string; def: string }[];
  readonly indexes: { name: string; def: string }[];
}

async function definitions(client: pg.PoolClient, tables: readonly string[]): Promise<Defs> {
  const constraints = await client.query<{ name: string; tbl: string; type: string; def: string }>(
    `SELECT c.conname AS name, c.conrelid::regclass::text AS tbl, c.contype AS type, pg_get_constraintdef(c.oid) AS def
     FROM pg_constraint c
     WHERE c.contype IN ('p', 'u', 'f') AND (c.conrelid = ANY($1::regclass[]) OR (c.contype = 'f' AND c.confrelid = ANY($1::regclass[])))
     ORDER BY 1, 2`,
    [tables],
  );
  const indexes = await client.query<{ name: string; def: string }>(
    `SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
     FROM pg_index i
     WHERE i.indrelid = ANY($1::regclass[])
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.contype IN ('p', 'u', 'x') AND c.conindid = i.indexrelid)
     ORDER BY 1`,
    [tables],
  );
  return { constraints: constraints.rows, indexes: indexes.rows };
}

/** Fills people `from`..`to` (by number) with the record and identifier indexes and keys dropped, then rebuilds them. */
async function fillCrowd(db: Db, from: number, to: number): Promise<void> {
  const tables = ['record', 'subject_identifier'];
  await db.withPgClient!(async (client) => {
    const before = await definitions(client, tables);
    for (const c of before.constraints.filter((x) => x.type === 'f')) await client.query(`ALTER TABLE ${c.tbl} DROP CONSTRAINT "${c.name}"`);
    for (const c of before.constraints.filter((x) => x.type !== 'f')) await client.query(`ALTER TABLE ${c.tbl} DROP CONSTRAINT "${c.name}"`);
    for (const i of before.indexes) await client.query(`DROP INDEX ${i.name}`);

    const chunks: [number, number][] = [];
    for (let a = from; a <= to; a += CHUNK) chunks.push([a, Math.min(to, a + CHUNK - 1)]);
    let next = 0;
    let done = 0;
    const started = performance.now();
    // Two loaders, one connection each: the machine has two cores.
    const loader = () =>
      db.withPgClient!(async (c) => {
        for (let k = next++; k < chunks.length; k = next++) {
          const [a, b] = chunks[k]!;
          for (const statement of fillStatements(a, b)) await c.query(statement);
          done += b - a + 1;
          if (k % 4 === 3) say(`    ${done.toLocaleString('en')} of ${(to - from + 1).toLocaleString('en')} people in ${secs(performance.now() - started)}`);
        }
      });
    await Promise.all([loader(), loader()]);
    say(`    rows written in ${secs(performance.now() - started)}; rebuilding keys and indexes`);

    const rebuilt = performance.now();
    await client.query(`SET maintenance_work_mem = '512MB'`);
    for (const c of before.constraints.filter((x) => x.type !== 'f')) await client.query(`ALTER TABLE ${c.tbl} ADD CONSTRAINT "${c.name}" ${c.def}`);
    for (const i of before.indexes) await client.query(i.def);
    for (const c of before.constraints.filter((x) => x.type === 'f')) await client.query(`ALTER TABLE ${c.tbl} ADD CONSTRAINT "${c.name}" ${c.def}`);
    await client.query('RESET maintenance_work_mem');
    const after = await definitions(client, tables);
    if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error('the rebuilt keys and indexes differ from the migrations');
    say(`    keys and indexes rebuilt in ${secs(performance.now() - rebuilt)}; ANALYZE, CHECKPOINT`);
    await client.query('ANALYZE');
    await client.query('CHECKPOINT'); // the load's dirty pages written now, not during the measurements
  });
}

// ---- The people measured: written from Node, with real keys and seals ----

async function writePerson(
  ctx: AppContext,
  records: readonly { field: string; category: string; sub: number; purposes: string; bases: string; sealed: boolean }[],
  tag: string,
) {
  const id = randomUUID();
  const now = new Date();
  await ctx.db.kysely.transaction().execute(async (trx) => {
    await trx.insertInto('subject').values({ id, kind: 'patient', created_at: now }).execute();
    await trx
      .insertInto('subject_identifier')
      .values([
        { kind: 'email', value: plaintextOf(tag, 'patient.email', 1), scope: '*', strong: false, verified: false, subject_id: id, created_at: now },
        { kind: 'phone', value: plaintextOf(tag, 'patient.phone', 1), scope: '*', strong: false, verified: false, subject_id: id, created_at: now },
        {
          kind: 'patient-number',
          value: plaintextOf(tag, 'patient.reference', 1),
          scope: 'referrer.email=desk1@practice.example',
          strong: true,
          verified: false,
          subject_id: id,
          created_at: now,
        },
      ])
      .execute();
    const dek = await ctx.subjectKeys.getOrCreate(trx, id, now);
    const columns = emptyRecordColumns();
    for (const r of records) {
      const recordId = randomUUID();
      const value = plaintextOf(tag, r.field, r.sub);
      columns.id.push(recordId);
      columns.subjectId.push(id);
      columns.point.push('scan-request');
      columns.field.push(r.field);
      columns.category.push(r.category);
      columns.purposes.push(r.purposes);
      columns.bases.push(r.bases);
      columns.source.push('clinician');
      columns.channel.push('web');
      columns.receivedAt.push(null);
      columns.retentionEvent.push('collected');
      columns.retentionStartsAt.push(now);
      columns.text.push(r.sealed ? null : value);
      columns.sealed.push(r.sealed ? Buffer.from(sealValue(dek, value, recordId)).toString('hex') : null);
    }
    await insertRecordsSql(columns, register.fingerprint, now).execute(trx);
    // What went to the imaging centre for the first scan: the answer lists it, the erasure notifies it (Art. 19).
    await trx
      .insertInto('disclosure')
      .values({
        id: randomUUID(),
        subject_id: id,
        recipient: 'imaging-centres',
        purpose: 'provide-scan',
        categories: ['patient-contact', 'scan-request'],
        record_ids: columns.id.slice(0, 7),
        disclosed_at: now,
        recorded_at: now,
        recorded_by: 'staff:bench',
        reference: null,
      })
      .execute();
  });
  return id;
}

/** A request received by staff, identity checked (a document seen), linked to the person. */
async function requestFor(ctx: AppContext, type: 'access' | 'erasure', subjectId: string, tag: string): Promise<string> {
  const actor = 'staff:bench';
  const { request } = await receiveRequest(ctx, {
    type,
    channel: 'email',
    receivedAt: new Date(Date.now() - 86_400_000),
    email: plaintextOf(tag, 'patient.email', 1),
    name: plaintextOf(tag, 'patient.name', 1),
    actor,
    needsConfirmation: false,
    verification: { method: 'document-seen', seen: 'passport', by: actor, at: new Date().toISOString() },
  });
  await linkRequestSubject(ctx, request.id, { subjectId, actor });
  if (type === 'access') {
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    await recordHealthOpinion(ctx, request.id, { professional: 'Dr A. Jones, consultant radiologist', givenOn: yesterday, decision: 'release', actor });
  }
  return request.id;
}

const accessShape = SHAPE.map((s) => ({ ...s, purposes: '{provide-scan,healthcare-records}', bases: '{contract,legal-obligation}' }));
/** 1,000 records: the first 100 kept by healthcare-records (a legal obligation), the other 900 under provide-scan only. */
const eraseShape = Array.from({ length: ERASE_RECORDS }, (_, j) => {
  const s = SHAPE[j % SHAPE.length]!;
  const kept = j < ERASE_KEPT;
  return {
    ...s,
    sub: 1 + Math.floor(j / 7),
    purposes: kept ? '{provide-scan,healthcare-records}' : '{provide-scan}',
    bases: kept ? '{contract,legal-obligation}' : '{contract}',
  };
});

interface Row {
  readonly people: number;
  readonly fillMs: number;
  readonly access: number[];
  readonly accessBase: number[];
  readonly erase: number[];
  readonly eraseBase: number[];
}

async function measure(setup: AppContext, measured: AppContext, people: number, fillMs: number): Promise<Row> {
  const round = `r${people}`;
  const access: { subjectId: string; requestId: string }[] = [];
  for (let i = 0; i < ACCESS_WARM + ACCESS_N; i++) {
    const tag = `${round}a${i}`;
    const subjectId = await writePerson(setup, accessShape, tag);
    access.push({ subjectId, requestId: await requestFor(setup, 'access', subjectId, tag) });
  }
  const erase: { subjectId: string; requestId: string }[] = [];
  for (let i = 0; i < ERASE_WARM + ERASE_N; i++) {
    const tag = `${round}e${i}`;
    const subjectId = await writePerson(setup, eraseShape, tag);
    erase.push({ subjectId, requestId: await requestFor(setup, 'erasure', subjectId, tag) });
  }
  const row: Row = { people, fillMs, access: [], accessBase: [], erase: [], eraseBase: [] };
  const kysely = measured.db.kysely;

  // Access: the answer and the plain read of the same rows, in turn, the order alternating from person to person.
  for (const [i, p] of access.entries()) {
    const warm = i < ACCESS_WARM;
    const answer = async () => {
      const t0 = performance.now();
      const a = await buildAccessAnswer(measured, p.requestId, { actor: 'staff:bench' });
      const ms = performance.now() - t0;
      const opened = a.records.filter((r) => r.value !== null).length;
      if (a.records.length !== RECORDS_EACH || opened !== RECORDS_EACH || a.recipients.disclosed.length !== 1)
        throw new Error(`the answer has ${a.records.length} records, ${opened} readable, ${a.recipients.disclosed.length} disclosures`);
      if (!warm) row.access.push(ms);
    };
    const plain = async () => {
      const t0 = performance.now();
      const { rows } = await sql`SELECT * FROM record WHERE subject_id = ${p.subjectId}`.execute(kysely);
      const ms = performance.now() - t0;
      if (rows.length !== RECORDS_EACH) throw new Error(`the plain read found ${rows.length} records`);
      if (!warm) row.accessBase.push(ms);
    };
    if (i % 2) {
      await answer();
      await plain();
    } else {
      await plain();
      await answer();
    }
  }

  // Erasure: the request fulfilled, then the plain UPDATE of the same rows (after, so the erasure finds them as written).
  for (const [i, p] of erase.entries()) {
    const warm = i < ERASE_WARM;
    const t0 = performance.now();
    const outcome = await fulfilErasure(measured, p.requestId, { actor: 'staff:bench' });
    const ms = performance.now() - t0;
    if (outcome.erased !== ERASE_RECORDS - ERASE_KEPT || outcome.kept.length !== ERASE_KEPT)
      throw new Error(`the erasure erased ${outcome.erased} and kept ${outcome.kept.length}`);
    const t1 = performance.now();
    const { numAffectedRows } = await sql`UPDATE record SET value_text = NULL WHERE subject_id = ${p.subjectId}`.execute(kysely);
    const baseMs = performance.now() - t1;
    if (Number(numAffectedRows) !== ERASE_RECORDS) throw new Error(`the plain UPDATE changed ${numAffectedRows} rows`);
    if (!warm) {
      row.erase.push(ms);
      row.eraseBase.push(baseMs);
    }
  }
  return row;
}

async function main(): Promise<void> {
  const schema = `bench_requests_${randomBytes(4).toString('hex')}`;
  const db = await connect({ url, schema, poolSize: 4 });
  const keyring = keyringOf([masterKey('bench-1', randomBytes(32))]);
  const context = () => createAppContext({ db, register, clock: systemClock, keyring, log: silentLogger });
  // The people are written by one context; the requests are answered by another, whose key cache starts empty.
  const setup = context();
  const measured = context();
  const rows: Row[] = [];
  try {
    await migrate(db);
    say(
      `requests bench on ${db.location}: ${ACCESS_N} access answers (${RECORDS_EACH} records each) and ${ERASE_N} erasures (${ERASE_RECORDS} records each) at ${SIZES.map((n) => n.toLocaleString('en')).join(' and ')} people`,
    );
    let crowd = 0; // people written by SQL so far
    let written = 0; // people written from Node so far
    const perRound = ACCESS_WARM + ACCESS_N + ERASE_WARM + ERASE_N;
    for (const people of SIZES) {
      const target = people - written - perRound;
      if (target < crowd) throw new Error('sizes must grow');
      say(`  filling to ${people.toLocaleString('en')} people (${(people * RECORDS_EACH).toLocaleString('en')} records)`);
      const started = performance.now();
      if (target > crowd) await fillCrowd(db, crowd + 1, target);
      const fillMs = performance.now() - started;
      say(`  filled in ${secs(fillMs)}; measuring`);
      crowd = target;
      written += perRound;
      rows.push(await measure(setup, measured, people, fillMs));
      const { rows: size } = await sql<{ records: string; bytes: string }>`
        SELECT (SELECT count(*) FROM subject)::text AS records, pg_size_pretty(pg_total_relation_size('record')) AS bytes`.execute(db.kysely);
      say(`  ${Number(size[0]!.records).toLocaleString('en')} people, record table ${size[0]!.bytes} with its indexes`);
    }
  } finally {
    await setup.mailer.close();
    await measured.mailer.close();
    if (KEEP) say(`schema ${schema} kept (REQUESTS_BENCH_KEEP=1): drop it with DROP SCHEMA ${schema} CASCADE`);
    else await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db.kysely).catch(() => {});
    await db.close();
  }

  const p50 = (s: number[]) => quantile(s, 0.5);
  const p95 = (s: number[]) => quantile(s, 0.95);
  const f = (ms: number) => ms.toFixed(ms < 10 ? 2 : 1);
  const header = ['people', 'answer p50', 'p95', 'plain read p50', 'ratio', 'erasure p50', 'plain UPDATE p50', 'ratio', 'fill'];
  const table = rows.map((r) => [
    r.people.toLocaleString('en'),
    `${f(p50(r.access))} ms`,
    `${f(p95(r.access))} ms`,
    `${f(p50(r.accessBase))} ms`,
    `${(p50(r.access) / p50(r.accessBase)).toFixed(1)}x`,
    `${f(p50(r.erase))} ms`,
    `${f(p50(r.eraseBase))} ms`,
    `${(p50(r.erase) / p50(r.eraseBase)).toFixed(1)}x`,
    secs(r.fillMs),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [
    `PostgreSQL ${describeUrl(url)}; ${RECORDS_EACH} records a person (${SEALED_EACH} sealed); access: ${ACCESS_N} people, each answer and plain read once;` +
      ` erasure: ${ERASE_N} people of ${ERASE_RECORDS} records (${ERASE_RECORDS - ERASE_KEPT} erased, ${ERASE_KEPT} kept and restricted)`,
    line(header),
    ...table.map(line),
  ];
  const last = rows.at(-1)!;
  const first = rows[0]!;
  out.push(
    `target at ${last.people.toLocaleString('en')} people: access answer <= ${ACCESS_TARGET_MS} ms p50: ${p50(last.access) <= ACCESS_TARGET_MS ? 'pass' : 'MISS'} (${f(p50(last.access))} ms);` +
      ` erasure of ${ERASE_RECORDS.toLocaleString('en')} records <= ${ERASE_TARGET_MS} ms p50: ${p50(last.erase) <= ERASE_TARGET_MS ? 'pass' : 'MISS'} (${f(p50(last.erase))} ms)`,
  );
  if (rows.length > 1)
    out.push(
      `growth from ${first.people.toLocaleString('en')} to ${last.people.toLocaleString('en')} people (p50): answer ${(p50(last.access) / p50(first.access)).toFixed(2)}x,` +
        ` plain read ${(p50(last.accessBase) / p50(first.accessBase)).toFixed(2)}x, erasure ${(p50(last.erase) / p50(first.erase)).toFixed(2)}x,` +
        ` plain UPDATE ${(p50(last.eraseBase) / p50(first.eraseBase)).toFixed(2)}x`,
    );
  out.push(
    `(load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on this machine at the end of the run)`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
