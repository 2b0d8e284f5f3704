// The only SQL for audit_event and audit_head outside verification (verify/chain-store.ts reads them in bulk).
// The statements here are called by the auditor (auditor.ts), never by other folders: they write through it.
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import { prepared } from '../db/prepared.ts';
import type { Tables } from '../db/tables.ts';
import { AT_MICROS_SQL, GENESIS_HASH_HEX, type AuditDetail } from './canonical-event.ts';
import type { HeadRow } from './head-memo.ts';

/**
 * Locks (or creates) each partition's head and returns the latest committed one. One round trip instead of INSERT
 * ... DO NOTHING then SELECT ... FOR UPDATE: the no-op DO UPDATE takes the same row lock and returns the head even
 * when another transaction created it a moment ago. Rows go in sorted order, so concurrent batches lock shared
 * heads in the same order (no deadlock).
 */
export async function lockHeads(
  trx: Transaction<Tables>,
  partitions: readonly string[],
  genesisCheckpoints: readonly string[],
  at: string,
): Promise<(HeadRow & { xid: string })[]> {
  const locked = await prepared(sql<HeadRow & { xid: string }>`
    INSERT INTO audit_head (partition, seq, hash, checkpoint, updated_at)
    SELECT u.partition, 0, decode(${GENESIS_HASH_HEX}, 'hex'), decode(u.checkpoint, 'hex'), ${at}::timestamptz
    FROM unnest(${[...partitions]}::text[], ${[...genesisCheckpoints]}::text[]) WITH ORDINALITY AS u(partition, checkpoint, n)
    ORDER BY u.n
    ON CONFLICT (partition) DO UPDATE SET seq = audit_head.seq
    RETURNING partition, seq, encode(hash, 'hex') AS hash, encode(checkpoint, 'hex') AS checkpoint, pg_current_xact_id()::text AS xid`).execute(trx);
  return locked.rows;
}

/**
 * Whether an earlier transaction committed ('committed', 'aborted'), or null when the database cannot say: an xid
 * from after a restored backup is "in the future" to it.
 */
export async function transactionStatus(trx: Transaction<Tables>, xid: string): Promise<string | null> {
  if (!/^\d{1,20}$/.test(xid)) return null;
  // In a savepoint: the error for an xid "in the future" must not abort the caller's transaction.
  await sql`SAVEPOINT custodian_xact_status`.execute(trx);
  try {
    const row = (await sql<{ status: string | null }>`SELECT pg_xact_status(${xid}::xid8) AS status`.execute(trx)).rows[0];
    await sql`RELEASE SAVEPOINT custodian_xact_status`.execute(trx);
    return row?.status ?? null;
  } catch {
    await sql`ROLLBACK TO SAVEPOINT custodian_xact_status`.execute(trx);
    return null;
  }
}

/** Column arrays of the events to insert, in order. */
export interface EventColumns {
  readonly partition: readonly string[];
  readonly seq: readonly number[];
  readonly id: readonly string[];
  readonly actor: readonly string[];
  readonly action: readonly string[];
  readonly subjectId: readonly (string | null)[];
  readonly recordIds: readonly string[];
  readonly purpose: readonly (string | null)[];
  readonly detail: readonly string[];
  readonly prev: readonly string[];
  readonly hash: readonly string[];
}

/**
 * INSERT INTO audit_event ...: run alone or as a data-modifying CTE of a bigger statement. Hashes travel as hex text
 * and record ids as array literals: plain text[] parameters, identical on pg and PGlite.
 */
export function insertEventsSql(cols: EventColumns, at: string, fingerprint: string | null): RawBuilder<unknown> {
  return sql`
    INSERT INTO audit_event (partition, seq, id, at, actor, action, subject_id, record_ids, purpose, fingerprint, detail, prev_hash, hash)
    SELECT u.partition, u.seq, u.id, ${at}::timestamptz, u.actor, u.action, u.subject_id, u.record_ids::uuid[], u.purpose,
           ${fingerprint}::text, u.detail::jsonb, decode(u.prev, 'hex'), decode(u.hash, 'hex')
    FROM unnest(${cols.partition}::text[], ${cols.seq}::bigint[], ${cols.id}::uuid[], ${cols.actor}::text[],
                ${cols.action}::text[], ${cols.subjectId}::uuid[], ${cols.recordIds}::text[], ${cols.purpose}::text[],
                ${cols.detail}::text[], ${cols.prev}::text[], ${cols.hash}::text[])
         AS u(partition, seq, id, actor, action, subject_id, record_ids, purpose, detail, prev, hash)`;
}

