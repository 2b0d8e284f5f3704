// Recomputes every chain from its first event and checks it against its signed head. Reads one consistent
// snapshot (REPEATABLE READ), so events appended while it runs are neither half-seen nor mistaken for forgeries.
import { availableParallelism } from 'node:os';
import type { Db } from '../../db/connect.ts';
import { checkpointKeyObjects, checkpointMatches, type CheckpointKey } from '../checkpoint.ts';
import { inCopySnapshot, inPartitionSnapshots, type ChainSource } from './chain-store.ts';
import { verifyOnThreads } from './verify-threads.ts';

interface AuditChainBreak {
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
  checkpointKey: CheckpointKey | readonly CheckpointKey[];
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

export type Verdict = { events: number; exists: boolean; bad?: AuditChainBreak };

export async function verifyAuditChain(db: Db, opts: VerifyAuditOptions): Promise<VerifyAuditResult> {
  // PostgreSQL: one COPY stream per partition, decoded here (several times faster than row-by-row results), and
  // several partitions at once on threads of their own, all in the snapshot this transaction exports.
  if (db.withPgClient) {
    return inCopySnapshot(db, async (source, client) => {
      const threads = opts.partition === undefined && db.postgres ? (opts.threads ?? Math.max(1, Math.min(availableParallelism() - 1, 4))) : 1;
      if (threads > 1) {
        const partitions = await source.partitions();
        if (partitions.length > 1) return verifyOnThreads(client, db.postgres!, partitions, Math.min(threads, partitions.length), opts);
      }
      return verifyFrom(source, opts);
    });
  }
  return inPartitionSnapshots(db, opts.pageSize ?? 10_000, (source) => verifyFrom(source, opts));
}

async function verifyFrom(source: ChainSource, opts: VerifyAuditOptions): Promise<VerifyAuditResult> {
  const partitions = opts.partition !== undefined ? [opts.partition] : await source.partitions();
  let events = 0;
  let seen = 0;
  for (const partition of partitions) {
    const verify = (from: ChainSource) => verifyPartition(from, partition, opts, events, seen);
    const verdict = source.inPartition ? await source.inPartition(partition, verify) : await verify(source);
    events += verdict.events;
    if (verdict.exists) seen++;
    if (verdict.bad) return { ok: false, events, partitions: seen, firstBad: verdict.bad };
  }
  return { ok: true, events, partitions: seen };
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
  const keys = checkpointKeyObjects(opts.checkpointKey);
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
    return bad(
      count,
      count + 1,
      null,
      `event${headSeq > count + 1 ? `s #${count + 1} to` : ''} #${headSeq} missing: the signed head is at #${headSeq}, the chain ends at #${count}`,
    );
  }
  if (head.hash !== Buffer.from(prev).toString('hex'))
    return bad(count - 1, count, lastId, 'the last event does not match the signed head: the end of the chain was rewritten');
  return { events: count, exists: true };
}
