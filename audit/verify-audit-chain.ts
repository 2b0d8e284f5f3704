// Recomputes every chain from its first event and checks it against its signed head. Reads one consistent
// snapshot (REPEATABLE READ), so events appended while it runs are neither half-seen nor mistaken for forgeries.
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Db } from '../db/connect.ts';
import type { Tables } from '../db/tables.ts';
import { binaryCopyTuples, int64At, RepeatingText, timestampMicrosAt, uuidAt, type CopyTuples } from '../db/copy-binary.ts';
import { AT_MICROS_SQL, canonicalEventText, createChainHasher, GENESIS_HASH_HEX } from './canonical-event.ts';
import { checkpointMatches } from './checkpoint.ts';

export interface AuditChainBreak {
  partition: string;
  /** The event (or, for the head, the seq it claims) where the chain first fails. */
  seq: number;
  /** null when the bad event is missing altogether, or the fault is in the head. */
  id: string | null;
  reason: string;
}

export interface VerifyAuditResult {
  ok: boolean;
  /** Events verified good (up to the first bad one). */
  events: number;
  partitions: number;
  firstBad?: AuditChainBreak;
}

export interface VerifyProgress {
  partition: string;
  events: number;
  partitions: number;
}

export interface VerifyAuditOptions {
  /**
   * From deriveCheckpointKey. Several keys after a master-key rotation: heads last written under an older key
   * (closed months) still verify with it, while new appends sign with the active one.
   */
  checkpointKey: Uint8Array | readonly Uint8Array[];
  /** Verify one partition (`YYYY-MM/<shard>`) only. */
  partition?: string;
  /** Rows per query; keyset pages keep memory flat however long a chain is. */
  pageSize?: number;
  onProgress?: (progress: VerifyProgress) => void;
}

/** One stored event, as both sources hand it over: strings exactly as the canonical text takes them, hashes as bytes. */
interface ChainEvent {
  seq: number;
  id: string;
  /** null: a stored time no ISO string can show (infinity), which can only come from an edit. */
  at: string | null;
  actor: string;
  action: string;
  subjectId: string | null;
  /** PostgreSQL's text form of the uuid[], or null for an array no append writes (several dimensions, NULLs). */
  recordIds: string | null;
  purpose: string | null;
  fingerprint: string | null;
  /** The jsonb as text. */
  detail: string;
  /** Hex. */
  prevHash: string;
  hash: string;
}

interface HeadRow {
  seq: string;
  hash: string;
  checkpoint: string;
}

type Verdict = { events: number; exists: boolean; bad?: AuditChainBreak };

/** Where the verifier reads from, inside one REPEATABLE READ snapshot. */
interface ChainSource {
  partitions(): Promise<string[]>;
  head(partition: string): Promise<HeadRow | undefined>;
  /** The partition's events in seq order, in batches (one await per batch, not per event). */
  events(partition: string): AsyncIterable<readonly ChainEvent[]>;
}

