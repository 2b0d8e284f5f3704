// Consent ingest: POST /api/v1/consent (a banner choice of three purposes: one receipt, three ledger events and an
// audit event, committed before 201) against, in the same run on the same PostgreSQL, the c15t consent backend (the
// closest open-source peer, from ../shared/peers/c15t), the bare single-INSERT baseline server from the same folder,
// and a Fastify route doing nothing. Then the same Custodian run again with 1,000,000 consents already stored.
// Every server runs in a process of its own; the load (autocannon, 10 connections, a fresh visitor per request)
// runs in this one. Targets: ≥ 25× c15t, ≥ 3× the baseline, p99 ≤ 25 ms, with and without the million.
// Run: node bench/consent-bench.ts   (DATABASE_URL, default the local server; the peer is copied to a scratch folder
// outside the repository and installed with npm the first time: CONSENT_BENCH_PEER names another folder.)
// Knobs: CONSENT_BENCH_SECONDS (10), CONSENT_BENCH_CONNECTIONS (10), CONSENT_BENCH_STORED (1,000,000).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { sql } from 'kysely';
import { reconcileLedger } from '../consent/consent-store.ts';
import { connect } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SECONDS = Number(process.env.CONSENT_BENCH_SECONDS ?? 10);
const WARMUP = 3;
const CONNECTIONS = Number(process.env.CONSENT_BENCH_CONNECTIONS ?? 10);
const STORED = Number(process.env.CONSENT_BENCH_STORED ?? 1_000_000);
const root = fileURLToPath(new URL('..', import.meta.url));
const PEER_SOURCE = fileURLToPath(new URL('../../shared/peers/c15t', import.meta.url));
const PEER = process.env.CONSENT_BENCH_PEER ?? join(tmpdir(), 'custodian-c15t-peer');

const dbUrl = (name: string) => {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
};

// ---- the peer: copied outside the repository, installed once --------------------------------------------------

if (!existsSync(join(PEER, 'node_modules', '@c15t', 'backend'))) {
  process.stdout.write(`installing the c15t peer in ${PEER} (npm install, once)\n`);
  cpSync(PEER_SOURCE, PEER, { recursive: true });
  execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: PEER, stdio: 'inherit' });
}
const peerRequire = createRequire(join(PEER, 'package.json'));
const autocannon = peerRequire('autocannon') as (opts: Record<string, unknown>, cb: (err: unknown, r: AutocannonResult) => void) => unknown;

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

// ---- databases ----------------------------------------------------------------------------------------------------

const admin = new pg.Client({ connectionString: url });
await admin.connect();
for (const name of ['c15t_peer_bench', 'baseline_peer_bench']) {
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
}
const baselineDb = new pg.Client({ connectionString: dbUrl('baseline_peer_bench') });
await baselineDb.connect();
await baselineDb.query(readFileSync(join(PEER, 'baseline-schema.sql'), 'utf8'));
await baselineDb.end();
execFileSync(process.execPath, ['migrate.mjs'], { cwd: PEER, env: { ...process.env, DATABASE_URL: dbUrl('c15t_peer_bench') }, stdio: 'ignore' });
const schema = `consent_bench_${randomBytes(4).toString('hex')}`;
const db = await connect({ url, schema, poolSize: 4 });
await migrate(db);

// ---- servers --------------------------------------------------------------------------------------------------

const children: ChildProcess[] = [];
async function start(args: string[], cwd: string, env: Record<string, string>, port: number): Promise<void> {
  const child = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
    child.stdout!.on('data', (d: Buffer) => {
      if (/listening|ready/.test(d.toString())) resolve();
    });
  });
}
const stopAll = () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && !c.killed) c.kill('SIGTERM');
};
const stopped = () => Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode !== null ? null : new Promise((r) => c.once('exit', r)))));
process.once('exit', stopAll);

const PORTS = { c15t: 3301, baseline: 3302, noop: 3303, custodian: 3304 };
await start(['c15t-server.mjs'], PEER, { DATABASE_URL: dbUrl('c15t_peer_bench'), PG_POOL_MAX: '10' }, PORTS.c15t);
await start(['baseline-server.mjs'], PEER, { DATABASE_URL: dbUrl('baseline_peer_bench'), PG_POOL_MAX: '10' }, PORTS.baseline);
await start(['bench/consent-bench-server.ts', 'noop', String(PORTS.noop)], root, {}, PORTS.noop);
await start(['bench/consent-bench-server.ts', 'custodian', String(PORTS.custodian), schema], root, { DATABASE_URL: url }, PORTS.custodian);

// ---- load -----------------------------------------------------------------------------------------------------

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const rnd = (n: number) => Array.from({ length: n }, () => B58[(Math.random() * 58) | 0]).join('');
let seq = 0;
const t0 = Date.now();
const peerBody = () =>
  JSON.stringify({
    type: 'cookie_banner',
    subjectId: `sub_${rnd(16)}`,
    domain: 'example.com',
    policyVersion: '1.0.0',
    preferences: { necessary: true, measurement: seq % 2 === 0, marketing: seq % 3 === 0 },
    givenAt: t0 + seq++,
    consentAction: 'custom',
  });
const custodianBody = () =>
  JSON.stringify({ visitorId: `v_${rnd(22)}`, purposes: { analytics: seq % 2 === 0, newsletter: seq++ % 3 === 0, 'contact-forms': false } });

function load(target: string, body: () => string, seconds: number): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: target,
        method: 'POST',
        connections: CONNECTIONS,
        duration: seconds,
        timeout: 10,
        headers: { 'content-type': 'application/json', 'x-c15t-country': 'DE', 'x-forwarded-for': '203.0.113.7' },
        requests: [{ setupRequest: (req: object) => ({ ...req, body: body() }) }],
      },
      (err, r) => (err ? reject(err) : resolve(r)),
    );
  });
}

