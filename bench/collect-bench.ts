// What collecting a submission costs: the real POST /api/v1/collect/scan-request (validation, identifier matching,
// a per-subject data key, sealed values, audit events, one transaction) against, in the same run on the same
// server, a bare INSERT of one equivalent row per transaction and a bare Fastify route doing that INSERT.
// Run: node bench/collect-bench.ts  (DATABASE_URL, default the local server; a fresh schema, dropped after).
// Target: >= 1,000 submissions/s over HTTP with encryption and audit on.
// The load generator runs in a worker thread (its own core, as clients elsewhere would), over keep-alive sockets.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import Fastify from 'fastify';
import { sql, type Kysely } from 'kysely';
import { createAppContext } from '../app/app-context.ts';
import { FileWitness } from '../audit/witness.ts';
import { systemClock } from '../core/clock.ts';
import { keyringOf } from '../crypto/keyring.ts';
import { masterKey } from '../crypto/master-key.ts';
import { connect, describeUrl } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { buildApp } from '../http/app.ts';
import { loadRegisterFile } from '../register/load-register.ts';
import { Collector } from '../subjects/collect/collector.ts';
import { silentLogger } from '../core/logger.ts';
import { scanRequest } from '../test/helpers/scan-request.ts';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TOTAL = Number(process.env.COLLECT_BENCH_N ?? 5_000);
const CONCURRENCY = Number(process.env.COLLECT_BENCH_CONCURRENCY ?? 32);
const POOL = Number(process.env.COLLECT_BENCH_POOL ?? CONCURRENCY);
/** Comma-separated subset of insert, http-bare, direct, http, http-checkpoints (for profiling one); all by default. */
const ONLY = new Set((process.env.COLLECT_BENCH_ONLY ?? 'insert,http-bare,direct,http,http-checkpoints').split(','));
/** How often the checkpointed run signs and witnesses a checkpoint (the server does it once a minute). */
const CHECKPOINT_EVERY_MS = 1_000;
const WARMUP = Math.min(500, Math.ceil(TOTAL / 10));
const TARGET = 1_000;
const POINT_PATH = '/api/v1/collect/scan-request';

function submission(run: string, i: number) {
  return scanRequest(run, i, `Lower left molar, suspected cyst; CBCT of the mandible requested before extraction (${i})`);
}
type Submission = ReturnType<typeof submission>;

interface LoadJob {
  readonly base: string;
  readonly run: string;
  readonly first: number;
  readonly count: number;
  readonly concurrency: number;
}
interface LoadResult {
  readonly ok: number;
  readonly failed: number;
  readonly seconds: number;
  /** CPU the load generator's own thread used, from its start. */
  readonly loadCpuSeconds: number;
  readonly firstFailure?: string;
}

/** The worker: `concurrency` clients, each posting one submission after another until `count` are done. */
async function generateLoad(job: LoadJob): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: job.concurrency });
  const target = new URL(POINT_PATH, job.base);
  let next = 0;
  let ok = 0;
  let failed = 0;
  let firstFailure: string | undefined;
  const post = (body: string) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(
        target,
        { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (text += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: job.concurrency }, async () => {
      while (next < job.count) {
        const i = job.first + next++;
        try {
          const res = await post(JSON.stringify(submission(job.run, i)));
          if (res.status === 201) ok++;
          else {
            failed++;
            firstFailure ??= `${res.status} ${res.text.slice(0, 300)}`;
          }
        } catch (e) {
          failed++;
          firstFailure ??= (e as Error).message;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.threadCpuUsage(); // since this thread started, its start-up included
  agent.destroy();
  return { ok, failed, seconds, loadCpuSeconds: (cpu.user + cpu.system) / 1e6, ...(firstFailure ? { firstFailure } : {}) };
}

if (!isMainThread) {
  parentPort!.postMessage(await generateLoad(workerData as LoadJob));
} else {
  await main();
}

function loadFromWorker(job: LoadJob): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: job });
    worker.once('message', (r: LoadResult) => resolve(r));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`load generator exited with ${code}`));
    });
  });
}

