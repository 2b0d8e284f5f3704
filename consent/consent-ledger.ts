// Recording consent choices: a visitor's banner choice, a person's choice through the API, a Global Privacy Control
// signal. Each choice becomes one receipt of ledger events (one per purpose), with its audit event; the answer is
// given only once the transaction holding them has committed.
//
// Group commit: choices that arrive together are written in one transaction (one statement after the audit heads are
// locked), each answered on its own once it commits. At low load a batch holds one choice, so nothing waits; under
// load the cost per choice shrinks to a share of a few round trips. A batch that fails is written again choice by
// choice, so one bad choice never fails another. Two writers run at once (more only made the batches smaller on a
// 2-core machine), each in a lane of its own: a lane's audit events name it in their actor (`public:banner~3`), chosen
// so that each lane joins an audit chain of its own (audit/partition.ts spreads events without a subject by actor)
// and writers never queue behind one head row.
import { randomUUID } from 'node:crypto';
import type { AppContext } from '../app/app-context.ts';
import type { AuditInput } from '../audit/auditor.ts';
import { auditPartition } from '../audit/partition.ts';
import { addDuration } from '../core/duration.ts';
import { CustodianError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import { consentPurposes, type ConsentPurposes } from './consent-purposes.ts';
import { insertLedgerRows, type LedgerRow } from './consent-store.ts';
import type { People } from './people.ts';
import type { ConsentMethod, ConsentState } from './tables.ts';

export type LedgerDeps = Pick<AppContext, 'db' | 'register' | 'clock' | 'auditor'>;

/** A visitor id: the random id the banner keeps in its cookie (a UUID, or any 16 to 128 URL-safe characters). */
const VISITOR_ID = /^[A-Za-z0-9_-]{16,128}$/;

export interface ChoiceInput {
  readonly visitorId?: string | undefined;
  readonly subjectId?: string | undefined;
  /** Purpose id → true (give) or false (refuse, or object to a purpose not on consent). */
  readonly purposes: Readonly<Record<string, boolean>>;
  /** A Global Privacy Control signal came with the choice (`Sec-GPC: 1`, or the banner saw navigator.globalPrivacyControl). */
  readonly gpc: boolean;
  readonly method: ConsentMethod;
  readonly language: string | null;
  /** `visitor:<id>`, `subject:<id>`, `staff:<id>`. */
  readonly actor: string;
}

export interface RecordedChoice {
  readonly receiptId: string;
  readonly recordedAt: Date;
  /** What was recorded per purpose. */
  readonly purposes: Readonly<Record<string, { state: ConsentState; method: ConsentMethod; expiresAt: Date | null }>>;
}

interface Pending {
  readonly rows: LedgerRow[];
  readonly audit: AuditInput;
  readonly result: Omit<RecordedChoice, 'recordedAt'>;
  readonly resolve: (r: RecordedChoice) => void;
  readonly reject: (e: unknown) => void;
}

export class ConsentLedger {
  readonly #deps: LedgerDeps;
  readonly #people: People;
  readonly #purposes: ConsentPurposes;
  readonly #max: number;
  readonly #writers: number;
  #queue: Pending[] = [];
  #active = 0;
  readonly #lanes: number[] = [];
  /** Per actor, the actor each lane appends as: chosen so that no two lanes share an audit chain. */
  readonly #laneActors = new Map<string, string[]>();
  #idle: (() => void)[] = [];

  constructor(deps: LedgerDeps, people: People, options: { maxBatch?: number; writers?: number } = {}) {
    this.#deps = deps;
    this.#people = people;
    this.#purposes = consentPurposes(deps.register);
    this.#max = options.maxBatch ?? 256;
    // PGlite is one connection: a second writer would only wait for it.
    this.#writers = options.writers ?? (deps.db.engine === 'pglite' ? 1 : 2);
  }

  /** Checks a choice (throws `invalid_body` naming every problem, `not_found` for an unknown person) and records it. */
  async record(input: ChoiceInput): Promise<RecordedChoice> {
    const problems = this.#problems(input);
    if (problems.length > 0) throw new CustodianError('invalid_body', 'the consent choice is not accepted', { problems });
    const subjectId = input.subjectId?.toLowerCase();
    if (subjectId !== undefined) {
      if ((await this.#people.holder(this.#deps.db.kysely, subjectId)) === null) throw new CustodianError('not_found', 'nobody with that Custodian id');
    }
    const now = this.#deps.clock.now();
    const prepared = this.#rows(input, subjectId ?? null, now);
    return new Promise((resolve, reject) => {
      this.#queue.push({ ...prepared, resolve, reject });
      if (this.#active < this.#writers) void this.#drain();
    });
  }

  /** Waits until every accepted choice is answered. */
  async close(): Promise<void> {
    if (this.#active > 0 || this.#queue.length > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
  }

  #problems(input: ChoiceInput): { field: string; problem: string }[] {
    const problems: { field: string; problem: string }[] = [];
    if ((input.visitorId === undefined) === (input.subjectId === undefined))
      problems.push({ field: '(body)', problem: 'give either visitorId or subjectId, not both' });
    if (input.visitorId !== undefined && !VISITOR_ID.test(input.visitorId))
      problems.push({ field: 'visitorId', problem: 'must be 16 to 128 letters, digits, hyphens or underscores' });
    if (input.subjectId !== undefined && !isUuid(input.subjectId)) problems.push({ field: 'subjectId', problem: 'is not a Custodian id' });
    const named = Object.keys(input.purposes);
    if (named.length === 0 && !input.gpc) problems.push({ field: 'purposes', problem: 'name at least one purpose' });
    for (const p of named) {
      if (!Object.hasOwn(this.#deps.register.purposes, p)) problems.push({ field: `purposes.${p.slice(0, 64)}`, problem: 'is not a purpose of the register' });
      else if (!this.#purposes.choosable.has(p))
        problems.push({ field: `purposes.${p}`, problem: 'is not on consent and cannot be objected to here (it needs no choice)' });
    }
    return problems;
  }

  #rows(input: ChoiceInput, subjectId: string | null, now: Date): Omit<Pending, 'resolve' | 'reject'> {
    const receiptId = randomUUID();
    const register = this.#deps.register;
    const choices = new Map<string, { state: ConsentState; method: ConsentMethod }>();
    if (input.gpc) {
      // A GPC signal is never consent: every consent purpose refused, every objectable one objected to, whatever the body says.
      for (const p of this.#purposes.consent) choices.set(p, { state: 'refused', method: 'gpc' });
      for (const p of this.#purposes.gpcObjects) choices.set(p, { state: 'objected', method: 'gpc' });
    } else {
      for (const [p, yes] of Object.entries(input.purposes)) {
        const onConsent = this.#purposes.consent.has(p);
        choices.set(p, { state: yes ? 'given' : onConsent ? 'refused' : 'objected', method: input.method });
      }
    }
    const purposes: Record<string, { state: ConsentState; method: ConsentMethod; expiresAt: Date | null }> = {};
    const rows: LedgerRow[] = [];
    const counts: Record<string, number> = {};
    for (const [purpose, { state, method }] of [...choices].sort(([a], [b]) => a.localeCompare(b))) {
      const lasts = register.purposes[purpose]?.['consent-lasts'];
      const expiresAt = state === 'given' && lasts ? addDuration(now, lasts) : null;
      purposes[purpose] = { state, method, expiresAt };
      counts[state] = (counts[state] ?? 0) + 1;
      rows.push({
        id: randomUUID(),
        receiptId,
        subjectId,
        visitorId: subjectId === null ? (input.visitorId ?? null) : null,
        purpose,
        channel: null,
        state,
        method,
        point: null,
        expiresAt,
        language: input.language,
        context: null,
      });
    }
    const audit: AuditInput = {
      actor: input.actor,
      action: 'consent.record',
      subjectId,
      ...(rows.length === 1 ? { purpose: rows[0]!.purpose } : {}),
      detail: { receipt: receiptId, method: input.gpc ? 'gpc' : input.method, ...counts },
    };
    return { rows, audit, result: { receiptId, purposes } };
  }

  async #drain(): Promise<void> {
    const lane = this.#lanes.pop() ?? this.#active;
    this.#active++;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#max);
        try {
          const at = await this.#write(batch, lane);
          for (const b of batch) b.resolve({ ...b.result, recordedAt: at });
        } catch (error) {
          if (batch.length === 1) batch[0]!.reject(error);
          else
            for (const b of batch) {
              await this.#write([b], lane).then(
                (at) => b.resolve({ ...b.result, recordedAt: at }),
                (e: unknown) => b.reject(e),
              );
            }
        }
      }
    } finally {
      this.#active--;
      this.#lanes.push(lane);
      if (this.#active === 0 && this.#queue.length === 0) for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  /** `actor~k` for the smallest k whose audit shard no lower lane uses (the shard depends on the actor alone). */
  #laneActor(actor: string, lane: number): string {
    let actors = this.#laneActors.get(actor);
    if (!actors) this.#laneActors.set(actor, (actors = [actor]));
    const shard = (a: string) => auditPartition(new Date(0), null, a);
    for (let k = 1; actors.length <= lane && k < 1000; k++) {
      const candidate = `${actor}~${k}`;
      if (!actors.some((a) => shard(a) === shard(candidate))) actors.push(candidate);
    }
    return actors[lane] ?? `${actor}~${lane}`;
  }

  async #write(batch: readonly Pending[], lane: number): Promise<Date> {
    const { db, auditor, register, clock } = this.#deps;
    const now = clock.now();
    await db.kysely.transaction().execute((trx) =>
      insertLedgerRows(
        trx,
        auditor,
        batch.flatMap((b) => b.rows),
        batch.map((b) => (lane === 0 ? b.audit : { ...b.audit, actor: this.#laneActor(b.audit.actor, lane) })),
        register.fingerprint,
        now,
      ),
    );
    return now;
  }
}
