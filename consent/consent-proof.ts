// Proof of consent (Art. 7(1)) for a person or a visitor: every event, each receipt, and the audit trail that vouches
// for them. For each receipt: the audit event that recorded it (its chain position and hash), the digest of the
// ledger rows that event carries, whether the rows stored now still hash to it (ledger-digest.ts), and the first
// signed checkpoint made after the newest of those events, which covers them all. A verifier holding the published
// key (`/.well-known/custodian-audit-key`) can check the checkpoint's signature, and `custodian audit verify` the chains
// up to it: none of what the proof shows could have been changed since without it being named.
import type { Kysely } from 'kysely';
import type { AppContext } from '../app/app-context.ts';
import { eventsNaming, firstCheckpointSince } from '../audit/audit-store.ts';
import { CustodianError } from '../core/errors.ts';
import type { Tables } from '../db/tables.ts';
import { buildReceipt, type ReceiptContext } from './consent-receipt.ts';
import { consentHistory } from './consent-state.ts';
import { type LedgerEvent, storedDigests } from './consent-store.ts';
import type { People } from './people.ts';

/** How one receipt (or row) stands against the trail. */
interface Vouched {
  readonly receiptId: string;
  /** The `consent.record` event that recorded it; null when no event names it (it was not written by Custodian). */
  readonly event: { readonly partition: string; readonly seq: number; readonly id: string; readonly at: string; readonly hash: string } | null;
  /** The digest of the rows the event carries, and whether the rows stored now hash to it. */
  readonly digest: string | null;
  readonly matches: boolean;
}

/** How each receipt of these events stands against the audit trail. */
export async function trailOf(db: Kysely<Tables>, events: readonly LedgerEvent[]): Promise<{ receipts: Vouched[]; newestAt: string | null }> {
  const keys = [...new Set(events.map((e) => e.receiptId))];
  const times = [...new Set(events.map((e) => e.at.getTime()))].map((t) => new Date(t));
  const vouching = await eventsNaming(db, 'consent.record', ['receipt', 'consent'], keys, times);
  const stored = await storedDigests(db, keys);
  // The first event naming each receipt (oldest first), as it recorded it.
  const byName = new Map<string, (typeof vouching)[number]>();
  for (const v of vouching) if (!byName.has(v.named)) byName.set(v.named, v);
  const receipts = keys.map((receiptId) => {
    const e = byName.get(receiptId);
    return {
      receiptId,
      event: e ? { partition: e.partition, seq: Number(e.seq), id: e.id, at: e.at_text, hash: e.hash } : null,
      digest: e?.rows ?? null,
      matches: e?.rows != null && e.rows === stored.get(receiptId),
    };
  });
  return { receipts, newestAt: vouching.at(-1)?.at_text ?? null };
}

export async function consentProof(ctx: Pick<AppContext, 'db' | 'clock'>, people: People, id: string, rc: ReceiptContext): Promise<Record<string, unknown>> {
  const { kind, events } = await consentHistory(ctx, people, id);
  if (events.length === 0) throw new CustodianError('not_found', 'no consent is recorded for that id');
  const byReceipt = Map.groupBy(events, (e) => e.receiptId);
  const trail = await trailOf(ctx.db.kysely, events);
  const checkpoint = trail.newestAt ? await firstCheckpointSince(ctx.db.kysely, new Date(trail.newestAt)) : undefined;
  return {
    id,
    kind,
    generatedAt: rc.now.toISOString(),
    events: events.map((e) => ({
      id: e.id,
      receiptId: e.receiptId,
      at: e.at.toISOString(),
      purpose: e.purpose,
      channel: e.channel,
      state: e.state,
      method: e.method,
      point: e.point,
      noticeFingerprint: e.noticeFingerprint,
      expiresAt: e.expiresAt?.toISOString() ?? null,
      ...(e.context ? { context: e.context } : {}),
      ...(e.subjectId ? { subjectId: e.subjectId } : {}),
    })),
    receipts: [...byReceipt.values()].map((evs) => buildReceipt(evs, rc)),
    trail: {
      vouched: trail.receipts.every((v) => v.matches),
      receipts: trail.receipts,
      // Null until a checkpoint is made after the newest event (every minute with a witness).
      checkpoint: checkpoint
        ? { seq: Number(checkpoint.seq), at: checkpoint.at.toISOString(), body: checkpoint.body, signature: Buffer.from(checkpoint.signature).toString('hex') }
        : null,
    },
  };
}