async function concurrently(first: number, count: number, workers: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < count) await task(first + next++);
    }),
  );
  return (performance.now() - started) / 1000;
}

/**
 * Runs `measure`, returning its result and the CPU the server side spent meanwhile: every thread of this process
 * (the request thread and Custodian's writer thread) less what the load generator's thread reports it used.
 */
async function withServerCpu<T>(measure: () => Promise<T>): Promise<{ result: T; cpuSeconds: number }> {
  const before = process.cpuUsage();
  const result = await measure();
  const used = process.cpuUsage(before);
  const loadCpu = (result as { loadCpuSeconds?: number }).loadCpuSeconds ?? 0;
  return { result, cpuSeconds: (used.user + used.system) / 1e6 - loadCpu };
}

/** The same values a submission carries, in one row of a plain table with the same uniqueness on identifiers. */
async function insertPlain(db: Kysely<unknown>, s: Submission): Promise<string> {
  const id = randomUUID();
  await db.transaction().execute(async (trx) => {
    await sql`
      INSERT INTO bench_submission (id, name, dob, phone, email, reference, scan_type, scan_area, created_at)
      VALUES (${id}, ${s['patient.name']}, ${s['patient.dob']}::date, ${s['patient.phone']}, ${s['patient.email']},
              ${s['patient.reference']}, ${s['scan.type']}, ${s['scan.area']}, now())`.execute(trx);
  });
  return id;
}

