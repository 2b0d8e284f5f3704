// The verifier builds each event's canonical bytes itself (from binary COPY on PostgreSQL, from text rows on
// PGlite). Whatever an event holds, quotes, backslashes, control characters, any script, nested or odd details,
// those bytes must be exactly the ones canonicalEventText gave when the event was written, or an intact trail
// would fail to verify (or an edit could slip through). Events are written here straight into the table, past
// the append validation, so content no append would accept is covered too.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { sql } from 'kysely';
import type { Db } from '../../db/connect.ts';
import { openTestDb } from '../../test/helpers/test-db.ts';
import { canonicalDetailText, canonicalEventText, createChainHasher, GENESIS_HASH_HEX, isoMicros, recordIdsText } from '../canonical-event.ts';
import { checkpointMac, deriveCheckpointKey } from '../checkpoint.ts';
import { canonicalDetailBytesOf } from './copy-event-batch.ts';
import { verifyAuditChain } from './verify-audit-chain.ts';

let db: Db;
const key = deriveCheckpointKey(randomBytes(32));
before(async () => {
  db = await openTestDb();
});
after(async () => db.close());

/** Text PostgreSQL can store (no NUL, well-formed), leaning on the characters JSON escapes. */
const text = fc
  .oneof(
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\t', '\u0001', '\u001f', '\u007f', 'é', '歯', '😀', '\u2028', 'a', '/'), maxLength: 12 }),
    fc.string({ unit: 'binary', maxLength: 12 }),
  )
  .map((s) => s.replace(/\u0000/g, ''))
  .filter((s) => s.isWellFormed());

const scalar = fc.oneof(
  text,
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.bigInt({ min: -(10n ** 17n), max: 10n ** 17n }).map(Number),
);
const detailKey = fc.oneof(text, fc.constantFrom('10', '9', '0', '__proto__', 'a', 'ab', 'B', 'step', 'field', 'é', 'a b'));
const detail = fc.oneof(
  fc.dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.:-]{0,8}$/), scalar, { maxKeys: 6 }),
  fc.dictionary(detailKey, fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(detailKey, scalar, { maxKeys: 2 })), { maxKeys: 5 }),
);

const event = fc.record({
  at: fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2300-01-01T00:00:00Z'), noInvalidDate: true }),
  actor: text.filter((s) => s.length > 0),
  action: text.filter((s) => s.length > 0),
  subjectId: fc.option(fc.uuid(), { nil: null }),
  recordIds: fc.array(fc.uuid(), { maxLength: 3 }),
  purpose: fc.option(text, { nil: null }),
  fingerprint: fc.option(text, { nil: null }),
  detail,
});

let runs = 0;

test('any stored content verifies: both readers build the bytes canonicalEventText built', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 8 }), async (events) => {
      const partition = `9999-12/p${++runs}`;
      const hasher = createChainHasher();
      let prev = GENESIS_HASH_HEX;
      const rows = events.map((e, i) => {
        const id = crypto.randomUUID();
        const at = isoMicros(e.at);
        const stored = JSON.parse(JSON.stringify(e.detail)) as unknown; // what jsonb receives
        const canonical = canonicalEventText({
          partition,
          seq: i + 1,
          id,
          at,
          actor: e.actor,
          action: e.action,
          subjectId: e.subjectId,
          recordIds: recordIdsText(e.recordIds.map((r) => r.toLowerCase())),
          purpose: e.purpose,
          fingerprint: e.fingerprint,
          detail: stored,
        });
        const hash = hasher(prev, canonical);
        const row = { ...e, id, at, seq: i + 1, prev, hash, detailText: JSON.stringify(e.detail) };
        prev = hash;
        return row;
      });
      await db.kysely.transaction().execute(async (trx) => {
        for (const r of rows) {
          await sql`INSERT INTO audit_event (partition, seq, id, at, actor, action, subject_id, record_ids, purpose, fingerprint, detail, prev_hash, hash)
            VALUES (${partition}, ${r.seq}, ${r.id}, ${r.at}::timestamptz, ${r.actor}, ${r.action}, ${r.subjectId}::uuid, ${recordIdsText(r.recordIds)}::uuid[],
                    ${r.purpose}, ${r.fingerprint}, ${r.detailText}::jsonb, decode(${r.prev}, 'hex'), decode(${r.hash}, 'hex'))`.execute(trx);
        }
        const last = rows.at(-1)!;
        await sql`INSERT INTO audit_head (partition, seq, hash, checkpoint, updated_at)
          VALUES (${partition}, ${last.seq}, decode(${last.hash}, 'hex'), ${checkpointMac(key, partition, last.seq, last.hash)}, now())`.execute(trx);
      });
      const verdict = await verifyAuditChain(db, { checkpointKey: key, partition });
      assert.deepEqual(verdict, { ok: true, events: rows.length, partitions: 1 }, JSON.stringify(verdict.firstBad));
    }),
    { numRuns: 150 },
  );
});

test("the detail shortcut gives canonicalDetailText's bytes for any jsonb text it takes on", async () => {
  let taken = 0;
  await fc.assert(
    fc.asyncProperty(detail, async (d) => {
      const { rows } = await sql<{ text: string }>`SELECT ${JSON.stringify(d)}::jsonb::text AS text`.execute(db.kysely);
      const jsonb = rows[0]!.text;
      const fast = canonicalDetailBytesOf(jsonb);
      if (fast !== null) {
        taken++;
        assert.equal(fast, canonicalDetailText(jsonb), jsonb);
      }
    }),
    { numRuns: 500 },
  );
  assert.ok(taken > 100, `the shortcut was taken only ${taken} times: the test shows little`);
});
