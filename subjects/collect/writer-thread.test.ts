// Batch writers: the writer thread on PostgreSQL, the request thread on PGlite (the same tests for both). Batches
// are written with the request thread's clock and keys, failures come back as the same coded errors, and closing
// answers every submission already accepted.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { verifyAuditChain } from '../../audit/verify/verify-audit-chain.ts';
import { CustodianError } from '../../core/errors.ts';
import { scanRequest } from '../../test/helpers/scan-request.ts';
import { testApp, type TestApp } from '../../test/helpers/test-app.ts';
import { engineUnderTest } from '../../test/helpers/test-db.ts';
import { Collector } from './collector.ts';
import { prepareSubmission } from './prepare-submission.ts';
import { inThreadWriter, type BatchWriter } from './write-batch.ts';
import { CollectWriterThread } from './writer-thread.ts';

let t: TestApp;
let deps: TestApp['ctx'];
let writer: BatchWriter;
/** What the collector uses on this engine. */
const writerFor = (d: TestApp['ctx']): BatchWriter =>
  d.db.postgres ? new CollectWriterThread(d, { url: d.db.postgres.url, schema: d.db.postgres.schema, poolSize: 2 }) : inThreadWriter(d);
before(async () => {
  t = await testApp();
  deps = t.ctx;
  writer = writerFor(deps);
  assert.equal(writer instanceof CollectWriterThread, engineUnderTest === 'postgres');
});
after(async () => {
  await writer?.close();
  await t?.close();
});

const prepared = (n: number, body = scanRequest('writer', n)) => prepareSubmission(t.register, { point: 'scan-request', body, actor: 'public:scan-request' });

test("a batch is stored with this thread's clock and active key", async () => {
  t.clock.set('2026-11-22T11:30:00Z');
  const outcomes = await writer.write([prepared(1), prepared(2)], t.clock.now());
  assert.deepEqual(
    outcomes.map((o) => o.ok),
    [true, true],
  );
  const first = outcomes[0]!.ok ? outcomes[0]!.result : assert.fail('not written');
  const records = await t.db.kysely.selectFrom('record').select(['collected_at']).where('subject_id', '=', first.subjectId).execute();
  assert.equal(records.length, first.recordIds.length);
  for (const r of records) assert.equal(new Date(r.collected_at).toISOString(), '2026-11-22T11:30:00.000Z');
  const key = await t.db.kysely.selectFrom('subject_key').select('master_key_id').where('subject_id', '=', first.subjectId).executeTakeFirstOrThrow();
  assert.equal(key.master_key_id, t.keyring.active().id);
  assert.equal((await verifyAuditChain(t.db, { checkpointKey: t.checkpointKeys })).ok, true);
});

test('a failure comes back as the same coded error, and does not fail the rest of its batch', async () => {
  const [done] = await writer.write([prepared(3)], t.clock.now());
  const erased = done!.ok ? done!.result.subjectId : assert.fail('not written');
  await t.db.kysely.transaction().execute((trx) => t.ctx.subjectKeys.shred(trx, erased, t.clock.now()));
  // Staff adding to that person: their key is gone, so nothing more can be sealed for them.
  const toErased = prepareSubmission(t.register, { point: 'scan-request', body: scanRequest('writer', 3), actor: 'staff:someone', subjectId: erased });
  const outcomes = await writer.write([prepared(4), toErased, prepared(5)], t.clock.now());
  assert.deepEqual(
    outcomes.map((o) => o.ok),
    [true, false, true],
  );
  const failed = outcomes[1]!;
  assert.ok(!failed.ok && failed.error instanceof CustodianError);
  assert.equal((failed.error as CustodianError).code, 'subject_key_shredded');
  assert.equal((failed.error as CustodianError).status, 410);
});

test('closing the collector answers every accepted submission before its writer stops', async () => {
  const own = writerFor(deps);
  const batcher = new Collector(deps, { writer: own });
  const pending = Array.from({ length: 30 }, (_, i) =>
    batcher.submit({ point: 'scan-request', body: scanRequest('closing', 100 + i), actor: 'public:scan-request' }),
  );
  await batcher.close();
  const results = await Promise.all(pending);
  const ids = results.flatMap((r) => r.recordIds);
  const stored = await t.db.kysely.selectFrom('record').select('id').where('id', 'in', ids).execute();
  assert.equal(stored.length, ids.length);
});

test('a database the writer thread cannot reach fails each submission with database_unavailable, and the next batch tries again', async () => {
  const unreachable = new CollectWriterThread(deps, { url: 'postgres://postgres@127.0.0.1:1/none', schema: undefined, poolSize: 1 });
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      await assert.rejects(
        unreachable.write([prepared(200 + attempt)], t.clock.now()),
        (e: unknown) => e instanceof CustodianError && e.code === 'database_unavailable' && e.status === 503,
      );
    }
  } finally {
    await unreachable.close();
  }
});
