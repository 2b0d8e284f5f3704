// Making signed checkpoints, and holding the database to what the witness saw. A checkpoint records every partition's
// head at one moment (or, between full ones, the heads that moved since); each is stored, then appended to the
// witness outside the database. Read back, the witness says for each partition the furthest point its chain was
// seen to reach: a database that no longer reaches it (a partition deleted, tables truncated, files restored from
// an older copy) is named, and no checkpoint is signed on top of it.
import type { KeyObject } from 'node:crypto';
import type { Kysely } from 'kysely';
import { CustodianError } from '../core/errors.ts';
import type { Tables } from '../db/tables.ts';
import { allHeads, checkpointRowAt, eventHashesAt, insertCheckpointRow, latestCheckpointRow, lockCheckpointing } from './audit-store.ts';
import {
  bodyHash,
  type Checkpoint,
  GENESIS_CHECKPOINT,
  type HeadState,
  openCheckpoint,
  type SignedCheckpoint,
  type SigningKey,
  signCheckpoint,
} from './signed-checkpoint.ts';
import type { Witness } from './witness.ts';

/** A full checkpoint (every partition) at least this often; the ones between list only the heads that moved. */
const FULL_EVERY = 100;

interface WitnessedHead {
  readonly seq: number;
  readonly hash: string;
  /** The checkpoint that saw it. */
  readonly checkpoint: number;
}

export interface WitnessedState {
  /** The newest checkpoint whose signature verified. */
  readonly latest: (Checkpoint & { readonly signed: SignedCheckpoint }) | null;
  /** For each partition, the furthest head a verified checkpoint saw. */
  readonly heads: ReadonlyMap<string, WitnessedHead>;
  /** Entries that are not checkpoints, or whose signature fails: the witness was damaged or edited. */
  readonly problems: readonly string[];
  /** Verified checkpoints; and those signed by a key not given (retired since, or an auditor without it). */
  readonly verified: number;
  readonly unknownKey: number;
}

/** What the witness entries say, checked with `keys` (id → public key). */
export function witnessedState(read: { entries: readonly SignedCheckpoint[]; unreadable: number }, keys: ReadonlyMap<string, KeyObject>): WitnessedState {
  const problems: string[] = read.unreadable > 0 ? [`${read.unreadable} line(s) of the witness are not checkpoints`] : [];
  const bySeq = new Map<number, Checkpoint & { signed: SignedCheckpoint }>();
  let unknownKey = 0;
  for (const signed of read.entries) {
    const opened = openCheckpoint(signed, keys);
    if (opened === 'unknown-key') {
      unknownKey++;
      continue;
    }
    if (opened === 'invalid') {
      problems.push('a witnessed checkpoint does not verify: its text or signature was changed');
      continue;
    }
    const seen = bySeq.get(opened.seq);
    // Two different checkpoints with one number: the database went back and numbered again from an older point.
    if (seen && seen.signed.body !== signed.body)
      problems.push(`two different checkpoints #${opened.seq} were witnessed: the database was rolled back after the first`);
    else bySeq.set(opened.seq, { ...opened, signed });
  }
  const ordered = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  const heads = new Map<string, WitnessedHead>();
  for (let i = 0; i < ordered.length; i++) {
    const c = ordered[i]!;
    const before = ordered[i - 1];
    if (before && before.seq === c.seq - 1 && c.prev !== bodyHash(before.signed.body)) {
      problems.push(`checkpoint #${c.seq} does not follow #${before.seq}: the witness or the database was altered between them`);
    }
    for (const [partition, seq, hash] of c.heads) {
      const known = heads.get(partition);
      if (!known || seq >= known.seq) heads.set(partition, { seq, hash, checkpoint: c.seq });
    }
  }
  return { latest: ordered.at(-1) ?? null, heads, problems, verified: ordered.length, unknownKey };
}

