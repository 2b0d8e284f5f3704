// The one audit writer. Built once per app (and once per writer thread) from the clock, the register fingerprint and
// the master keys; every store that changes personal data or a staff account appends through it, inside the
// transaction that makes the change, so an event exists exactly when the change it records does.
//
// Each partition's head row is locked for the rest of the transaction: appends to one chain queue, appends to other
// partitions (other months, other shards) run in parallel. Every head is signed (checkpoint.ts) with a key derived
// from the active master key, and a head that does not verify is never built on.
import type { KeyObject } from 'node:crypto';
import type { Kysely, RawBuilder, Transaction } from 'kysely';
import type { Clock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import { timeOrderedId } from '../core/ids.ts';
import type { Db } from '../db/connect.ts';
import type { Tables } from '../db/tables.ts';
import {
  AUDIT_GUARD_HELD,
  advanceHeadsSql,
  guardedAppendCtes,
  insertEventsSql,
  latestHead,
  lockAllHeads,
  lockHeads,
  NOOP_SQL,
  runAppend,
  setHeadCheckpoint,
  transactionStatus,
  type EventColumns,
} from './audit-store.ts';
import { canonicalEventText, createChainHasher, GENESIS_HASH_HEX, isoMicros, recordIdsText } from './canonical-event.ts';
import { checkpointKeyObjects, checkpointMac, checkpointMatches, deriveCheckpointKey } from './checkpoint.ts';
import { makeCheckpoint, shortfalls, type WitnessedState, witnessedState } from './checkpoints.ts';
import { HeadMemo, type HeadRow } from './head-memo.ts';
import { auditPartition } from './partition.ts';
import { type Checkpoint, deriveSigningKey, publishedKey, type SignedCheckpoint, type SigningKey } from './signed-checkpoint.ts';
import { validateAuditInput, validateAuditToken, type AuditInput, type ValidAuditInput } from './validate-audit-input.ts';
import { verifyAuditChain, type VerifyAuditOptions, type VerifyAuditResult } from './verify/verify-audit-chain.ts';
import type { Witness } from './witness.ts';

export type { AuditInput } from './validate-audit-input.ts';

/** What the auditor needs of the master keyring (crypto/keyring.ts): the active key first, then the others. */
export interface MasterKeys {
  active(): { readonly id: string; readonly key: Uint8Array };
  ids(): readonly string[];
  resolve(id: string): { readonly id: string; readonly key: Uint8Array };
}

export interface AuditorOptions {
  readonly clock: Clock;
  /** Fingerprint of the register in force, recorded beside every event; null for commands run without one. */
  readonly fingerprint: string | null;
  readonly masterKeys: MasterKeys;
  /** Verified heads remembered (see head-memo.ts). */
  readonly memoSize?: number;
  /** Where signed checkpoints are kept outside the database; none: checkpoints cannot be made. */
  readonly witness?: Witness | null;
}

export interface AppendedAuditEvent {
  readonly id: string;
  readonly partition: string;
  readonly seq: number;
}

/** Events chained onto their locked heads, and the two statements that store them. */
export interface PreparedAuditAppend {
  readonly appended: AppendedAuditEvent[];
  /** INSERT INTO audit_event ...: run alone or as a data-modifying CTE of the caller's own statement. */
  readonly insertEvents: RawBuilder<unknown>;
  /** UPDATE audit_head ...: likewise. Both must run, in the transaction that prepared them. */
  readonly advanceHeads: RawBuilder<unknown>;
}

/** An append of one round trip (Auditor.prepareGuarded). */
export interface GuardedAuditAppend {
  readonly appended: AppendedAuditEvent[];
  /** `audit_guard AS (...), audit_events AS (...)`: the first CTEs of the caller's statement. */
  readonly ctes: RawBuilder<unknown>;
  /** The condition on the caller's own writes: true only when the head was advanced. */
  readonly guard: RawBuilder<unknown>;
  /** Call with whether the guard held, once the statement has run (and so committed). */
  readonly settle: (held: boolean) => void;
}

interface GuessedHead {
  readonly seq: number;
  readonly hash: string;
  readonly checkpoint: string;
}

type Executor = Kysely<Tables> | Transaction<Tables>;

interface SigningKeys {
  readonly signature: string;
  readonly bytes: readonly Uint8Array[];
  readonly objects: readonly KeyObject[];
  /** The Ed25519 checkpoint-signing keys, the active one first. */
  readonly checkpointSigning: readonly SigningKey[];
}

export class Auditor {
  readonly clock: Clock;
  readonly fingerprint: string | null;
  readonly #masterKeys: MasterKeys;
  readonly #memo: HeadMemo;
  /** The checkpoint of a new partition's empty head (seq 0, the genesis hash), per partition, under the active key. */
  readonly #genesis = new Map<string, string>();
  readonly #hash = createChainHasher();
  readonly #witness: Witness | null;
  /**
   * How far each partition's chain is known to have reached (appended here, seen verified, or witnessed): a head
   * found behind it was wound back, by a restore or by hand, and nothing is appended on top of it.
   */
  readonly #reached = new Map<string, number>();
  /**
   * Heads this process appended whose transaction may not have committed: reached only once the database shows them
   * (a later lock sees the head at or past them, or the transaction is known committed). A transaction that rolled
   * back leaves the head where it was, which is not a wound-back trail.
   */
  readonly #pending = new Map<string, { seq: number; xid: string }>();
  /**
   * The head this process wrote last to each partition (committed or not): what a guarded append chains onto. A wrong
   * guess costs a round trip, never a wrong write: the database compares before it advances.
   */
  readonly #guesses = new Map<string, GuessedHead>();
  #keys: SigningKeys | null = null;

  constructor(options: AuditorOptions) {
    this.clock = options.clock;
    this.fingerprint = options.fingerprint === null ? null : validateAuditToken('fingerprint', options.fingerprint);
    this.#masterKeys = options.masterKeys;
    this.#memo = new HeadMemo(options.memoSize ?? 4096);
    this.#witness = options.witness ?? null;
  }

  /** Where checkpoints are witnessed, if anywhere. */
  get witness(): Witness | null {
    return this.#witness;
  }

  /** The public keys checkpoints are verified with (id → key), for every master key held. */
  publicKeys(): Map<string, KeyObject> {
    return new Map(this.#signing().checkpointSigning.map((k) => [k.id, k.publicKey]));
  }

  /** The public keys as published (`/.well-known/custodian-audit-key`), the active one first. */
  publishedKeys(): ReturnType<typeof publishedKey>[] {
    return this.#signing().checkpointSigning.map((k, i) => publishedKey(k, i === 0));
  }

  /** What the witness saw, checked with the keys held; null without a witness. */
  async witnessed(): Promise<WitnessedState | null> {
    if (!this.#witness) return null;
    const state = witnessedState(await this.#witness.read(), this.publicKeys());
    for (const [partition, w] of state.heads) this.#reach(partition, w.seq);
    return state;
  }

  /**
   * Signs, stores and witnesses a checkpoint of the whole trail as it stands (checkpoints.ts); refused when the
   * database falls short of what the witness saw. Null when nothing moved since the last one (unless `always`).
   */
  async checkpoint(
    db: Kysely<Tables>,
    options: { full?: boolean; always?: boolean } = {},
  ): Promise<{ signed: SignedCheckpoint; checkpoint: Checkpoint } | null> {
    if (!this.#witness) throw new CustodianError('internal', 'no audit witness is configured, so no checkpoint can be kept');
    const keys = this.#signing();
    const made = await makeCheckpoint(db, {
      key: keys.checkpointSigning[0]!,
      headVerifies: (head) => this.#headVerifies(keys, head),
      publicKeys: this.publicKeys(),
      witness: this.#witness,
      now: this.clock.now(),
      ...options,
    });
    for (const [partition, seq] of made?.checkpoint.heads ?? []) this.#reach(partition, seq);
    return made;
  }

  /**
   * Where the database falls short of what the witness saw, or the witness itself is damaged: empty when the trail
   * reaches every witnessed point (and when there is no witness, which proves nothing either way).
   */
  async shortfalls(db: Kysely<Tables>): Promise<string[]> {
    const state = await this.witnessed();
    return state ? [...state.problems, ...(await shortfalls(db, state))] : [];
  }

  #reach(partition: string, seq: number): void {
    if ((this.#reached.get(partition) ?? 0) < seq) this.#reached.set(partition, seq);
  }

  /**
   * The checkpoint keys of every master key held, the active one first: new heads are signed with the first; heads
   * signed before a rotation still verify with the others. Read at each use, so a running server follows a rotation;
   * derived again only when the keys changed.
   */
  checkpointKeys(): readonly Uint8Array[] {
    return this.#signing().bytes;
  }

  /** One event. Call it with the transaction that makes the change the event records. */
  async append(ex: Executor, input: AuditInput, at?: Date): Promise<AppendedAuditEvent> {
    const [appended] = await this.appendMany(ex, [input], at);
    return appended!;
  }

  /**
   * Several events in one round trip after the heads are locked, whatever their number. Prefer it to repeated
   * appends: it is faster, and it locks heads in one sorted order. Given a Kysely instance rather than a
   * transaction, it opens its own.
   */
  async appendMany(ex: Executor, inputs: readonly AuditInput[], at?: Date): Promise<AppendedAuditEvent[]> {
    if (inputs.length === 0) return [];
    if (!ex.isTransaction) return ex.transaction().execute((t) => this.appendMany(t, inputs, at));
    const prepared = await this.prepare(ex as Transaction<Tables>, inputs, at);
    await runAppend(ex as Transaction<Tables>, prepared.insertEvents, prepared.advanceHeads);
    return prepared.appended;
  }

  /**
   * Validates the events, locks (or creates) their heads and computes the chain, but stores nothing yet: the caller
   * runs the two statements in the same transaction, folded into one statement with its own writes (batched
   * collection does, saving round trips while the heads are locked). The heads stay locked until it ends.
   */
  async prepare(trx: Transaction<Tables>, inputs: readonly AuditInput[], at?: Date): Promise<PreparedAuditAppend> {
    // Validate before touching the database: a refused event must not leave a lock or a head behind.
    const valid = inputs.map(validateAuditInput);
    const keys = this.#signing();
    if (valid.length === 0) return { appended: [], insertEvents: NOOP_SQL, advanceHeads: NOOP_SQL };
    return this.#chain(trx, valid, at ?? this.clock.now(), keys);
  }

  /**
   * Whether the trail's latest head verifies with the keys held (true for an empty trail). A server about to write
   * asks first: with the wrong master key every append would be refused as a broken chain.
   */
  async holdsTrailKey(db: Kysely<Tables>): Promise<boolean> {
    const head = await latestHead(db);
    return head === undefined || this.#headVerifies(this.#signing(), head);
  }

  /** Recomputes every chain against its signed head, with every key this auditor holds (see verify/). */
  verify(db: Db, options: Omit<VerifyAuditOptions, 'checkpointKey'> = {}): Promise<VerifyAuditResult> {
    return verifyAuditChain(db, { ...options, checkpointKey: this.checkpointKeys() });
  }

  /**
   * After a master-key rotation: heads signed with an older key are signed again with the active one, so retiring
   * the old master key leaves no head nobody can verify. A head no held key verifies is NOT re-signed (that would
   * launder tampering): it is reported.
   */
  async resignHeads(db: Kysely<Tables>): Promise<{ resigned: number; refused: string[] }> {
    const { objects } = this.#signing();
    const [active, ...older] = objects;
    return db.transaction().execute(async (trx) => {
      let resigned = 0;
      const refused: string[] = [];
      for (const h of await lockAllHeads(trx)) {
        const seq = Number(h.seq);
        if (checkpointMatches(active!, h.partition, seq, h.hash, h.checkpoint)) continue;
        if (!older.some((k) => checkpointMatches(k, h.partition, seq, h.hash, h.checkpoint))) {
          refused.push(h.partition);
          continue;
        }
        await setHeadCheckpoint(trx, h.partition, checkpointMac(active!, h.partition, seq, h.hash));
        resigned++;
      }
      return { resigned, refused };
    });
  }

  #signing(): SigningKeys {
    const active = this.#masterKeys.active();
    const ids = this.#masterKeys.ids();
    const signature = `${active.id}|${ids.join(',')}`;
    if (this.#keys?.signature === signature) return this.#keys;
    const others = ids.filter((id) => id !== active.id).map((id) => this.#masterKeys.resolve(id));
    const masters = [active, ...others];
    const bytes = masters.map((m) => deriveCheckpointKey(m.key));
    if (bytes.length === 0) throw new CustodianError('audit_input_invalid', 'no checkpoint key to sign the audit head with');
    // New keys: nothing checked under the old ones is trusted without checking again.
    this.#memo.clear();
    this.#guesses.clear();
    this.#genesis.clear();
    this.#keys = { signature, bytes, objects: checkpointKeyObjects(bytes), checkpointSigning: masters.map((m) => deriveSigningKey(m.key)) };
    return this.#keys;
  }

  #headVerifies(keys: SigningKeys, head: HeadRow): boolean {
    if (this.#memo.has(head)) return true;
    if (!keys.objects.some((k) => checkpointMatches(k, head.partition, Number(head.seq), head.hash, head.checkpoint))) return false;
    this.#memo.add(head);
    return true;
  }

  #genesisCheckpoint(key: KeyObject, partition: string): string {
    let mac = this.#genesis.get(partition);
    if (mac === undefined) {
      if (this.#genesis.size >= 4096) this.#genesis.clear();
      this.#genesis.set(partition, (mac = checkpointMac(key, partition, 0, GENESIS_HASH_HEX).toString('hex')));
    }
    return mac;
  }

  /** Settles what this process appended earlier to the partition of a head it has just locked. */
  /** Returns whether the head is this transaction's own (moved by an earlier append in it, not committed yet). */
  async #settlePending(trx: Transaction<Tables>, head: { partition: string; seq: string | number; xid: string }): Promise<boolean> {
    const pending = this.#pending.get(head.partition);
    if (!pending) return false;
    if (pending.xid === head.xid) return true;
    this.#pending.delete(head.partition);
    if (Number(head.seq) >= pending.seq) this.#reach(head.partition, pending.seq);
    // The head is behind what we appended: fine if that transaction rolled back; otherwise the trail was wound back.
    else if ((await transactionStatus(trx, pending.xid)) !== 'aborted') this.#reach(head.partition, pending.seq);
    return false;
  }

  async #chain(trx: Transaction<Tables>, events: ValidAuditInput[], atDate: Date, keys: SigningKeys): Promise<PreparedAuditAppend> {
    const key = keys.objects[0]!;
    const at = isoMicros(atDate);
    const partitionOf = events.map((e) => auditPartition(atDate, e.subjectId, e.actor));
    const partitions = [...new Set(partitionOf)].sort();
    const locked = await lockHeads(
      trx,
      partitions,
      partitions.map((p) => this.#genesisCheckpoint(key, p)),
      at,
    );

    // Signing a new head endorses the one before it: a head wound back or forged by someone with database rights
    // would be laundered by the next append. So fail closed: no change is recorded on top of a head that is not ours.
    for (const r of locked) {
      const ours = await this.#settlePending(trx, r);
      if (!this.#headVerifies(keys, r)) {
        throw new CustodianError(
          'audit_chain_broken',
          `the audit head of partition ${r.partition} does not verify; run \`custodian audit verify\` and investigate before writing again`,
        );
      }
      // A head signed earlier, put back (a restore, or a copy kept by hand): it verifies, and is still not the end.
      const reached = this.#reached.get(r.partition) ?? 0;
      if (Number(r.seq) < reached) {
        throw new CustodianError(
          'audit_chain_broken',
          `the audit head of partition ${r.partition} went back from event #${reached} to #${Number(r.seq)}: the trail was rolled back; run \`custodian audit verify\` and investigate before writing again`,
        );
      }
      // What the database holds under our lock is committed, unless this transaction put it there.
      if (!ours) this.#reach(r.partition, Number(r.seq));
    }
    const xid = locked[0]?.xid ?? '';
    const heads = new Map(locked.map((r) => [r.partition, { seq: Number(r.seq), hash: r.hash }]));
    const linked = this.#link(events, partitionOf, heads, at, key);
    const { advanced } = linked;
    advanced.partition.forEach((partition, i) => {
      this.#pending.set(partition, { seq: advanced.seq[i]!, xid });
      this.#guess(partition, { seq: advanced.seq[i]!, hash: advanced.hash[i]!, checkpoint: advanced.checkpoint[i]! });
    });
    return { appended: linked.appended, insertEvents: linked.insertEvents, advanceHeads: advanceHeadsSql(linked.advanced, at) };
  }

  /**
   * One round trip instead of three, for a writer that appends to one chain again and again (the consent ledger's
   * lanes): when every event joins one chain whose head this process wrote last, the events are chained onto that
   * head without locking it, and the statement advances the head only if it is still exactly that one (a
   * compare-and-set on seq, hash and checkpoint). The caller runs `ctes` as CTEs of one statement of its own, outside
   * any transaction, guards its own writes with `guard`, and calls `settle` with whether the guard held (its
   * statement returns `SELECT count(*) FROM audit_guard`). Nothing is written when the head moved, was wound back or
   * was forged: then the caller appends the usual way (prepare() in a transaction), which locks, checks and reports.
   * Null when it cannot be tried.
   */
  prepareGuarded(inputs: readonly AuditInput[], at?: Date): GuardedAuditAppend | null {
    if (inputs.length === 0) return null;
    const valid = inputs.map(validateAuditInput);
    const keys = this.#signing();
    const atDate = at ?? this.clock.now();
    const partitionOf = valid.map((e) => auditPartition(atDate, e.subjectId, e.actor));
    const partition = partitionOf[0]!;
    if (partitionOf.some((p) => p !== partition)) return null;
    const from = this.#guesses.get(partition);
    if (!from || from.seq < (this.#reached.get(partition) ?? 0)) return null;
    const atText = isoMicros(atDate);
    const linked = this.#link(valid, partitionOf, new Map([[partition, { seq: from.seq, hash: from.hash }]]), atText, keys.objects[0]!);
    const toHead: GuessedHead = { seq: linked.advanced.seq[0]!, hash: linked.advanced.hash[0]!, checkpoint: linked.advanced.checkpoint[0]! };
    return {
      appended: linked.appended,
      ctes: guardedAppendCtes(linked.insertEvents, { partition, from, to: toHead }, atText),
      guard: AUDIT_GUARD_HELD,
      settle: (held) => {
        if (!held) {
          // The head is not the one we wrote last: the next append locks it and finds out why.
          if (this.#guesses.get(partition) === from) this.#guesses.delete(partition);
          return;
        }
        // Committed (the statement ran alone): this is now the head, as far as this process knows.
        this.#reach(partition, toHead.seq);
        if ((this.#pending.get(partition)?.seq ?? 0) <= toHead.seq) this.#pending.delete(partition);
        this.#guess(partition, toHead);
      },
    };
  }

  /** Remembers the head this process wrote last to a partition, unless it already knows a later one. */
  #guess(partition: string, head: GuessedHead): void {
    const known = this.#guesses.get(partition);
    if (known && known.seq >= head.seq) return;
    if (this.#guesses.size >= 4096) this.#guesses.clear();
    this.#guesses.set(partition, head);
  }

  /** Chains events onto the heads given (partition → seq and hash), signing each head they advance. */
  #link(
    events: readonly ValidAuditInput[],
    partitionOf: readonly string[],
    heads: Map<string, { seq: number; hash: string }>,
    at: string,
    key: KeyObject,
  ): {
    appended: AppendedAuditEvent[];
    insertEvents: RawBuilder<unknown>;
    advanced: { partition: string[]; seq: number[]; hash: string[]; checkpoint: string[] };
  } {
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
    } satisfies EventColumns;
    const appended: AppendedAuditEvent[] = [];
    for (let i = 0; i < n; i++) {
      const e = events[i]!;
      const partition = partitionOf[i]!;
      const head = heads.get(partition)!;
      const seq = head.seq + 1;
      const id = timeOrderedId();
      const recordIds = recordIdsText(e.recordIds);
      const canonical = canonicalEventText({
        partition,
        seq,
        id,
        at,
        actor: e.actor,
        action: e.action,
        subjectId: e.subjectId,
        recordIds,
        purpose: e.purpose,
        fingerprint: this.fingerprint,
        detail: e.detail,
      });
      const hash = this.#hash(head.hash, canonical);
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

    const advanced = { partition: [...heads.keys()], seq: [] as number[], hash: [] as string[], checkpoint: [] as string[] };
    for (const partition of advanced.partition) {
      const { seq, hash } = heads.get(partition)!;
      const checkpoint = checkpointMac(key, partition, seq, hash).toString('hex');
      advanced.seq.push(seq);
      advanced.hash.push(hash);
      advanced.checkpoint.push(checkpoint);
      this.#memo.add({ partition, seq, hash, checkpoint });
    }
    return { appended, insertEvents: insertEventsSql(cols, at, this.fingerprint), advanced };
  }
}
