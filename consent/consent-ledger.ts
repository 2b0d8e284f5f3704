// Recording consent choices: a visitor's banner choice, a person's choice through the API, a Global Privacy Control
// signal. Each choice becomes one receipt of ledger events (one per purpose), with its audit event; the answer is
// given only once the transaction holding them has committed.
//
// Group commit: choices that arrive while a batch is being written are written together in the next one, each
// answered on its own once it commits. At low load a batch holds one choice, so nothing waits; under load the cost per
// choice shrinks to a share of one round trip. A batch is usually ONE statement, run alone so it commits alone: its
// ledger rows and audit events, chained onto the audit head this process wrote last, and the head advanced only if
// it is still exactly that one (Auditor.prepareGuarded), prepared once per connection. When it is not (the first
// batch, a batch about people in several chains, another server writing the same chain, a head wound back or forged),
// nothing was written and the batch goes the locking way, which checks the head and refuses to build on a bad one.
// A batch that fails is written again choice by choice, so one bad choice never fails another. One writer: with the
// round trip this short, a second only made batches smaller and cost more CPU than it saved (bench/consent-bench.ts).
import type { AppContext } from '../app/app-context.ts';
import type { AuditInput } from '../audit/auditor.ts';
import { addDuration } from '../core/duration.ts';
import { CustodianError } from '../core/errors.ts';
import { isUuid, timeOrderedId } from '../core/ids.ts';
import { consentPurposes, type ConsentPurposes } from './consent-purposes.ts';
import { insertLedgerRows, insertLedgerRowsGuarded, type LedgerRow } from './consent-store.ts';
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
  #queue: Pending[] = [];
  #writing = false;
  #idle: (() => void)[] = [];
  /** Batches written in one round trip onto the head this process wrote last, and batches that locked the head. */
  readonly #writes = { guarded: 0, locked: 0 };

  constructor(deps: LedgerDeps, people: People, options: { maxBatch?: number } = {}) {
    this.#deps = deps;
    this.#people = people;
    this.#purposes = consentPurposes(deps.register);
    this.#max = options.maxBatch ?? 256;
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
      if (!this.#writing) void this.#drain();
    });
  }

  /** How batches were written so far (for tests and operators: mostly guarded, unless another process shares the chain). */
  writes(): { readonly guarded: number; readonly locked: number } {
    return { ...this.#writes };
  }

  /** Waits until every accepted choice is answered. */
  async close(): Promise<void> {
    if (this.#writing || this.#queue.length > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
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
    const receiptId = timeOrderedId();
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
        id: timeOrderedId(),
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
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#max);
        try {
          const at = await this.#write(batch);
          for (const b of batch) b.resolve({ ...b.result, recordedAt: at });
        } catch (error) {
          if (batch.length === 1) batch[0]!.reject(error);
          else
            for (const b of batch) {
              await this.#write([b]).then(
                (at) => b.resolve({ ...b.result, recordedAt: at }),
                (e: unknown) => b.reject(e),
              );
            }
        }
      }
    } finally {
      this.#writing = false;
      for (const resolve of this.#idle.splice(0)) resolve();
    }
  }

  async #write(batch: readonly Pending[]): Promise<Date> {
    const { db, auditor, register, clock } = this.#deps;
    const now = clock.now();
    const rows = batch.flatMap((b) => b.rows);
    const audit = batch.map((b) => b.audit);
    if (await insertLedgerRowsGuarded(db.kysely, auditor, rows, audit, register.fingerprint, now)) {
      this.#writes.guarded++;
      return now;
    }
    this.#writes.locked++;
    await db.kysely.transaction().execute((trx) => insertLedgerRows(trx, auditor, rows, audit, register.fingerprint, now));
    return now;
  }
}
