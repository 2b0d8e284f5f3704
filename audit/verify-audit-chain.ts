// Recomputes every chain from its first event and checks it against its signed head. Reads one consistent
// snapshot (REPEATABLE READ), so events appended while it runs are neither half-seen nor mistaken for forgeries.
import { hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import type { Db } from '../db/connect.ts';
import type { Tables } from '../db/tables.ts';
import { binaryCopyTuples } from '../db/copy-binary.ts';
import { COPY_COLUMNS, COPY_FIELDS, CopyEventBatch, type EventBatch } from './copy-event-batch.ts';
import { AT_MICROS_SQL, canonicalEventText } from './canonical-event.ts';
import { checkpointMatches } from './checkpoint.ts';
import { verifyOnThreads } from './verify-threads.ts';

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
  /**
   * PostgreSQL: partitions verified at once, each on a thread with its own connection, all reading one snapshot.
   * Default: one fewer than the machine's cores (the server needs one per stream too), at most 4; on two cores that
   * is one, as measured there (bench/README.md). PGlite always verifies in this thread.
   */
  threads?: number;
  onProgress?: (progress: VerifyProgress) => void;
}

export interface HeadRow {
  seq: string;
  hash: string;
  checkpoint: string;
}

export type Verdict = { events: number; exists: boolean; bad?: AuditChainBreak };

/** Where the verifier reads from, inside one REPEATABLE READ snapshot. */
export interface ChainSource {
  partitions(): Promise<string[]>;
  head(partition: string): Promise<HeadRow | undefined>;
  /** The partition's events in seq order, in batches (one await per batch, not per event). */
  events(partition: string): AsyncIterable<EventBatch>;
}

