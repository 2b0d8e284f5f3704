// Which hash chain an event joins. One chain per month and shard, so concurrent writers contend only when they
// touch the same shard in the same month, and a month's chains can later be dropped or archived whole.
import { createHash } from 'node:crypto';

export const AUDIT_SHARDS = 16;

/**
 * `YYYY-MM/<shard>`: the month of `at` in UTC, and a shard from a stable hash of the subject id (events about one
 * subject stay in one chain per month). Events without a subject are spread by actor, so sign-ins do not all
 * queue behind one head row. A tenant prefix will be added here, and only here.
 */
export function auditPartition(at: Date, subjectId: string | null, actor: string): string {
  const month = at.toISOString().slice(0, 7);
  const key = subjectId === null ? `actor:${actor}` : subjectId.toLowerCase();
  return `${month}/${shardOf(key)}`;
}

/** Shards worked out lately: a writer appending as one actor again and again hashes it once. */
const shards = new Map<string, string>();

function shardOf(key: string): string {
  let shard = shards.get(key);
  if (shard === undefined) {
    // 256 is a multiple of 16, so the first digest byte spreads evenly over the shards.
    shard = String(createHash('sha256').update(key).digest()[0]! % AUDIT_SHARDS).padStart(2, '0');
    if (shards.size >= 10_000) shards.clear();
    shards.set(key, shard);
  }
  return shard;
}