/** UPDATE audit_head ...: likewise, for the heads the events advanced. */
export function advanceHeadsSql(heads: { partition: string[]; seq: number[]; hash: string[]; checkpoint: string[] }, at: string): RawBuilder<unknown> {
  return sql`
    UPDATE audit_head h
    SET seq = v.seq, hash = decode(v.hash, 'hex'), checkpoint = decode(v.checkpoint, 'hex'), updated_at = ${at}::timestamptz
    FROM unnest(${heads.partition}::text[], ${heads.seq}::bigint[], ${heads.hash}::text[], ${heads.checkpoint}::text[])
         AS v(partition, seq, hash, checkpoint)
    WHERE h.partition = v.partition`;
}

/**
 * The head advance of a guarded append: `audit_guard AS (UPDATE ... only if the head is still exactly the one the
 * events were chained onto ... RETURNING 1)`, then `audit_events AS (INSERT ... only if audit_guard has a row)`.
 * Both are CTEs of the caller's single statement, which guards its own writes with `EXISTS (SELECT 1 FROM audit_guard)`.
 */
export function guardedAppendCtes(
  insertEvents: RawBuilder<unknown>,
  head: { partition: string; from: { seq: number; hash: string; checkpoint: string }; to: { seq: number; hash: string; checkpoint: string } },
  at: string,
): RawBuilder<unknown> {
  return sql`audit_guard AS (
      UPDATE audit_head SET seq = ${head.to.seq}::bigint, hash = decode(${head.to.hash}, 'hex'), checkpoint = decode(${head.to.checkpoint}, 'hex'),
                            updated_at = ${at}::timestamptz
      WHERE partition = ${head.partition} AND seq = ${head.from.seq}::bigint AND hash = decode(${head.from.hash}, 'hex')
        AND checkpoint = decode(${head.from.checkpoint}, 'hex')
      RETURNING 1
    ),
    audit_events AS (${insertEvents} WHERE EXISTS (SELECT 1 FROM audit_guard))`;
}

/** The condition a guarded append's caller puts on its own writes. */
export const AUDIT_GUARD_HELD: RawBuilder<unknown> = sql`EXISTS (SELECT 1 FROM audit_guard)`;

/** A statement that does nothing, for an append of no events folded into a bigger statement. */
export const NOOP_SQL: RawBuilder<unknown> = sql`SELECT 1`;

/** Both statements in one round trip. */
export async function runAppend(trx: Transaction<Tables>, insertEvents: RawBuilder<unknown>, advanceHeads: RawBuilder<unknown>): Promise<void> {
  await sql`WITH inserted AS (${insertEvents}) ${advanceHeads}`.execute(trx);
}

/** Every head, locked until the transaction ends (re-signing after a key rotation). */
export async function lockAllHeads(trx: Transaction<Tables>): Promise<HeadRow[]> {
  const heads = await sql<HeadRow>`
    SELECT partition, seq::text AS seq, encode(hash, 'hex') AS hash, encode(checkpoint, 'hex') AS checkpoint
    FROM audit_head ORDER BY partition FOR UPDATE`.execute(trx);
  return heads.rows;
}

export async function setHeadCheckpoint(trx: Transaction<Tables>, partition: string, checkpoint: Uint8Array): Promise<void> {
  await trx.updateTable('audit_head').set({ checkpoint }).where('partition', '=', partition).execute();
}

/** The head written last, if any. */
export async function latestHead(db: Kysely<Tables>): Promise<HeadRow | undefined> {
  const { rows } = await sql<HeadRow>`
    SELECT partition, seq::text AS seq, encode(hash, 'hex') AS hash, encode(checkpoint, 'hex') AS checkpoint
    FROM audit_head ORDER BY updated_at DESC, partition LIMIT 1`.execute(db);
  return rows[0];
}

