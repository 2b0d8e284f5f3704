// What a clinic relies on when the server dies mid-burst (power cut, OOM kill, kill -9): every submission that got
// its 201 is stored in full, with its sealed values readable; every other one is stored entirely or not at all; the
// audit trail still verifies; and the server starts again on the same data. The real server runs as a child
// process, on an embedded data folder, or on a fresh PostgreSQL database when DATABASE_URL is set.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { systemClock } from '../core/clock.ts';
import { loadKeyring } from '../crypto/keyring.ts';
import { openValue } from '../crypto/seal.ts';
import { connect } from '../db/connect.ts';
import { scanRequest } from './helpers/scan-request.ts';
import { keysOf, testAuditor } from './helpers/test-keyring.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const REGISTER = join(root, 'examples/image-diagnostic-technology/register.yaml');
const CLIENTS = 8;
/** Load runs at least this long before the kill, and until this many submissions were acknowledged. */
const LOAD_MS = 1_500;
const MIN_ACKS = 20;
const MAX_LOAD_MS = 30_000;
const MAX_SUBMISSIONS = 50_000;
/** One scan request stores one record per field (below), three identifiers and two sealed values. */
const FIELDS_PER_SUBMISSION = 7;
const IDENTIFIERS_PER_SUBMISSION = 3;

interface Server {
  readonly child: ChildProcess;
  readonly url: string;
  readonly exited: Promise<number | null>;
  output(): string;
}

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  const running = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
  await Promise.all(
    running.map(
      (c) =>
        new Promise((resolve) => {
          c.once('exit', resolve);
          c.kill('SIGKILL');
        }),
    ),
  );
  for (const cleanup of cleanups.reverse()) await cleanup().catch((e: unknown) => process.stderr.write(`cleanup: ${(e as Error).message}\n`));
});

/** `custodian serve` on a free port; resolves once it says where it listens. Output is drained to the end. */
async function startServer(dataDir: string, env: Record<string, string>, extraArgs: string[]): Promise<Server> {
  const {
    DATABASE_URL: _u,
    CUSTODIAN_DATA: _d,
    CUSTODIAN_MASTER_KEY: _k,
    CUSTODIAN_REGISTER: _r,
    PORT: _p,
    HOST: _h,
    LOG_LEVEL: _l,
    NODE_TEST_CONTEXT: _t,
    ...rest
  } = process.env;
  const args = ['cli/main.ts', 'serve', '--register', REGISTER, '--data', dataDir, '--port', '0', '--log-level', 'warn', ...extraArgs];
  const child = spawn(process.execPath, args, { cwd: root, env: { ...rest, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start within 60 s:\n${out}`)), 60_000);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Custodian is serving .* at (http:\/\/\S+) /.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited (${code ?? child.signalCode}) before listening:\n${out}`));
    });
  });
  return { child, url, exited, output: () => out };
}

const submission = (run: string, i: number) => scanRequest(run, i);

interface Ack {
  readonly i: number;
  readonly subjectId: string;
  readonly recordIds: string[];
}

interface Burst {
  acked: Ack[];
  /** Requests that never got an answer: the kill cut them off. */
  cutOff: number;
  inFlightAtKill: number;
  unexpected: string[];
}

/** CLIENTS loops of valid submissions; SIGKILL to the server once load has run a while, with requests in flight. */
async function burstThenKill(server: Server, run: string): Promise<Burst> {
  const result: Burst = { acked: [], cutOff: 0, inFlightAtKill: 0, unexpected: [] };
  let next = 0;
  let inFlight = 0;
  let stop = false;
  const started = performance.now();
  const client = async () => {
    while (!stop && next < MAX_SUBMISSIONS) {
      const i = next++;
      inFlight++;
      try {
        const res = await fetch(`${server.url}/api/v1/collect/scan-request`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(submission(run, i)),
          signal: AbortSignal.timeout(30_000),
        });
        const text = await res.text();
        if (res.status === 201) result.acked.push({ i, ...(JSON.parse(text) as { subjectId: string; recordIds: string[] }) });
        else result.unexpected.push(`${res.status} ${text}`);
      } catch {
        result.cutOff++;
      } finally {
        inFlight--;
      }
    }
  };
  const killer = async () => {
    for (;;) {
      const ms = performance.now() - started;
      if ((ms >= LOAD_MS && result.acked.length >= MIN_ACKS) || ms >= MAX_LOAD_MS || next >= MAX_SUBMISSIONS) break;
      await sleep(10);
    }
    stop = true;
    result.inFlightAtKill = inFlight;
    server.child.kill('SIGKILL');
    await server.exited;
  };
  await Promise.all([killer(), ...Array.from({ length: CLIENTS }, client)]);
  return result;
}

/** A fresh database on the server DATABASE_URL names, or a fresh schema when the role may not create databases. */
async function freshPostgres(adminUrl: string): Promise<{ url: string; jobs: boolean }> {
  const name = `custodian_crash_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    cleanups.push(async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => c.end());
    });
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return { url: url.toString(), jobs: true };
  } catch (e) {
    if ((e as { code?: string }).code !== '42501') throw e;
    // No CREATEDB: a schema through search_path instead; jobs off, so pg-boss leaves the shared database alone.
    await admin.query(`CREATE SCHEMA ${name}`);
    cleanups.push(async () => {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`).finally(() => c.end());
    });
    const url = new URL(adminUrl);
    url.searchParams.set('options', `-c search_path=${name}`);
    return { url: url.toString(), jobs: false };
  } finally {
    await admin.end();
  }
}