export async function verifyAuditChain(db: Db, opts: VerifyAuditOptions): Promise<VerifyAuditResult> {
  // PostgreSQL: one COPY stream per partition, decoded here (several times faster than row-by-row results), and
  // several partitions at once on threads of their own, all in the snapshot this transaction exports.
  if (db.withPgClient) {
    return db.withPgClient(async (client, broken) => {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        for (const setting of PLAN_SETTINGS) await client.query(setting);
        const source = copySource(client, broken);
        const threads = opts.partition === undefined && db.postgres ? (opts.threads ?? Math.max(1, Math.min(availableParallelism() - 1, 4))) : 1;
        if (threads > 1) {
          const partitions = await source.partitions();
          if (partitions.length > 1) return await verifyOnThreads(client, db.postgres!, partitions, Math.min(threads, partitions.length), opts);
        }
        return await verifyFrom(source, opts);
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
export const PLAN_SETTINGS = ['SET LOCAL enable_seqscan = off', 'SET LOCAL enable_bitmapscan = off', 'SET LOCAL enable_sort = off'];

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
  return {
    partitions: async () => (await sql<{ partition: string }>`${sql.raw(PARTITIONS_SQL)}`.execute(trx)).rows.map((r) => r.partition).sort(),
    head: async (partition) =>
      (await sql<HeadRow>`SELECT seq::text AS seq, encode(hash, 'hex') AS hash, encode(checkpoint, 'hex') AS checkpoint FROM audit_head WHERE partition = ${partition}`.execute(trx)).rows[0],
    async *events(partition) {
      const fetchPage = (afterSeq: string) =>
        sql<PageRow>`SELECT seq::text AS seq, id::text AS id, ${sql.raw(AT_MICROS_SQL)} AS at, actor, action,
            subject_id::text AS subject_id, record_ids::text AS record_ids, purpose, fingerprint, detail::text AS detail, prev_hash, hash
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
          yield new RowEventBatch(rows);
        }
      } finally {
        // On an early return a prefetched page may still be in flight; let it settle before the transaction ends.
        if (pending) await pending.catch(() => undefined);
      }
    },
  };
}

/** A page of rows with everything as text, hashes as bytes. */
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
  prev_hash: Uint8Array;
  hash: Uint8Array;
}

/** Rows read as text: the canonical text is built by canonicalEventText itself. */
class RowEventBatch implements EventBatch {
  readonly count: number;
  readonly #rows: PageRow[];

  constructor(rows: PageRow[]) {
    this.#rows = rows;
    this.count = rows.length;
  }

  seq(i: number): number {
    return Number(this.#rows[i]!.seq);
  }

  id(i: number): string {
    return this.#rows[i]!.id;
  }

  linksTo(i: number, prev: Uint8Array): boolean {
    return Buffer.compare(this.#rows[i]!.prev_hash, prev) === 0;
  }

  copyHash(i: number, into: Uint8Array): void {
    into.set(this.#rows[i]!.hash.subarray(0, 32));
  }

  hashVerifies(i: number, prev: Uint8Array, partition: string): boolean {
    const r = this.#rows[i]!;
    let detail: unknown;
    try {
      detail = JSON.parse(r.detail);
    } catch {
      return false;
    }
    const canonical = canonicalEventText({
      partition, seq: Number(r.seq), id: r.id, at: r.at, actor: r.actor, action: r.action, subjectId: r.subject_id,
      recordIds: r.record_ids, purpose: r.purpose, fingerprint: r.fingerprint, detail,
    });
    const digest = hash('sha256', Buffer.concat([prev, Buffer.from(canonical, 'utf8')]), 'binary');
    return digest === Buffer.from(r.hash).toString('binary');
  }
}

/** COPY ... TO STDOUT (FORMAT binary), decoded here (PostgreSQL): the server formats nothing as text. */
export function copySource(client: pg.ClientBase, broken: () => void): ChainSource {
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
        for await (const tuples of binaryCopyTuples(stream as AsyncIterable<Buffer>, COPY_FIELDS)) yield new CopyEventBatch(tuples);
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

export async function verifyPartition(
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

  let expected = 1;
  const prev = new Uint8Array(32); // the genesis link: 32 zero bytes
  let lastId: string | null = null;
  for await (const batch of source.events(partition)) {
    let last = -1;
    for (let i = 0; i < batch.count; i++) {
      const seq = batch.seq(i);
      const good = expected - 1;
      if (headSeq === null) return bad(good, seq, batch.id(i), 'the partition has events but no head checkpoint: events were inserted or the head was removed');
      if (seq > headSeq) return bad(good, seq, batch.id(i), `event is beyond the signed head (#${headSeq}): inserted without the checkpoint key`);
      if (seq > expected) return bad(good, expected, null, `event #${expected} is missing: the chain jumps from #${expected - 1} to #${seq}`);
      if (seq < expected) return bad(good, seq, batch.id(i), `seq #${seq} appears twice`);
      if (!batch.linksTo(i, prev)) {
        return bad(good, seq, batch.id(i), `prev_hash does not link to event #${seq - 1}: events were removed, reordered or inserted`);
      }
      if (!batch.hashVerifies(i, prev, partition)) return bad(good, seq, batch.id(i), 'the hash does not match the content: the event was edited');
      batch.copyHash(i, prev);
      last = i;
      expected++;
      if (expected % 10_000 === 0) opts.onProgress?.({ partition, events: eventsBefore + expected - 1, partitions: partitionsBefore + 1 });
    }
    if (last >= 0) lastId = batch.id(last);
  }

  const count = expected - 1;
  opts.onProgress?.({ partition, events: eventsBefore + count, partitions: partitionsBefore + 1 });
  if (head === undefined || headSeq === null) return { events: count, exists: count > 0 };
  if (count < headSeq) {
    return bad(count, count + 1, null, `event${headSeq > count + 1 ? `s #${count + 1} to` : ''} #${headSeq} missing: the signed head is at #${headSeq}, the chain ends at #${count}`);
  }
  if (head.hash !== Buffer.from(prev).toString('hex')) return bad(count - 1, count, lastId, 'the last event does not match the signed head: the end of the chain was rewritten');
  return { events: count, exists: true };
}

