// Appends audit events inside the caller's transaction, so an event exists exactly when the change it records
// does. Each partition's head row is locked for the rest of the transaction: appends to one chain queue, appends
// to other partitions (other months, other shards) run in parallel.
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { Clock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import type { Tables } from '../db/tables.ts';
import { canonicalEventText, createChainHasher, GENESIS_HASH_HEX, isoMicros, recordIdsText } from './canonical-event.ts';
import { checkpointMac, checkpointMatches } from './checkpoint.ts';
import { auditPartition } from './partition.ts';
import { validateAuditInput, validateAuditToken, type AuditInput, type ValidAuditInput } from './validate-audit-input.ts';

export type { AuditInput } from './validate-audit-input.ts';

export interface AuditContext {
  clock: Clock;
  /** Fingerprint of the register in force, recorded beside every event. */
  fingerprint: string | null;
  /**
   * From deriveCheckpointKey(masterKey). After a master-key rotation pass a list, active key first: new heads are
   * signed with the first, and a head last signed with an older one is still recognised.
   */
  checkpointKey: Uint8Array | readonly Uint8Array[];
}

export interface AppendedAuditEvent {
  id: string;
  partition: string;
  seq: number;
}

const hasher = createChainHasher();

/** One event. Call it with the transaction that makes the change the event records. */
export async function appendAuditEvent(
  trx: Kysely<Tables> | Transaction<Tables>,
  input: AuditInput,
  ctx: AuditContext,
): Promise<AppendedAuditEvent> {
  const [appended] = await appendAuditEvents(trx, [input], ctx);
  return appended!;
}

/**
 * Several events in two statements whatever their number: one locks (or creates) every head involved, one inserts
 * the events and advances the heads. Prefer it to repeated appendAuditEvent calls: it is faster, and it locks heads
 * in one sorted order, which two transactions appending to the same partitions in different orders would not.
 * Given a Kysely instance rather than a transaction, it opens its own.
 */
export async function appendAuditEvents(
  trx: Kysely<Tables> | Transaction<Tables>,
  inputs: readonly AuditInput[],
  ctx: AuditContext,
): Promise<AppendedAuditEvent[]> {
  if (inputs.length === 0) return [];
  if (!trx.isTransaction) return trx.transaction().execute((t) => appendAuditEvents(t, inputs, ctx));
  const prepared = await prepareAuditAppend(trx as Transaction<Tables>, inputs, ctx);
  await sql`WITH inserted AS (${prepared.insertEvents}) ${prepared.advanceHeads}`.execute(trx);
  return prepared.appended;
}

/** Events chained onto their locked heads, and the two statements that store them. */
export interface PreparedAuditAppend {
  readonly appended: AppendedAuditEvent[];
  /** INSERT INTO audit_event ...: run alone or as a data-modifying CTE of the caller's own statement. */
  readonly insertEvents: RawBuilder<unknown>;
  /** UPDATE audit_head ...: likewise. Both must run, in the transaction that prepared them. */
  readonly advanceHeads: RawBuilder<unknown>;
}

/**
 * Validates the events, locks (or creates) their heads and computes the chain, but stores nothing yet: the caller
 * runs the two statements in the same transaction, on their own or folded into one statement with its own writes
 * (batched collection does, saving round trips while the heads are locked). The heads stay locked until the
 * transaction ends.
 */
export async function prepareAuditAppend(trx: Transaction<Tables>, inputs: readonly AuditInput[], ctx: AuditContext): Promise<PreparedAuditAppend> {
  // Validate before touching the database: a refused event must not leave a lock or a head behind.
  const valid = inputs.map(validateAuditInput);
  const fingerprint = ctx.fingerprint === null ? null : validateAuditToken('fingerprint', ctx.fingerprint);
  const keys = ctx.checkpointKey instanceof Uint8Array ? [ctx.checkpointKey] : ctx.checkpointKey;
  if (keys.length === 0) throw new CustodianError('audit_input_invalid', 'no checkpoint key to sign the audit head with');
  if (valid.length === 0) return { appended: [], insertEvents: sql`SELECT 1`, advanceHeads: sql`SELECT 1` };
  return write(trx, valid, fingerprint, ctx.clock.now(), keys);
}

/**
 * Heads this process signed or already checked, per checkpoint key: a head row read back exactly as it was
 * written (same seq, hash and checkpoint) needs no second HMAC. Any other row, a forged one included, is checked.
 */
const verifiedHeads = new WeakMap<Uint8Array, Set<string>>();
const VERIFIED_HEADS_MAX = 4096;
const genesisCheckpoints = new WeakMap<Uint8Array, Map<string, string>>();

const headKey = (h: HeadRow) => `${h.partition}|${h.seq}|${h.hash}|${h.checkpoint}`;

function remember(key: Uint8Array, head: HeadRow): void {
  let seen = verifiedHeads.get(key);
  if (!seen) verifiedHeads.set(key, (seen = new Set()));
  if (seen.size >= VERIFIED_HEADS_MAX) seen.clear();
  seen.add(headKey(head));
}

function headVerifies(key: Uint8Array, head: HeadRow): boolean {
  if (verifiedHeads.get(key)?.has(headKey(head))) return true;
  if (!checkpointMatches(key, head.partition, Number(head.seq), head.hash, head.checkpoint)) return false;
  remember(key, head);
  return true;
}

/** The checkpoint of a new partition's empty head (seq 0, the genesis hash): the same for every append. */
function genesisCheckpoint(key: Uint8Array, partition: string): string {
  let known = genesisCheckpoints.get(key);
  if (!known) genesisCheckpoints.set(key, (known = new Map()));
  let mac = known.get(partition);
  if (mac === undefined) {
    if (known.size >= VERIFIED_HEADS_MAX) known.clear();
    known.set(partition, (mac = checkpointMac(key, partition, 0, GENESIS_HASH_HEX).toString('hex')));
  }
  return mac;
}

interface HeadRow {
  partition: string;
  seq: string | number;
  hash: string;
  checkpoint: string;
}

async function write(
  trx: Transaction<Tables>,
  events: ValidAuditInput[],
  fingerprint: string | null,
  atDate: Date,
  keys: readonly Uint8Array[],
): Promise<PreparedAuditAppend> {
  const key = keys[0]!;
  const at = isoMicros(atDate);
  const partitionOf = events.map((e) => auditPartition(atDate, e.subjectId, e.actor));
  const partitions = [...new Set(partitionOf)].sort();
  const genesisCheckpoints = partitions.map((p) => genesisCheckpoint(key, p));

  // One round trip instead of INSERT ... DO NOTHING then SELECT ... FOR UPDATE: the no-op DO UPDATE takes the same
  // row lock and returns the latest committed head, even when another transaction created it a moment ago.
  // Rows are inserted in sorted order, so concurrent batches lock shared heads in the same order (no deadlock).
  const locked = await sql<HeadRow>`
    INSERT INTO audit_head (partition, seq, hash, checkpoint, updated_at)
    SELECT u.partition, 0, decode(${GENESIS_HASH_HEX}, 'hex'), decode(u.checkpoint, 'hex'), ${at}::timestamptz
    FROM unnest(${partitions}::text[], ${genesisCheckpoints}::text[]) WITH ORDINALITY AS u(partition, checkpoint, n)
    ORDER BY u.n
    ON CONFLICT (partition) DO UPDATE SET seq = audit_head.seq
    RETURNING partition, seq, encode(hash, 'hex') AS hash, encode(checkpoint, 'hex') AS checkpoint`.execute(trx);

  // Signing a new head endorses the one before it: a head wound back or forged by someone with database rights
  // would be laundered by the next append. So fail closed: no change is recorded on top of a head that is not ours.
  for (const r of locked.rows) {
    if (!keys.some((k) => headVerifies(k, r))) {
      throw new CustodianError(
        'audit_chain_broken',
        `the audit head of partition ${r.partition} does not verify; run \`custodian audit verify\` and investigate before writing again`,
      );
    }
  }
  const heads = new Map(locked.rows.map((r) => [r.partition, { seq: Number(r.seq), hash: r.hash }]));
  const n = events.length;
  const cols = {
    partition: partitionOf,
    seq: new Array<number>(n),
    id: new Array<string>(n),
    actor: new Array<string>(n),
    action: new Array<string>(n),
    subjectId: new Array<string | null>(n),
    recordIds: new Array<string>(n),
    purpose: new Array<string | null>(n),
    detail: new Array<string>(n),
    prev: new Array<string>(n),
    hash: new Array<string>(n),
  };
  const appended: AppendedAuditEvent[] = [];
  for (let i = 0; i < n; i++) {
    const e = events[i]!;
    const partition = partitionOf[i]!;
    const head = heads.get(partition)!;
    const seq = head.seq + 1;
    const id = randomUUID();
    const recordIds = recordIdsText(e.recordIds);
    const canonical = canonicalEventText({
      partition, seq, id, at, actor: e.actor, action: e.action, subjectId: e.subjectId, recordIds,
      purpose: e.purpose, fingerprint, detail: e.detail,
    });
    const hash = hasher(head.hash, canonical);
    cols.seq[i] = seq;
    cols.id[i] = id;
    cols.actor[i] = e.actor;
    cols.action[i] = e.action;
    cols.subjectId[i] = e.subjectId;
    cols.recordIds[i] = recordIds;
    cols.purpose[i] = e.purpose;
    cols.detail[i] = JSON.stringify(e.detail);
    cols.prev[i] = head.hash;
    cols.hash[i] = hash;
    head.seq = seq;
    head.hash = hash;
    appended.push({ id, partition, seq });
  }

  const headPartitions = [...heads.keys()];
  const headSeqs = headPartitions.map((p) => heads.get(p)!.seq);
  const headHashes = headPartitions.map((p) => heads.get(p)!.hash);
  const headCheckpoints = headPartitions.map((p, i) => checkpointMac(key, p, headSeqs[i]!, headHashes[i]!).toString('hex'));
  headPartitions.forEach((partition, i) => remember(key, { partition, seq: headSeqs[i]!, hash: headHashes[i]!, checkpoint: headCheckpoints[i]! }));

  // Hashes travel as hex text and record ids as array literals: plain text[] parameters, identical on pg and PGlite.
  const insertEvents = sql`
    INSERT INTO audit_event (partition, seq, id, at, actor, action, subject_id, record_ids, purpose, fingerprint, detail, prev_hash, hash)
    SELECT u.partition, u.seq, u.id, ${at}::timestamptz, u.actor, u.action, u.subject_id, u.record_ids::uuid[], u.purpose,
           ${fingerprint}::text, u.detail::jsonb, decode(u.prev, 'hex'), decode(u.hash, 'hex')
    FROM unnest(${cols.partition}::text[], ${cols.seq}::bigint[], ${cols.id}::uuid[], ${cols.actor}::text[],
                ${cols.action}::text[], ${cols.subjectId}::uuid[], ${cols.recordIds}::text[], ${cols.purpose}::text[],
                ${cols.detail}::text[], ${cols.prev}::text[], ${cols.hash}::text[])
         AS u(partition, seq, id, actor, action, subject_id, record_ids, purpose, detail, prev, hash)`;
  const advanceHeads = sql`
    UPDATE audit_head h
    SET seq = v.seq, hash = decode(v.hash, 'hex'), checkpoint = decode(v.checkpoint, 'hex'), updated_at = ${at}::timestamptz
    FROM unnest(${headPartitions}::text[], ${headSeqs}::bigint[], ${headHashes}::text[], ${headCheckpoints}::text[])
         AS v(partition, seq, hash, checkpoint)
    WHERE h.partition = v.partition`;
  return { appended, insertEvents, advanceHeads };
}