const engine = process.env.DATABASE_URL ? 'postgres' : 'pglite';

test(`kill -9 during a burst of submissions loses no acknowledged submission and leaves none half-stored (${engine})`, { timeout: 180_000 }, async (t) => {
  const t0 = performance.now();
  const mark = (what: string) => t.diagnostic(`${what} at ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const dataDir = mkdtempSync(join(tmpdir(), 'custodian-crash-'));
  cleanups.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const env: Record<string, string> = {};
  const args: string[] = [];
  let databaseUrl: string | undefined;
  if (process.env.DATABASE_URL) {
    const fresh = await freshPostgres(process.env.DATABASE_URL);
    databaseUrl = fresh.url;
    env.DATABASE_URL = fresh.url;
    env.CUSTODIAN_MASTER_KEY = randomBytes(32).toString('base64');
    if (!fresh.jobs) args.push('--no-jobs');
  }
  const run = randomBytes(4).toString('hex');

  const first = await startServer(dataDir, env, args);
  mark('first server listening');
  const burst = await burstThenKill(first, run);
  assert.deepEqual(burst.unexpected, [], 'every valid submission answered before the kill was accepted');
  assert.ok(burst.acked.length >= MIN_ACKS, `load ran long enough to acknowledge submissions (${burst.acked.length})`);
  assert.ok(burst.inFlightAtKill > 0, 'the kill came while submissions were in flight');
  assert.equal(first.child.signalCode, 'SIGKILL');
  mark(`killed with ${burst.inFlightAtKill} in flight after ${burst.acked.length} acknowledged (${burst.cutOff} cut off)`);

  // The same data, a new process: it must start, answer, and accept writes that extend the audit chains.
  const second = await startServer(dataDir, env, args);
  mark('restarted server listening');
  const health = await fetch(`${second.url}/healthz`);
  assert.equal(health.status, 200, `${await health.text()}\n${second.output()}`);
  const afterRestart = await fetch(`${second.url}/api/v1/collect/scan-request`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(submission(run, MAX_SUBMISSIONS + 1)),
  });
  assert.equal(afterRestart.status, 201, await afterRestart.text());
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0, `clean stop after restart:\n${second.output()}`);

  mark('restarted server stopped');
  // Read what is on disk with the same keys the server used (the embedded database allows one process at a time).
  const { keyring } = loadKeyring({ env, dataDir, createIfMissing: false });
  const db = await connect({ url: databaseUrl, dataDir });
  try {
    for (const ack of burst.acked) {
      const records = await db.kysely
        .selectFrom('record')
        .select(['id', 'field', 'value_text', 'value_sealed'])
        .where('subject_id', '=', ack.subjectId)
        .execute();
      assert.deepEqual(records.map((r) => r.id).sort(), [...ack.recordIds].sort(), `acknowledged submission ${ack.i}: all its records are stored`);
      const area = records.find((r) => r.field === 'scan.area');
      const dek = await keysOf(keyring).get(db.kysely, ack.subjectId);
      assert.ok(dek && area?.value_sealed, `acknowledged submission ${ack.i}: its data key and sealed value are stored`);
      assert.equal(openValue(dek, area.value_sealed, area.id), submission(run, ack.i)['scan.area']);
    }

    // Whatever else reached the disk is whole: a subject, its identifiers, key, every record and both audit events.
    const { rows } = await sql<{ id: string; records: string; identifiers: string; keys: string; events: string[] }>`
      SELECT s.id,
             (SELECT count(*) FROM record r WHERE r.subject_id = s.id) AS records,
             (SELECT count(*) FROM subject_identifier i WHERE i.subject_id = s.id) AS identifiers,
             (SELECT count(*) FROM subject_key k WHERE k.subject_id = s.id AND k.wrapped_key IS NOT NULL) AS keys,
             ARRAY(SELECT a.action FROM audit_event a WHERE a.subject_id = s.id ORDER BY a.action) AS events
      FROM subject s`.execute(db.kysely);
    const partial = rows.filter(
      (r) =>
        Number(r.records) !== FIELDS_PER_SUBMISSION ||
        Number(r.identifiers) !== IDENTIFIERS_PER_SUBMISSION ||
        Number(r.keys) !== 1 ||
        r.events.join(',') !== 'record.create,subject.create',
    );
    assert.deepEqual(partial, [], 'no submission is stored in part');
    assert.ok(rows.length >= burst.acked.length + 1 && rows.length <= burst.acked.length + burst.cutOff + 1, `${rows.length} subjects stored`);
    // Audit events have no foreign key (they outlive erasure), so only the shared transaction keeps them honest.
    const ghosts = await sql<{ n: string }>`
      SELECT count(*) AS n FROM audit_event a WHERE a.subject_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM subject s WHERE s.id = a.subject_id)`.execute(
      db.kysely,
    );
    assert.equal(Number(ghosts.rows[0]!.n), 0, 'no audit event about a submission that was not stored');

    const verified = await testAuditor(systemClock, keyring).verify(db);
    assert.equal(verified.firstBad, undefined, `audit chain intact: ${JSON.stringify(verified.firstBad)}`);
    assert.ok(verified.ok);
    mark(`checked ${rows.length} subjects and ${verified.events} audit events`);
    assert.ok(verified.events >= 2 * rows.length, `${verified.events} audit events for ${rows.length} subjects`);
  } finally {
    await db.close();
  }
});