/** Where the database falls short of what the witness saw; empty when it reaches every witnessed point. */
export async function shortfalls(db: Kysely<Tables>, state: WitnessedState): Promise<string[]> {
  const out: string[] = [];
  if (state.latest) {
    const latest = await latestCheckpointRow(db);
    const same = await checkpointRowAt(db, state.latest.seq);
    if (!latest || latest.seq < state.latest.seq) {
      out.push(
        `the database's checkpoints end at #${latest?.seq ?? 0}, but the witness holds #${state.latest.seq}: the database was restored from an older copy or its checkpoints removed`,
      );
    } else if (same && same.body !== state.latest.signed.body) {
      out.push(`the database's checkpoint #${state.latest.seq} is not the one witnessed: the database was rolled back and went on from an older point`);
    }
  }
  const heads = new Map((await allHeads(db)).map((h) => [h.partition, h]));
  const behind: { partition: string; seq: number }[] = [];
  for (const [partition, w] of state.heads) {
    const h = heads.get(partition);
    if (!h)
      out.push(`partition ${partition} is missing: the witness saw it at event #${w.seq} (checkpoint #${w.checkpoint}); its events and head were deleted`);
    else if (h.seq < w.seq)
      out.push(
        `partition ${partition} ends at event #${h.seq}, but the witness saw event #${w.seq} (checkpoint #${w.checkpoint}): events were removed or the database rolled back`,
      );
    else behind.push({ partition, seq: w.seq });
  }
  const hashes = await eventHashesAt(db, behind);
  for (const { partition, seq } of behind) {
    const w = state.heads.get(partition)!;
    if (hashes.get(partition) !== w.hash)
      out.push(`partition ${partition} event #${seq} is not the one the witness saw (checkpoint #${w.checkpoint}): the chain was rewritten`);
  }
  return out;
}

export interface MakeCheckpoint {
  readonly key: SigningKey;
  /** Whether a head row verifies with the keys held (its HMAC): a checkpoint never endorses a forged head. */
  readonly headVerifies: (head: { partition: string; seq: number; hash: string; checkpoint: string }) => boolean;
  readonly publicKeys: ReadonlyMap<string, KeyObject>;
  readonly witness: Witness;
  readonly now: Date;
  /** List every partition, not only those that moved. */
  readonly full?: boolean;
  /** Make one even when nothing moved since the last. */
  readonly always?: boolean;
}

/**
 * Signs, stores and witnesses a checkpoint of the trail as it stands: refused (`audit_chain_broken`) when the
 * database falls short of what the witness saw, so nothing is ever signed on top of a rolled-back trail. Returns
 * null when nothing moved since the last one and none was asked for.
 */
export async function makeCheckpoint(db: Kysely<Tables>, m: MakeCheckpoint): Promise<{ signed: SignedCheckpoint; checkpoint: Checkpoint } | null> {
  const made = await db.transaction().execute(async (trx) => {
    await lockCheckpointing(trx);
    const state = witnessedState(await m.witness.read(), m.publicKeys);
    const problems = [...state.problems, ...(await shortfalls(trx, state))];
    if (problems.length > 0)
      throw new CustodianError('audit_chain_broken', `no checkpoint signed: ${problems[0]}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ''}`);
    const last = await latestCheckpointRow(trx);
    const seq = (last?.seq ?? 0) + 1;
    const heads = await allHeads(trx);
    const forged = heads.find((h) => !m.headVerifies(h));
    if (forged) throw new CustodianError('audit_chain_broken', `no checkpoint signed: the head of partition ${forged.partition} does not verify`);
    const moved = heads.filter((h) => {
      const w = state.heads.get(h.partition);
      return !w || w.seq !== h.seq || w.hash !== h.hash;
    });
    const full = m.full === true || !state.latest || state.latest.key !== m.key.id || seq % FULL_EVERY === 1;
    if (moved.length === 0 && !full && !m.always) return null;
    const checkpoint: Checkpoint = {
      seq,
      at: m.now.toISOString(),
      prev: last ? bodyHash(last.body) : GENESIS_CHECKPOINT,
      key: m.key.id,
      events: heads.reduce((n, h) => n + h.seq, 0),
      partitions: heads.length,
      full,
      heads: (full ? heads : moved).map((h): HeadState => [h.partition, h.seq, h.hash]),
    };
    const signed = signCheckpoint(checkpoint, m.key);
    await insertCheckpointRow(trx, { seq, at: m.now, body: signed.body, signature: Buffer.from(signed.sig, 'base64') });
    return { signed, checkpoint };
  });
  // Witnessed once stored: a checkpoint the database lost in a failed commit must never be in the witness.
  if (made) await m.witness.append(made.signed);
  return made;
}
