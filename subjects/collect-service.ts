// Collecting personal data through a declared collection point: the register decides which fields are accepted,
// which purposes and bases each value serves, and which values are sealed. Records, consents and their audit
// events are written in one transaction, so a 201 always means everything is stored.
//
// Submissions that arrive together are written together (write-submissions.ts, CollectBatcher): validation is per
// submission, the database work is five round trips per batch whatever its size, on a writer thread on PostgreSQL
// (collect-writer-thread.ts).
import type { Clock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import type { Keyring } from '../crypto/keyring.ts';
import type { Db } from '../db/connect.ts';
import type { Register } from '../register/load-register.ts';
import type { CHANNELS, IDENTIFIER_KINDS } from '../register/schema.ts';
import { defaultPhoneRegion, normaliseIdentifier } from './normalise-identifier.ts';
import { parseSubmission, type CleanValues, type ConsentGiven } from './submission-schema.ts';
import type { IdentifierInput } from './subjects-store.ts';
import { IdentifierRace, writeSubmissions } from './write-submissions.ts';

export type Channel = (typeof CHANNELS)[number];

export interface CollectDeps {
  readonly db: Db;
  readonly register: Register;
  readonly clock: Clock;
  readonly keyring: Keyring;
  /** Audit head checkpoint keys, the active one first (audit/checkpoint.ts). */
  readonly checkpointKeys: readonly Uint8Array[];
}

export interface CollectInput {
  readonly point: string;
  readonly body: unknown;
  /** Who submitted: `public:<point>` for the web, `staff:<user id>` when staff record a letter or call. */
  readonly actor: string;
  /** Staff-recorded submissions say how the data arrived and when. */
  readonly channel?: Channel;
  readonly receivedAt?: Date;
}

export interface CollectResult {
  readonly subjectId: string;
  readonly recordIds: string[];
  readonly createdSubject: boolean;
}

/** A submission that passed validation: everything the database step needs, nothing it must re-check. */
export interface PreparedSubmission {
  readonly point: string;
  readonly subjectKind: string;
  readonly values: CleanValues;
  readonly consents: readonly ConsentGiven[];
  readonly identifiers: readonly IdentifierInput[];
  readonly actor: string;
  readonly channel: Channel;
  readonly receivedAt: Date | null;
}

/** Whether values of a category are stored sealed. */
export function isSealed(register: Register, category: string): boolean {
  const c = register.data[category];
  return Boolean(c && (c.special || c.encrypt));
}

/** Validates a submission against its collection point; throws `invalid_fields` listing every problem. */
export function prepareSubmission(register: Register, input: CollectInput): PreparedSubmission {
  const point = Object.hasOwn(register.collection, input.point) ? register.collection[input.point] : undefined;
  if (!point) throw new CustodianError('not_found', `there is no collection point "${input.point}"`);

  const parsed = parseSubmission(register, input.point, input.body);
  if (!parsed.ok) throw new CustodianError('invalid_fields', 'some fields are not accepted', { problems: parsed.problems });
  const { values, consents } = parsed.submission;

  const region = defaultPhoneRegion(register.controller);
  const identifiers: IdentifierInput[] = [];
  for (const [name, field] of Object.entries(point.fields)) {
    const value = values.get(name);
    if (!field.identifier || value === undefined) continue;
    const n = normaliseIdentifier(field.identifier as (typeof IDENTIFIER_KINDS)[number], String(value), region);
    if (!n.ok) throw new CustodianError('invalid_fields', 'some fields are not accepted', { problems: [{ field: name, problem: n.problem }] });
    identifiers.push({ kind: field.identifier, value: n.value });
  }
  return {
    point: input.point,
    subjectKind: point.subject,
    values,
    consents,
    identifiers,
    actor: input.actor,
    channel: input.channel ?? point.channel,
    receivedAt: input.receivedAt ?? null,
  };
}

/** Writes prepared submissions in one transaction, retrying when another process claimed an identifier first. */
async function writeWithRetry(deps: CollectDeps, batch: readonly PreparedSubmission[]): Promise<CollectResult[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await writeSubmissions(deps, batch);
    } catch (e) {
      // The other transaction has committed by the time ON CONFLICT reports it: a retry finds its subject.
      if (e instanceof IdentifierRace && attempt < 3) continue;
      throw e;
    }
  }
}