async function main(): Promise<void> {
  const loaded = loadRegisterFile(fileURLToPath(new URL('../examples/image-diagnostic-technology/register.yaml', import.meta.url)));
  if (!loaded.ok) throw new Error('the example register does not load');
  const register = loaded.register;
  const schema = `bench_collect_${randomBytes(4).toString('hex')}`;
  const run = randomBytes(3).toString('hex');
  const db = await connect({ url, schema, poolSize: POOL });
  const plainDb = db.kysely as unknown as Kysely<unknown>;
  const say = (line: string) => process.stderr.write(`${line}\n`);
  const keyring = keyringOf([masterKey('bench-1', randomBytes(32))]);
  const clock = systemClock;
  let nextIndex = 0;
  const take = (n: number) => {
    const first = nextIndex;
    nextIndex += n;
    return first;
  };

  interface Row {
    what: string;
    ops: number;
    seconds: number;
    cpuSeconds: number;
    kind: 'insert' | 'http-bare' | 'direct' | 'http' | 'http-checkpoints';
  }
  const rows: Row[] = [];
  let checkpointMs = Number.NaN;
  const apps: { close(): Promise<unknown> }[] = [];
  try {
    await migrate(db);
    await sql`
      CREATE TABLE bench_submission (
        id uuid PRIMARY KEY, name text NOT NULL, dob date NOT NULL, phone text NOT NULL UNIQUE, email text UNIQUE,
        reference text UNIQUE, scan_type text NOT NULL, scan_area text NOT NULL, created_at timestamptz NOT NULL)`.execute(db.kysely);
    say(`collect bench on ${db.location}: ${TOTAL} submissions per measurement after ${WARMUP} to warm up, ${CONCURRENCY} concurrent, pool ${POOL}`);

    // (a) The floor: what storing one submission's values durably costs on this server, BEGIN/INSERT/COMMIT.
    if (ONLY.has('insert')) {
      const insertOne = async (i: number) => void (await insertPlain(plainDb, submission(run, i)));
      await concurrently(take(WARMUP), WARMUP, CONCURRENCY, insertOne);
      const inserted = await withServerCpu(() => concurrently(take(TOTAL), TOTAL, CONCURRENCY, insertOne));
      rows.push({
        what: `bare INSERT of 1 row per transaction (baseline)`,
        ops: TOTAL,
        seconds: inserted.result,
        cpuSeconds: inserted.cpuSeconds,
        kind: 'insert',
      });
    }

    // (b) The same HTTP shape with nothing of Custodian: Fastify's JSON body parsing, that INSERT, a 201.
    const http = async (base: string, what: string, kind: Row['kind']) => {
      const warm = await loadFromWorker({ base, run, first: take(WARMUP), count: WARMUP, concurrency: CONCURRENCY });
      if (warm.failed > 0) throw new Error(`${what}: warm-up failed: ${warm.firstFailure}`);
      const { result: r, cpuSeconds } = await withServerCpu(() => loadFromWorker({ base, run, first: take(TOTAL), count: TOTAL, concurrency: CONCURRENCY }));
      if (r.failed > 0) say(`${what}: ${r.failed} of ${TOTAL} failed, the first: ${r.firstFailure}`);
      rows.push({ what, ops: r.ok, seconds: r.seconds, cpuSeconds, kind });
    };
    if (ONLY.has('http-bare')) {
      const bare = Fastify({ logger: false, bodyLimit: 256 * 1024 });
      apps.push(bare);
      bare.post(POINT_PATH, async (req, reply) => {
        const id = await insertPlain(plainDb, req.body as Submission);
        return reply.code(201).send({ subjectId: id, recordIds: [] });
      });
      const bareBase = await bare.listen({ port: 0, host: '127.0.0.1' });
      await http(bareBase, `bare Fastify route, 1 INSERT per request (HTTP)`, 'http-bare');
      await bare.close();
    }

    // (c) The collection service itself, called in-process: all of Custodian's work, no HTTP.
    const ctx = createAppContext({ db, register, clock, keyring, log: silentLogger });
    if (ONLY.has('direct')) {
      // One submission per transaction, written at once in this thread (no group commit): what the staff route does.
      const collector = new Collector(ctx);
      apps.push(collector);
      const collectOne = async (i: number) =>
        void (await collector.submit({ point: 'scan-request', body: submission(run, i), actor: 'public:scan-request' }, { batch: false }));
      await concurrently(take(WARMUP), WARMUP, CONCURRENCY, collectOne);
      const collected = await withServerCpu(() => concurrently(take(TOTAL), TOTAL, CONCURRENCY, collectOne));
      rows.push({
        what: `Collector, in-process, no batching, no HTTP (sealed + audited)`,
        ops: TOTAL,
        seconds: collected.result,
        cpuSeconds: collected.cpuSeconds,
        kind: 'direct',
      });
    }

    // (d) The endpoint a clinic's website posts to: the whole app, encryption and audit on.
    if (ONLY.has('http')) {
      const app = await buildApp(ctx);
      apps.push(app);
      const appBase = await app.listen({ port: 0, host: '127.0.0.1' });
      await http(appBase, `POST ${POINT_PATH} (HTTP, sealed + audited)`, 'http');
    }

    // (e) The same, with the trail's completeness checkpoint signed and appended to a witness file every second
    // (60 times as often as the server does): what checkpoints cost the collect path, at most.
    if (ONLY.has('http-checkpoints')) {
      const witnessDir = await mkdtemp(join(tmpdir(), 'custodian-bench-witness-'));
      const witnessed = createAppContext({
        db,
        register,
        clock,
        keyring,
        log: silentLogger,
        witness: new FileWitness(join(witnessDir, 'audit-witness.jsonl')),
      });
      const app = await buildApp(witnessed);
      apps.push(app);
      const took: number[] = [];
      const timer = setInterval(() => {
        const t0 = performance.now();
        witnessed.auditor.checkpoint(db.kysely).then(
          (c) => void (c && took.push(performance.now() - t0)),
          (e: unknown) => say(`checkpoint failed: ${String(e)}`),
        );
      }, CHECKPOINT_EVERY_MS);
      try {
        const appBase = await app.listen({ port: 0, host: '127.0.0.1' });
        await http(appBase, `POST ${POINT_PATH} (HTTP, sealed + audited, a checkpoint every ${CHECKPOINT_EVERY_MS / 1000} s)`, 'http-checkpoints');
      } finally {
        clearInterval(timer);
        await rm(witnessDir, { recursive: true, force: true });
      }
      checkpointMs = took.reduce((x, y) => x + y, 0) / Math.max(1, took.length);
      say(`checkpoints signed and witnessed during the run: ${took.length}, ${checkpointMs.toFixed(1)} ms each (wall, under load)`);
    }

    const counted = await sql<{ subjects: string; records: string; events: string }>`
      SELECT (SELECT count(*) FROM subject) AS subjects, (SELECT count(*) FROM record) AS records, (SELECT count(*) FROM audit_event) AS events`.execute(
      db.kysely,
    );
    const c = counted.rows[0]!;
    say(`stored: ${c.subjects} subjects, ${c.records} records, ${c.events} audit events`);
  } finally {
    for (const a of apps) await a.close().catch(() => {});
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db.kysely).catch(() => {});
    await db.close();
  }

  const rate = (r: Row | undefined) => (r ? r.ops / r.seconds : NaN);
  const baseline = rate(rows.find((r) => r.kind === 'insert'));
  const bareHttp = rate(rows.find((r) => r.kind === 'http-bare'));
  const width = Math.max(...rows.map((r) => r.what.length), 'measurement'.length);
  const fmt = (n: number) => Math.round(n).toLocaleString('en');
  const ratio = (n: number, of: number) => (Number.isFinite(of) ? `${(n / of).toFixed(2)}x` : '-');
  const cols = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(width) : c.padStart([6, 7, 7, 14, 12, 16][i - 1]!))).join('  ');
  const lines = [
    `${TOTAL} scan-request submissions per measurement, ${CONCURRENCY} concurrent (HTTP: keep-alive sockets from a worker thread), pool ${POOL}, PostgreSQL ${describeUrl(url)}`,
    cols(['measurement', 'ops', 'seconds', 'ops/s', 'vs bare INSERT', 'vs bare HTTP', 'server CPU ms/op']),
  ];
  for (const r of rows) {
    const ops = rate(r);
    const vsInsert = r.kind === 'insert' ? 'baseline' : ratio(ops, baseline);
    const vsHttp = r.kind === 'http-bare' ? 'baseline' : r.kind === 'http' || r.kind === 'http-checkpoints' ? ratio(ops, bareHttp) : '';
    lines.push(cols([r.what, String(r.ops), r.seconds.toFixed(2), fmt(ops), vsInsert, vsHttp, ((r.cpuSeconds * 1000) / r.ops).toFixed(2)]));
  }
  const collectHttp = rate(rows.find((r) => r.kind === 'http'));
  const checkpointed = rate(rows.find((r) => r.kind === 'http-checkpoints'));
  if (Number.isFinite(checkpointed) && Number.isFinite(collectHttp)) {
    const cost = 1 - checkpointed / collectHttp;
    lines.push(
      `target: checkpoints cost the collect path <= 5% of its throughput: ${cost <= 0.05 ? 'pass' : 'MISS'} (${(cost * 100).toFixed(1)}% with one every ${CHECKPOINT_EVERY_MS / 1000} s; each took ${checkpointMs.toFixed(1)} ms, ${((checkpointMs / 60_000) * 100).toFixed(3)}% of the minute between two on the server)`,
    );
  }
  lines.push(
    `target: >= ${fmt(TARGET)} submissions/s over HTTP with encryption and audit on: ${collectHttp >= TARGET ? 'pass' : 'MISS'} (${fmt(collectHttp)}/s)`,
  );
  // Other work on the machine moves every figure; the load average says how much to trust this run.
  lines.push(
    `(load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on this machine at the end of the run)`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}