export async function verifyAuditChain(db: Db, opts: VerifyAuditOptions): Promise<VerifyAuditResult> {
  // PostgreSQL: one COPY stream per partition, parsed here (several times faster than row-by-row results).
  if (db.withPgClient) {
    return db.withPgClient(async (client, broken) => {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        for (const setting of PLAN_SETTINGS) await client.query(setting);
        return await verifyFrom(copySource(client, broken), opts);
      } finally {
        await client.query('ROLLBACK').catch(() => broken());
      }
    });
  }
  return db.kysely.transaction().execute(async (trx) => {
    // Set in SQL rather than through Kysely's transaction settings, which its PGlite driver does not apply.
    await sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`.execute(trx);
    for (const setting of PLAN_SETTINGS) await sql.raw(setting).execute(trx);
    return verifyFrom(pagedSource(trx, opts.pageSize ?? 10_000), opts);
  });
}

// Walk the primary key in seq order. Left to itself the planner reads a large page by bitmap scan and then sorts it
// (spilling to disk), because one partition's rows are spread over the whole table: several times slower.
const PLAN_SETTINGS = ['SET LOCAL enable_seqscan = off', 'SET LOCAL enable_bitmapscan = off', 'SET LOCAL enable_sort = off'];

async function verifyFrom(source: ChainSource, opts: VerifyAuditOptions): Promise<VerifyAuditResult> {
  const partitions = opts.partition !== undefined ? [opts.partition] : await source.partitions();
  let events = 0;
  let seen = 0;
  for (const partition of partitions) {
    const verdict = await verifyPartition(source, partition, opts, events, seen);
    events += verdict.events;
    if (verdict.exists) seen++;
    if (verdict.bad) return { ok: false, events, partitions: seen, firstBad: verdict.bad };
  }
  return { ok: true, events, partitions: seen };
}

/** A recursive "loose index scan" over the primary key: one index probe per partition, not a scan of every event. */
const PARTITIONS_SQL = `
  WITH RECURSIVE p(partition) AS (
    (SELECT partition FROM audit_event ORDER BY partition LIMIT 1)
    UNION ALL
    SELECT (SELECT e.partition FROM audit_event e WHERE e.partition > p.partition ORDER BY e.partition LIMIT 1)
    FROM p WHERE p.partition IS NOT NULL
  )
  SELECT partition FROM p WHERE partition IS NOT NULL
  UNION
  SELECT partition FROM audit_head`;

const HEAD_SQL = `SELECT seq::text AS seq, encode(hash, 'hex') AS hash, encode(checkpoint, 'hex') AS checkpoint FROM audit_head WHERE partition = $1`;

/** Keyset pages through Kysely (PGlite), the next page fetched while this one is hashed. */
function pagedSource(trx: Kysely<Tables>, pageSize: number): ChainSource {
  interface PageRow {
    seq: string;
    id: string;
    at: string;
    actor: string;
    action: string;
    subject_id: string | null;
    record_ids: string;
    purpose: string | null;
    fingerprint: string | null;
    detail: string;
    prev_hash: string;
    hash: string;
  }
  const toEvent = (r: PageRow): ChainEvent => ({
    seq: Number(r.seq), id: r.id, at: r.at, actor: r.actor, action: r.action, subjectId: r.subject_id, recordIds: r.record_ids,
    purpose: r.purpose, fingerprint: r.fingerprint, detail: r.detail, prevHash: r.prev_hash, hash: r.hash,
  });
  return {
    partitions: async () => (await sql<{ partition: string }>`${sql.raw(PARTITIONS_SQL)}`.execute(trx)).rows.map((r) => r.partition).sort(),
    head: async (partition) =>
      (await sql<HeadRow>`SELECT seq::text AS seq, encode(hash, 'hex') AS hash, encode(checkpoint, 'hex') AS checkpoint FROM audit_head WHERE partition = ${partition}`.execute(trx)).rows[0],
    async *events(partition) {
      const fetchPage = (afterSeq: string) =>
        sql<PageRow>`SELECT seq::text AS seq, id::text AS id, ${sql.raw(AT_MICROS_SQL)} AS at, actor, action,
            subject_id::text AS subject_id, record_ids::text AS record_ids, purpose, fingerprint, detail::text AS detail,
            encode(prev_hash, 'hex') AS prev_hash, encode(hash, 'hex') AS hash
          FROM audit_event WHERE partition = ${partition} AND seq > ${afterSeq}::bigint
          ORDER BY audit_event.seq -- the column: a bare "seq" would sort by the text alias, 1 then 10
          LIMIT ${pageSize}`
          .execute(trx)
          .then((r) => r.rows);
      let pending: Promise<PageRow[]> | null = fetchPage('0');
      try {
        while (pending) {
          const rows: PageRow[] = await pending;
          const last = rows.at(-1);
          pending = rows.length === pageSize && last ? fetchPage(last.seq) : null;
          yield rows.map(toEvent);
        }
      } finally {
        // On an early return a prefetched page may still be in flight; let it settle before the transaction ends.
        if (pending) await pending.catch(() => undefined);
      }
    },
  };
}

/** The columns in the order the binary COPY sends them. */
const COPY_COLUMNS = 'seq, id, at, actor, action, subject_id, record_ids, purpose, fingerprint, detail, prev_hash, hash';
const COPY_FIELDS = 12;

/** COPY ... TO STDOUT (FORMAT binary), decoded here (PostgreSQL): the server formats nothing as text. */
function copySource(client: pg.PoolClient, broken: () => void): ChainSource {
  return {
    partitions: async () => (await client.query<{ partition: string }>(PARTITIONS_SQL)).rows.map((r) => r.partition).sort(),
    head: async (partition) => (await client.query<HeadRow>(HEAD_SQL, [partition])).rows[0],
    async *events(partition) {
      const literal = `'${partition.replace(/'/g, "''")}'`;
      const stream = client.query(
        copyTo(`COPY (SELECT ${COPY_COLUMNS} FROM audit_event WHERE partition = ${literal} ORDER BY seq) TO STDOUT (FORMAT binary)`),
      );
      let finished = false;
      try {
        for await (const batch of binaryCopyTuples(stream as AsyncIterable<Buffer>, COPY_FIELDS)) yield copyEvents(batch);
        finished = true;
      } finally {
        // Abandoned mid-stream (a bad event was found): the connection is still in COPY mode; close it.
        if (!finished) {
          broken();
          stream.destroy();
        }
      }
    },
  };
}