export async function collect(deps: CollectDeps, input: CollectInput): Promise<CollectResult> {
  const [result] = await writeWithRetry(deps, [prepareSubmission(deps.register, input)]);
  return result!;
}

/** How one submission of a batch ended. */
export type WriteOutcome = { readonly ok: true; readonly result: CollectResult } | { readonly ok: false; readonly error: unknown };

/** Writes batches of prepared submissions: in this thread, or on a writer thread (collect-writer-thread.ts). */
export interface BatchWriter {
  write(batch: readonly PreparedSubmission[]): Promise<WriteOutcome[]>;
  close(): Promise<void>;
}

/**
 * One transaction for the batch. When the batch as a whole fails, each submission is written again on its own, so
 * one submission's failure (a consent it lacks, an erased person) is never another's.
 */
export async function writeBatchOutcomes(deps: CollectDeps, batch: readonly PreparedSubmission[]): Promise<WriteOutcome[]> {
  try {
    return (await writeWithRetry(deps, batch)).map((result) => ({ ok: true, result }));
  } catch (error) {
    if (batch.length === 1) return [{ ok: false, error }];
    const outcomes: WriteOutcome[] = [];
    for (const p of batch) {
      outcomes.push(await writeWithRetry(deps, [p]).then((r): WriteOutcome => ({ ok: true, result: r[0]! }), (e: unknown): WriteOutcome => ({ ok: false, error: e })));
    }
    return outcomes;
  }
}

/** Writes batches on the event loop that serves the requests (PGlite, which lives in this thread; tests). */
export function inThreadWriter(deps: CollectDeps): BatchWriter {
  return { write: (batch) => writeBatchOutcomes(deps, batch), close: async () => {} };
}

/**
 * Group commit for the collection endpoint: while one batch is being written, new submissions queue; the next
 * batch takes all of them. At low load a batch holds one submission (no added latency); under load the database
 * work per submission shrinks to a share of a few statements. Validation happens here, before queueing, so an
 * invalid submission is refused at once and never joins a batch.
 */
export class CollectBatcher {
  readonly #deps: CollectDeps;
  readonly #max: number;
  readonly #writers: number;
  readonly #writer: BatchWriter;
  #queue: { prepared: PreparedSubmission; resolve: (r: CollectResult) => void; reject: (e: unknown) => void }[] = [];
  #active = 0;
  #idle: (() => void)[] = [];

  /** `writers`: batches in flight at once, so one is prepared while the database works on another. */
  constructor(deps: CollectDeps, options: { maxBatch?: number; writers?: number; writer?: BatchWriter } = {}) {
    this.#deps = deps;
    this.#max = options.maxBatch ?? 64;
    // PGlite is one connection: a second writer would only wait for it.
    this.#writers = options.writers ?? (deps.db.engine === 'pglite' ? 1 : 2);
    this.#writer = options.writer ?? inThreadWriter(deps);
  }

  submit(input: CollectInput): Promise<CollectResult> {
    let prepared: PreparedSubmission;
    try {
      prepared = prepareSubmission(this.#deps.register, input);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => {
      this.#queue.push({ prepared, resolve, reject });
      if (this.#active < this.#writers) void this.#drain();
    });
  }

  /** Waits for every accepted submission to be answered, then stops the writer. */
  async close(): Promise<void> {
    if (this.#active > 0 || this.#queue.length > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    await this.#writer.close();
  }

  async #drain(): Promise<void> {
    this.#active++;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#max);
        let outcomes: WriteOutcome[];
        try {
          outcomes = await this.#writer.write(batch.map((b) => b.prepared));
        } catch (error) {
          outcomes = batch.map(() => ({ ok: false, error }));
        }
        batch.forEach((b, i) => {
          const o = outcomes[i]!;
          if (o.ok) b.resolve(o.result);
          else b.reject(o.error);
        });
      }
    } finally {
      this.#active--;
      if (this.#active === 0 && this.#queue.length === 0) for (const resolve of this.#idle.splice(0)) resolve();
    }
  }
}
