// Collecting personal data through a declared collection point: the register decides which fields are accepted,
// which purposes and bases each value serves, and which values are sealed. Records, consents and their audit
// events are written in one transaction, so a 201 always means everything is stored.
//
// Submissions that arrive together are written together (write-submissions.ts, CollectBatcher): validation is per
// submission, the database work is a handful of multi-row statements per batch.
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

/**
 * Group commit for the collection endpoint: while one batch is being written, new submissions queue; the next
 * batch takes all of them. At low load a batch holds one submission (no added latency); under load the database
 * work per submission shrinks to a share of a few multi-row statements. A batch that fails is retried one
 * submission at a time, so one submission's failure is never another's.
 */
export class CollectBatcher {
  readonly #deps: CollectDeps;
  readonly #max: number;
  readonly #writers: number;
  #queue: { prepared: PreparedSubmission; resolve: (r: CollectResult) => void; reject: (e: unknown) => void }[] = [];
  #active = 0;

  /** `writers`: batches in flight at once, so Node prepares one while the database works on another. */
  constructor(deps: CollectDeps, options: { maxBatch?: number; writers?: number } = {}) {
    this.#deps = deps;
    this.#max = options.maxBatch ?? 64;
    // PGlite is one connection: a second writer would only wait for it.
    this.#writers = options.writers ?? (deps.db.engine === 'pglite' ? 1 : 2);
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

  async #drain(): Promise<void> {
    this.#active++;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#max);
        try {
          const results = await writeWithRetry(this.#deps, batch.map((b) => b.prepared));
          batch.forEach((b, i) => b.resolve(results[i]!));
        } catch (e) {
          if (batch.length === 1) {
            batch[0]!.reject(e);
            continue;
          }
          for (const b of batch) {
            await writeWithRetry(this.#deps, [b.prepared]).then((r) => b.resolve(r[0]!), b.reject);
          }
        }
      }
    } finally {
      this.#active--;
    }
  }
}