/** Text columns whose values repeat from row to row, decoded once per run of equal values. */
const repeating = { actor: new RepeatingText(), action: new RepeatingText(), purpose: new RepeatingText(), fingerprint: new RepeatingText() };

function copyEvents({ buf, count, starts, lengths }: CopyTuples): ChainEvent[] {
  const events: ChainEvent[] = new Array(count);
  const text = (i: number, cache: RepeatingText) => (lengths[i]! < 0 ? null : cache.at(buf, starts[i]!, lengths[i]!));
  for (let t = 0, i = 0; t < count; t++, i += COPY_FIELDS) {
    // NOT NULL columns are never NULL here; a uuid or a hash of the wrong length can only be a broken stream.
    events[t] = {
      seq: int64At(buf, starts[i]!),
      id: uuidAt(buf, starts[i + 1]!),
      at: timestampMicrosAt(buf, starts[i + 2]!),
      actor: text(i + 3, repeating.actor)!,
      action: text(i + 4, repeating.action)!,
      subjectId: lengths[i + 5]! < 0 ? null : uuidAt(buf, starts[i + 5]!),
      recordIds: uuidArrayText(buf, starts[i + 6]!, lengths[i + 6]!),
      purpose: text(i + 7, repeating.purpose),
      fingerprint: text(i + 8, repeating.fingerprint),
      detail: buf.toString('utf8', starts[i + 9]! + 1, starts[i + 9]! + lengths[i + 9]!), // after jsonb's version byte
      prevHash: buf.toString('hex', starts[i + 10]!, starts[i + 10]! + lengths[i + 10]!),
      hash: buf.toString('hex', starts[i + 11]!, starts[i + 11]! + lengths[i + 11]!),
    };
  }
  return events;
}

/**
 * A binary uuid[] as PostgreSQL prints it (`{}` or `{a,b}`). Appends only ever write one-dimensional arrays without
 * NULLs from 1; anything else prints differently and can only be an edit, so it is null (and cannot hash-match).
 */
