// What the public side answers when something is off: a hosted form refuses a `__proto__` field as the API does;
// pages that may show what someone typed are never cached; a server fault tells an anonymous caller its code and
// nothing about keys or the audit trail; a database that cannot be reached is a coded 503, never a 500.
import { AUDIT_SHARDS } from '../audit/partition.ts';
import assert from 'node:assert/strict';
import { createConnection } from 'node:net';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { isDatabaseUnreachable, toCustodianError } from '../core/framework-errors.ts';
import { connect } from '../db/connect.ts';
import { scanRequest } from './helpers/scan-request.ts';
import { testApp, type TestApp } from './helpers/test-app.ts';

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => t?.close());

const form = (body: Record<string, string>, extra = '') =>
  t.app.inject({
    method: 'POST',
    url: '/forms/scan-request',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(body).toString() + extra,
  });

test('a hosted form refuses a field named __proto__, and stores nothing', async () => {
  const before = Number((await sql<{ n: string }>`SELECT count(*) AS n FROM record`.execute(t.db.kysely)).rows[0]!.n);
  const res = await form(scanRequest('proto', 1), '&__proto__=x');
  assert.equal(res.statusCode, 400);
  assert.match(res.body, /__proto__[\s\S]*is not a field of this form/);
  assert.equal(Number((await sql<{ n: string }>`SELECT count(*) AS n FROM record`.execute(t.db.kysely)).rows[0]!.n), before);
});

test('form pages, which may show what was typed, are never kept by a cache', async () => {
  for (const res of [await t.app.inject('/forms/scan-request'), await t.app.inject('/forms/scan-request/thanks'), await form({ 'patient.name': 'Alan' })]) {
    assert.equal(res.headers['cache-control'], 'no-store');
  }
});

test('a server fault answers an anonymous caller with its code only: no partition, no key id', async () => {
  const s = await testApp();
  try {
    // A public submission is always a new person, in any shard: fill every shard of the month with a head first.
    for (let i = 1; i <= 400; i++) {
      const first = await s.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('fault', i) });
      assert.equal(first.statusCode, 201);
      const heads = await sql<{ n: string }>`SELECT count(*) AS n FROM audit_head`.execute(s.db.kysely);
      if (Number(heads.rows[0]!.n) >= AUDIT_SHARDS) break;
    }
    const { rows } = await sql<{ partition: string }>`SELECT partition FROM audit_head`.execute(s.db.kysely);
    assert.equal(rows.length, AUDIT_SHARDS);
    await sql`UPDATE audit_head SET checkpoint = sha256(checkpoint)`.execute(s.db.kysely);
    const again = await s.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('fault', 999) });
    assert.equal(again.statusCode, 500);
    assert.deepEqual(again.json(), {
      error: {
        code: 'audit_chain_broken',
        message: 'The audit trail failed its integrity check; changes it would record are refused until it is investigated',
      },
    });
    for (const r of rows) assert.equal(again.body.includes(r.partition), false);
  } finally {
    await s.close();
  }
});

test('the errors a driver throws when the database is gone are recognised, on both engines', async () => {
  const pglite = await connect({ dataDir: 'memory://' });
  await pglite.close();
  const closed = await sql`SELECT 1`.execute(pglite.kysely).catch((e: unknown) => e);
  assert.ok(isDatabaseUnreachable(closed));
  const refused = await import('pg').then(async ({ default: pg }) =>
    new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:1/none' }).connect().catch((e: unknown) => e),
  );
  assert.ok(isDatabaseUnreachable(refused));
  for (const code of ['57P01', '08006', '53300']) assert.equal(toCustodianError(Object.assign(new Error('x'), { code })).code, 'database_unavailable', code);
  assert.equal(toCustodianError(Object.assign(new Error('x'), { code: '23505' })).code, 'internal', 'other SQL errors stay internal');
});

// On PostgreSQL a test database is a schema dropped on close, and the collection writer thread keeps its own pool:
// "gone" would read as "no such table". The driver errors of a PostgreSQL server that is really gone are held to
// the same mapping in the test above.
const embedded = process.env.DATABASE_URL ? 'needs the embedded database, which closing really takes away' : false;

test('with the database gone, every public route answers a coded 503', { skip: embedded }, async () => {
  const s = await testApp();
  await s.db.close();
  try {
    for (const req of [
      { method: 'GET' as const, url: '/privacy/versions' },
      { method: 'POST' as const, url: '/api/v1/collect/scan-request', payload: scanRequest('gone', 1) },
      { method: 'GET' as const, url: '/healthz' },
    ]) {
      const res = await s.app.inject(req);
      assert.equal(res.statusCode, 503, `${req.method} ${req.url}: ${res.body}`);
      if (req.url !== '/healthz') assert.equal(res.json().error.code, 'database_unavailable');
    }
  } finally {
    await s.app.close();
  }
});

test('a request that trickles in is cut off (408) and its connection closed, not held for minutes', async () => {
  const s = await testApp('image-diagnostic-technology', { requestTimeoutMs: 1_500 });
  const base = new URL(await s.app.listen({ port: 0, host: '127.0.0.1' }));
  try {
    const started = performance.now();
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = createConnection({ host: base.hostname, port: Number(base.port) }, () => {
        socket.write('POST /api/v1/collect/scan-request HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"patient.name":');
        // Then nothing more, as a slow-body attack would.
      });
      let text = '';
      socket.on('data', (b: Buffer) => (text += b.toString()));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      setTimeout(() => {
        socket.destroy();
        reject(new Error('the connection was still open after 20 s'));
      }, 20_000).unref();
    });
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.ok(performance.now() - started < 20_000);
  } finally {
    await s.close();
  }
});