interface Row {
  readonly name: string;
  readonly r: AutocannonResult;
}
const rows: Row[] = [];
let warmed = 0;
async function measure(name: string, target: string, body: () => string): Promise<AutocannonResult> {
  warmed = (await load(target, body, WARMUP))['2xx'];
  const r = await load(target, body, SECONDS);
  rows.push({ name, r });
  process.stdout.write(`${name}: ${Math.round(r.requests.average)}/s p50 ${r.latency.p50} ms p99 ${r.latency.p99} ms non-2xx ${r.non2xx}\n`);
  return r;
}

const ledgerCount = async () => Number((await sql<{ n: string }>`SELECT count(*)::text AS n FROM consent_event`.execute(db.kysely)).rows[0]!.n);

await measure('Fastify route doing nothing', `http://127.0.0.1:${PORTS.noop}/consent`, custodianBody);
const baseline = await measure('bare single-INSERT server (baseline)', `http://127.0.0.1:${PORTS.baseline}/consent`, peerBody);
const c15t = await measure('c15t (@c15t/backend 2.2.1)', `http://127.0.0.1:${PORTS.c15t}/api/c15t/subjects`, peerBody);
const before = await ledgerCount();
const empty = await measure('Custodian POST /api/v1/consent', `http://127.0.0.1:${PORTS.custodian}/api/v1/consent`, custodianBody);
const written = (await ledgerCount()) - before;
const answered = warmed + empty['2xx'];

process.stdout.write(`storing ${STORED.toLocaleString('en')} consents …\n`);
await sql`
  INSERT INTO consent_event (id, receipt_id, visitor_id, purpose, state, method, notice_fingerprint, at)
  SELECT gen_random_uuid(), gen_random_uuid(), 'bulk_' || g, (ARRAY['analytics', 'newsletter', 'contact-forms'])[1 + g % 3],
         CASE WHEN g % 2 = 0 THEN 'given' ELSE 'refused' END, 'banner', 'bulk', now() - make_interval(secs => g)
  FROM generate_series(1, ${STORED}::int) AS g`.execute(db.kysely);
await sql`VACUUM ANALYZE consent_event`.execute(db.kysely);
await sql`CHECKPOINT`.execute(db.kysely);
const full = await measure(`Custodian, ${STORED.toLocaleString('en')} consents stored`, `http://127.0.0.1:${PORTS.custodian}/api/v1/consent`, custodianBody);

// ---- the table ------------------------------------------------------------------------------------------------

const rate = (r: AutocannonResult) => r.requests.average;
const fmt = (n: number) => Math.round(n).toLocaleString('en');
const lines = [
  `| row | writes/s | p50 ms | p99 ms | non-2xx | × c15t | × baseline |`,
  `|---|---:|---:|---:|---:|---:|---:|`,
  ...rows.map(
    ({ name, r }) =>
      `| ${name} | ${fmt(rate(r))} | ${r.latency.p50} | ${r.latency.p99} | ${r.non2xx + r.errors + r.timeouts} | ${(rate(r) / rate(c15t)).toFixed(1)} | ${(rate(r) / rate(baseline)).toFixed(2)} |`,
  ),
];
const verdict = (name: string, r: AutocannonResult) =>
  [
    rate(r) / rate(c15t) >= 25 ? `${name}: ≥ 25× c15t ok` : `${name}: ≥ 25× c15t MISS`,
    rate(r) / rate(baseline) >= 3 ? '≥ 3× baseline ok' : '≥ 3× baseline MISS',
    r.latency.p99 <= 25 ? 'p99 ≤ 25 ms ok' : 'p99 ≤ 25 ms MISS',
  ].join(', ');
process.stdout.write(`\n## consent ingest (${CONNECTIONS} connections, ${SECONDS} s after ${WARMUP} s warm-up, a fresh visitor per request)\n\n`);
process.stdout.write(`${lines.join('\n')}\n\n`);
process.stdout.write(`${verdict('empty ledger', empty)}\n${verdict(`${STORED.toLocaleString('en')} stored`, full)}\n`);
process.stdout.write(
  `every 201 committed: ${written} ledger events for ${answered} answers of 3 purposes, warm-up included (${written >= answered * 3 ? 'ok' : 'MISMATCH: an answered choice is missing'}; requests still in flight when a run ends are committed but not counted as answered)\n`,
);
// Holding the whole ledger to the trail (`custodian audit verify`): every digest recomputed in SQL, every row looked up.
// The bulk rows above were written without audit events, so they are all named as unvouched, as they must be.
{
  const rows = await ledgerCount();
  const started = performance.now();
  const r = await reconcileLedger(db.kysely);
  process.stdout.write(
    `ledger held to the trail: ${rows.toLocaleString('en')} rows in ${Math.round(performance.now() - started).toLocaleString('en')} ms; ${r.altered} receipts altered, ${r.unvouched.toLocaleString('en')} rows unvouched (the ${STORED.toLocaleString('en')} bulk rows: ${r.unvouched === STORED ? 'ok' : 'MISMATCH'})\n`,
  );
}
process.stdout.write(
  `load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n`,
);

stopAll();
await stopped();
// A server's last connections may still hold locks for a moment after it exits: retry a deadlocked drop.
for (let attempt = 1; ; attempt++) {
  try {
    await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(db.kysely);
    break;
  } catch (e) {
    if (attempt === 5) throw e;
    await new Promise((r) => setTimeout(r, 500 * attempt));
  }
}
await db.close();
for (const name of ['c15t_peer_bench', 'baseline_peer_bench']) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
await admin.end();
