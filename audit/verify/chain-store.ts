// How verification reads the trail: inside one REPEATABLE READ snapshot, partition by partition, by COPY (binary, on
// PostgreSQL) or keyset pages (PGlite). The only SQL of audit/verify/; it reads audit_event and audit_head, never
// writes them.
import { sql, type Kysely, type Transaction } from 'kysely';
import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { binaryCopyTuples } from '../../db/copy-binary.ts';
import type { Db } from '../../db/connect.ts';
import type { Tables } from '../../db/tables.ts';
import { AT_MICROS_SQL } from '../canonical-event.ts';
import { COPY_COLUMNS, COPY_FIELDS, CopyEventBatch, type EventBatch } from './copy-event-batch.ts';
import { RowEventBatch, type PageRow } from './row-event-batch.ts';

interface HeadRow {
  seq: string;
  hash: string;
  checkpoint: string;
}

/** Where the verifier reads from, inside one REPEATABLE READ snapshot. */
export interface ChainSource {
  partitions(): Promise<string[]>;
  head(partition: string): Promise<HeadRow | undefined>;
  /** The partition's events in seq order, in batches (one await per batch, not per event). */
  events(partition: string): AsyncIterable<EventBatch>;
  /**
   * Runs `fn` with a source that reads this one partition in a snapshot of its own (PGlite: one transaction per
   * chain, so a long verification never holds the only connection for long). Absent: the source is one snapshot.
   */
  inPartition?<T>(partition: string, fn: (source: ChainSource) => Promise<T>): Promise<T>;
}

// Walk the primary key in seq order. Left to itself the planner reads a large page by bitmap scan and then sorts it
// (spilling to disk), because one partition's rows are spread over the whole table: several times slower.
const PLAN_SETTINGS = ['SET LOCAL enable_seqscan = off', 'SET LOCAL enable_bitmapscan = off', 'SET LOCAL enable_sort = off'];

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

/**
 * PostgreSQL: a pooled connection in a read-only snapshot, reading by COPY. `fn` also gets the connection, to export
 * the snapshot to verifier threads. The transaction is rolled back afterwards; an abandoned COPY closes the connection.
 */
export async function inCopySnapshot<T>(db: Db, fn: (source: ChainSource, client: pg.PoolClient) => Promise<T>): Promise<T> {
  return db.withPgClient!(async (client, broken) => {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    try {
      for (const setting of PLAN_SETTINGS) await client.query(setting);
      return await fn(copySource(client, broken), client);
    } finally {
      await client.query('ROLLBACK').catch(() => broken());
    }
  });
}

/**
 * PGlite (or any Kysely): keyset pages, the next page fetched while this one is hashed, each chain in a read-only
 * snapshot of its own. Chains are independent, so a snapshot per chain sees each one whole; and the one connection
 * PGlite has is held for one chain at a time, so collection goes on between chains instead of waiting for the end.
 */
export async function inPartitionSnapshots<T>(db: Db, pageSize: number, fn: (source: ChainSource) => Promise<T>): Promise<T> {
  const snapshot = <R>(body: (trx: Transaction<Tables>) => Promise<R>) =>
    db.kysely.transaction().execute(async (trx) => {
      // Set in SQL rather than through Kysely's transaction settings, which its PGlite driver does not apply.
      await sql`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`.execute(trx);
      for (const setting of PLAN_SETTINGS) await sql.raw(setting).execute(trx);
      return body(trx);
    });
  const outer: ChainSource = {
    partitions: () => snapshot((trx) => pagedSource(trx, pageSize).partitions()),
    head: (partition) => snapshot((trx) => pagedSource(trx, pageSize).head(partition)),
    events: () => {
      throw new Error('read a partition inside inPartition');
    },
    inPartition: (_partition, body) => snapshot((trx) => body(pagedSource(trx, pageSize))),
  };
  return fn(outer);
}

/** The snapshot id other connections join to see exactly what this transaction sees. */
export async function exportSnapshot(client: pg.ClientBase): Promise<string> {
  const { rows } = await client.query<{ snapshot: string }>('SELECT pg_export_snapshot() AS snapshot');
  return rows[0]!.snapshot;
}

/** A verifier thread's own connection, joined to the snapshot the calling transaction exported. */
export async function joinSnapshot(client: pg.ClientBase, snapshot: string): Promise<void> {
  if (!/^[0-9A-F-]+$/i.test(snapshot)) throw new Error('not a snapshot id');
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  await client.query(`SET TRANSACTION SNAPSHOT '${snapshot}'`);
  for (const setting of PLAN_SETTINGS) await client.query(setting);
}

export async function leaveSnapshot(client: pg.ClientBase): Promise<void> {
  await client.query('ROLLBACK');
}

function pagedSource(trx: Kysely<Tables> | Transaction<Tables>, pageSize: number): ChainSource {
  return {
    partitions: async () => (await sql<{ partition: string }>`${sql.raw(PARTITIONS_SQL)}`.execute(trx)).rows.map((r) => r.partition).sort(),
    head: async (partition) =>
      (
        await sql<HeadRow>`SELECT seq::text AS seq, encode(hash, 'hex') AS hash, encode(checkpoint, 'hex') AS checkpoint FROM audit_head WHERE partition = ${partition}`.execute(
          trx,
        )
      ).rows[0],
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

/** COPY ... TO STDOUT (FORMAT binary), decoded here (PostgreSQL): the server formats nothing as text. */
export function copySource(client: pg.ClientBase, broken: () => void): ChainSource {
  return {
    partitions: async () => (await client.query<{ partition: string }>(PARTITIONS_SQL)).rows.map((r) => r.partition).sort(),
    head: async (partition) => (await client.query<HeadRow>(HEAD_SQL, [partition])).rows[0],
    async *events(partition) {
      const literal = `'${partition.replace(/'/g, "''")}'`;
      const stream = client.query(copyTo(`COPY (SELECT ${COPY_COLUMNS} FROM audit_event WHERE partition = ${literal} ORDER BY seq) TO STDOUT (FORMAT binary)`));
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