function uuidArrayText(buf: Buffer, p: number, length: number): string | null {
  const dims = buf.readInt32BE(p);
  if (dims === 0) return '{}';
  if (dims !== 1 || buf.readInt32BE(p + 4) !== 0 || buf.readInt32BE(p + 16) !== 1) return null;
  const n = buf.readInt32BE(p + 12);
  if (length !== 20 + n * 20) return null;
  let out = '{';
  for (let k = 0, q = p + 20; k < n; k++, q += 20) out += (k ? ',' : '') + uuidAt(buf, q + 4);
  return `${out}}`;
}

async function verifyPartition(
  source: ChainSource,
  partition: string,
  opts: VerifyAuditOptions,
  eventsBefore: number,
  partitionsBefore: number,
): Promise<Verdict> {
  const bad = (events: number, seq: number, id: string | null, reason: string): Verdict => ({
    events,
    exists: true,
    bad: { partition, seq, id, reason },
  });

  const head = await source.head(partition);
  const headSeq = head ? Number(head.seq) : null;
  // The head first: if it does not verify, nothing it says about where the chain ends can be trusted.
  const keys = opts.checkpointKey instanceof Uint8Array ? [opts.checkpointKey] : opts.checkpointKey;
  if (head && !keys.some((key) => checkpointMatches(key, partition, Number(head.seq), head.hash, head.checkpoint))) {
    return bad(0, Number(head.seq), null, 'the head checkpoint does not verify: the head row was edited or forged');
  }

  const hasher = createChainHasher();
  let expected = 1;
  let prevHash = GENESIS_HASH_HEX;
  let lastId: string | null = null;
  for await (const batch of source.events(partition)) {
    for (const row of batch) {
      const seq = row.seq;
      const good = expected - 1;
      if (headSeq === null) return bad(good, seq, row.id, 'the partition has events but no head checkpoint: events were inserted or the head was removed');
      if (seq > headSeq) return bad(good, seq, row.id, `event is beyond the signed head (#${headSeq}): inserted without the checkpoint key`);
      if (seq > expected) return bad(good, expected, null, `event #${expected} is missing: the chain jumps from #${expected - 1} to #${seq}`);
      if (seq < expected) return bad(good, seq, row.id, `seq #${seq} appears twice`);
      if (row.prevHash !== prevHash) {
        return bad(good, seq, row.id, `prev_hash does not link to event #${seq - 1}: events were removed, reordered or inserted`);
      }
      const edited = () => bad(good, seq, row.id, 'the hash does not match the content: the event was edited');
      if (row.at === null || row.recordIds === null) return edited();
      let detail: unknown;
      try {
        detail = row.detail === '{}' ? EMPTY : JSON.parse(row.detail);
      } catch {
        return edited();
      }
      const canonical = canonicalEventText({
        partition,
        seq,
        id: row.id,
        at: row.at,
        actor: row.actor,
        action: row.action,
        subjectId: row.subjectId,
        recordIds: row.recordIds,
        purpose: row.purpose,
        fingerprint: row.fingerprint,
        detail,
      });
      if (hasher(prevHash, canonical) !== row.hash) return edited();
      prevHash = row.hash;
      lastId = row.id;
      expected++;
      if (expected % 10_000 === 0) opts.onProgress?.({ partition, events: eventsBefore + expected - 1, partitions: partitionsBefore + 1 });
    }
  }

  const count = expected - 1;
  opts.onProgress?.({ partition, events: eventsBefore + count, partitions: partitionsBefore + 1 });
  if (head === undefined || headSeq === null) return { events: count, exists: count > 0 };
  if (count < headSeq) {
    return bad(count, count + 1, null, `event${headSeq > count + 1 ? `s #${count + 1} to` : ''} #${headSeq} missing: the signed head is at #${headSeq}, the chain ends at #${count}`);
  }
  if (head.hash !== prevHash) return bad(count - 1, count, lastId, 'the last event does not match the signed head: the end of the chain was rewritten');
  return { events: count, exists: true };
}

const EMPTY = Object.freeze({});
