// The only SQL for marketing_suppression: keyed hashes of identifiers never to be sent marketing again, per channel.
// Append-only (the database refuses UPDATE and DELETE); an entry already there is kept as it was.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Auditor } from '../audit/auditor.ts';
import type { Tables } from '../db/tables.ts';
import type { SuppressionChannel, SuppressionReason } from './tables.ts';

export interface SuppressionEntry {
  readonly hash: Uint8Array;
  readonly channel: SuppressionChannel;
}

/** Adds entries (those already listed are left as they are) with one `marketing.suppress` audit event; returns how many were new. */
export async function insertSuppressions(
  ex: Kysely<Tables>,
  auditor: Auditor,
  input: { entries: readonly SuppressionEntry[]; reason: SuppressionReason; subjectId: string | null; actor: string; now: Date },
): Promise<number> {
  if (input.entries.length === 0) return 0;
  const { rows } = await sql<{ n: string }>`
    WITH added AS (
      INSERT INTO marketing_suppression (hash, channel, reason, created_at)
      SELECT u.hash, u.channel, ${input.reason}, ${input.now}::timestamptz
      FROM unnest(${input.entries.map((e) => Buffer.from(e.hash))}::bytea[], ${input.entries.map((e) => e.channel)}::text[]) AS u(hash, channel)
      ON CONFLICT (hash, channel) DO NOTHING
      RETURNING 1
    )
    SELECT count(*)::text AS n FROM added`.execute(ex);
  const added = Number(rows[0]!.n);
  await auditor.append(ex, {
    actor: input.actor,
    action: 'marketing.suppress',
    subjectId: input.subjectId,
    detail: { reason: input.reason, entries: input.entries.length, added, channels: [...new Set(input.entries.map((e) => e.channel))].sort().join(',') },
  });
  return added;
}

/**
 * The INSERT of entries, as a data-modifying CTE of subjects/collect's batch statement (objections ticked on a form or
 * sent as Global Privacy Control), which carries their `marketing.suppress` audit events in the same statement.
 */
export function insertSuppressionsSql(entries: readonly SuppressionEntry[], reason: SuppressionReason, now: Date): RawBuilder<unknown> {
  return sql`
    INSERT INTO marketing_suppression (hash, channel, reason, created_at)
    SELECT u.hash, u.channel, ${reason}, ${now}::timestamptz
    FROM unnest(${entries.map((e) => Buffer.from(e.hash))}::bytea[], ${entries.map((e) => e.channel)}::text[]) AS u(hash, channel)
    ON CONFLICT (hash, channel) DO NOTHING`;
}

/** Whether any of these hashes is suppressed on `channel` or on every channel. */
export async function isSuppressed(ex: Kysely<Tables>, hashes: readonly Uint8Array[], channel: string): Promise<boolean> {
  if (hashes.length === 0) return false;
  const row = await ex
    .selectFrom('marketing_suppression')
    .select('hash')
    .where(
      'hash',
      'in',
      hashes.map((h) => Buffer.from(h)),
    )
    .where('channel', 'in', ['*', channel as SuppressionChannel])
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