export async function countHeads(db: Kysely<Tables>): Promise<number> {
  const row = await db
    .selectFrom('audit_head')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface AuditLogRow {
  id: string;
  partition: string;
  seq: string | number;
  actor: string;
  action: string;
  subject_id: string | null;
  record_ids: string[];
  purpose: string | null;
  fingerprint: string | null;
  detail: AuditDetail;
  /** UTC with microseconds, exact for the paging cursor. */
  at_text: string;
}

export interface AuditLogSelection {
  readonly subjectId?: string;
  readonly actor?: string;
  readonly action?: string;
  readonly from?: Date;
  readonly to?: Date;
  readonly limit: number;
  /** Keyset position: events strictly older than (at, seq, id). */
  readonly before?: { readonly at: string; readonly seq: string; readonly id: string };
}

/** Newest first; a batch shares one instant, so seq keeps its append order and id settles ties across partitions. */
export async function selectAuditLog(db: Kysely<Tables>, s: AuditLogSelection): Promise<AuditLogRow[]> {
  let q = db
    .selectFrom('audit_event')
    .select([
      'id',
      'partition',
      'seq',
      'actor',
      'action',
      'subject_id',
      'record_ids',
      'purpose',
      'fingerprint',
      'detail',
      sql<string>`${sql.raw(AT_MICROS_SQL)}`.as('at_text'),
    ])
    .orderBy('at', 'desc')
    .orderBy('seq', 'desc')
    .orderBy('id', 'desc')
    .limit(s.limit);
  if (s.subjectId !== undefined) q = q.where('subject_id', '=', s.subjectId);
  if (s.actor !== undefined) q = q.where('actor', '=', s.actor);
  if (s.action !== undefined) q = q.where('action', '=', s.action);
  if (s.from !== undefined) q = q.where('at', '>=', s.from);
  if (s.to !== undefined) q = q.where('at', '<', s.to);
  if (s.before !== undefined) q = q.where(sql<boolean>`(at, seq, id) < (${s.before.at}::timestamptz, ${s.before.seq}::bigint, ${s.before.id}::uuid)`);
  return q.execute();
}

/** Serialises checkpointing across processes until the transaction ends. */
export async function lockCheckpointing(trx: Transaction<Tables>): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext('custodian:audit-checkpoint'))`.execute(trx);
}

/** Every head as it stands, sorted by partition. */
export async function allHeads(db: Kysely<Tables>): Promise<{ partition: string; seq: number; hash: string; checkpoint: string }[]> {
  const { rows } = await sql<{ partition: string; seq: string; hash: string; checkpoint: string }>`
    SELECT partition, seq::text AS seq, encode(hash, 'hex') AS hash, encode(checkpoint, 'hex') AS checkpoint FROM audit_head ORDER BY partition`.execute(db);
  return rows.map((r) => ({ partition: r.partition, seq: Number(r.seq), hash: r.hash, checkpoint: r.checkpoint }));
}

/** The hash of the event at `seq` in each partition asked for (absent when there is no such event). */
export async function eventHashesAt(db: Kysely<Tables>, at: readonly { partition: string; seq: number }[]): Promise<Map<string, string>> {
  if (at.length === 0) return new Map();
  const { rows } = await sql<{ partition: string; hash: string }>`
    SELECT e.partition, encode(e.hash, 'hex') AS hash
    FROM unnest(${at.map((a) => a.partition)}::text[], ${at.map((a) => a.seq)}::bigint[]) AS w(partition, seq)
    JOIN audit_event e ON e.partition = w.partition AND e.seq = w.seq`.execute(db);
  return new Map(rows.map((r) => [r.partition, r.hash]));
}

export interface CheckpointRow {
  readonly seq: number;
  readonly body: string;
  readonly signature: Uint8Array;
}

export async function latestCheckpointRow(db: Kysely<Tables>): Promise<CheckpointRow | undefined> {
  const row = await db.selectFrom('audit_checkpoint').select(['seq', 'body', 'signature']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return row && { seq: Number(row.seq), body: row.body, signature: row.signature };
}

export async function checkpointRowAt(db: Kysely<Tables>, seq: number): Promise<CheckpointRow | undefined> {
  const row = await db.selectFrom('audit_checkpoint').select(['seq', 'body', 'signature']).where('seq', '=', seq).executeTakeFirst();
  return row && { seq: Number(row.seq), body: row.body, signature: row.signature };
}

export async function insertCheckpointRow(trx: Transaction<Tables>, row: CheckpointRow & { at: Date }): Promise<void> {
  await trx.insertInto('audit_checkpoint').values({ seq: row.seq, at: row.at, body: row.body, signature: row.signature }).execute();
}

/**
 * Fields of the detail of every event of `action`, as text (null where absent): a subquery for a store that checks its
 * rows against what the trail says of them (the consent ledger, against the digests its events carry).
 */
export function eventDetailFieldsSql(action: string, fields: readonly string[]): RawBuilder<unknown> {
  return sql`SELECT ${sql.join(fields.map((f) => sql`detail->>${f} AS ${sql.id(f)}`))} FROM audit_event WHERE action = ${action}`;
}

/** The distinct record ids that events of `action` name, as a subquery for a store that checks its records against them. */
export function recordIdsOfEventsSql(action: string): RawBuilder<unknown> {
  return sql`SELECT DISTINCT unnest(record_ids) AS id FROM audit_event WHERE action = ${action}`;
}

/** The events that name a rights request (detail.request), oldest first: the request's part of the trail. */
export interface RequestEventRow {
  readonly partition: string;
  readonly seq: string;
  readonly id: string;
  readonly at_text: string;
  readonly actor: string;
  readonly action: string;
  readonly subject_id: string | null;
  readonly record_ids: string[];
  readonly detail: unknown;
  readonly hash: string;
}

export async function eventsNamingRequest(db: Kysely<Tables>, requestId: string, since: Date): Promise<RequestEventRow[]> {
  const { rows } = await sql<RequestEventRow>`
    SELECT partition, seq, id, ${sql.raw(AT_MICROS_SQL)} AS at_text, actor, action, subject_id, record_ids, detail, encode(hash, 'hex') AS hash
    FROM audit_event WHERE at >= ${since} AND detail->>'request' = ${requestId}
    ORDER BY at, partition, seq`.execute(db);
  return rows;
}

/** An event found by what its detail names: its chain position and hash, the name, and the detail's digest. */
export interface NamingEventRow {
  readonly partition: string;
  readonly seq: string;
  readonly id: string;
  readonly at_text: string;
  readonly hash: string;
  /** The value of the first of the fields asked for that the detail has. */
  readonly named: string;
  readonly rows: string | null;
}

/**
 * The events of `action` whose detail names one of `values` in the first of `fields` it has, appended at one of the
 * instants `at` (a writer stamps an event and the rows it names alike, and `at` is indexed), oldest first.
 */
export async function eventsNaming(
  db: Kysely<Tables>,
  action: string,
  fields: readonly string[],
  values: readonly string[],
  at: readonly Date[],
): Promise<NamingEventRow[]> {
  if (values.length === 0 || at.length === 0) return [];
  const named = sql`coalesce(${sql.join(fields.map((f) => sql`detail->>${f}`))})`;
  const { rows } = await sql<NamingEventRow>`
    SELECT partition, seq::text AS seq, id::text AS id, ${sql.raw(AT_MICROS_SQL)} AS at_text, encode(hash, 'hex') AS hash,
           ${named} AS named, detail->>'rows' AS rows
    FROM audit_event WHERE at = ANY(${[...at]}::timestamptz[]) AND action = ${action} AND ${named} = ANY(${[...values]}::text[])
    ORDER BY at, partition, seq`.execute(db);
  return rows;
}

/** The first signed checkpoint made at or after a time: it covers every event appended before it. */
export async function firstCheckpointSince(db: Kysely<Tables>, at: Date): Promise<(CheckpointRow & { at: Date }) | undefined> {
  return db
    .selectFrom('audit_checkpoint')
    .select(['seq', 'body', 'signature', 'at'])
    .where('at', '>=', at)
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst() as Promise<(CheckpointRow & { at: Date }) | undefined>;
}
