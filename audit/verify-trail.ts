// Verifying the whole trail, as `custodian audit verify` and the console do it: every chain recomputed against its
// signed head, and the database held to what the witness (or a checkpoint an auditor filed away) saw, so that a
// deletion, truncation or rollback that leaves intact-looking chains behind is still named. A trail found intact is
// checkpointed at once: what was just verified is witnessed.
import type { Db } from '../db/connect.ts';
import type { Auditor } from './auditor.ts';
import { shortfalls, type WitnessedState, witnessedState } from './checkpoints.ts';
import type { SignedCheckpoint } from './signed-checkpoint.ts';
import type { VerifyAuditResult, VerifyProgress } from './verify/verify-audit-chain.ts';

export interface TrailVerdict {
  readonly ok: boolean;
  readonly chains: VerifyAuditResult;
  /** What the trail was held to: the witness, or the filed checkpoints; null when there was nothing to hold it to. */
  readonly against: { readonly where: string; readonly state: WitnessedState } | null;
  /** Where the database falls short of it (missing partitions, cut chains, a rollback, records gone), or it is damaged. */
  readonly shortfalls: readonly string[];
  /** The checkpoint made after a verdict of intact; null when none was (no witness, a failure, one partition). */
  readonly checkpoint: number | null;
}

export interface VerifyTrailOptions {
  readonly partition?: string;
  readonly onProgress?: (p: VerifyProgress) => void;
  /** Checkpoints filed away by an auditor (`custodian audit checkpoint`), checked instead of the witness. */
  readonly filed?: { readonly where: string; readonly entries: readonly SignedCheckpoint[] };
  /** What else the trail vouches for (the record table, from subjects/): problems found, each a sentence. */
  readonly vouchesFor?: () => Promise<string[]>;
}

export async function verifyTrail(db: Db, auditor: Auditor, options: VerifyTrailOptions = {}): Promise<TrailVerdict> {
  const chains = await auditor.verify(db, {
    ...(options.partition ? { partition: options.partition } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  let against: TrailVerdict['against'] = null;
  if (options.filed) against = { where: options.filed.where, state: witnessedState({ entries: options.filed.entries, unreadable: 0 }, auditor.publicKeys()) };
  else if (auditor.witness) against = { where: auditor.witness.where, state: (await auditor.witnessed())! };
  const short = [
    ...(against ? [...against.state.problems, ...(await shortfalls(db.kysely, against.state))] : []),
    ...(chains.ok && !options.partition && options.vouchesFor ? await options.vouchesFor() : []),
  ];
  const ok = chains.ok && short.length === 0;
  // Checkpointed only after a whole, intact verification, and never when held to something other than the witness.
  const made = ok && !options.partition && !options.filed && auditor.witness ? await auditor.checkpoint(db.kysely, { always: true }) : null;
  return { ok, chains, against, shortfalls: short, checkpoint: made?.checkpoint.seq ?? null };
}
