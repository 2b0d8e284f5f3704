// Collecting personal data through a declared collection point: the register decides which fields are accepted,
// which purposes and bases each value serves, and which values are sealed. Records, consents and their audit
// events are written in one transaction, so an answer of success always means everything is stored.
//
// One Collector per app, used by the API, the hosted forms and the staff route alike. Validation happens on
// submit, before queueing, so an invalid submission is refused at once and never joins a batch. Submissions that
// arrive together are written together (group commit): at low load a batch holds one submission (no added
// latency); under load the database work per submission shrinks to a share of a few statements. On PostgreSQL the
// batches are written on a thread of their own (writer-thread.ts). Once a submission is stored, email consent it
// ticked is confirmed from the mailbox: the collector queues that mail (consent/email-consent.ts) before answering.
import type { AppContext } from '../../app/app-context.ts';
import { sendConsentConfirmations } from '../../consent/email-consent.ts';
import { prepareSubmission, type CollectInput, type CollectResult, type PreparedSubmission } from './prepare-submission.ts';
import { inThreadWriter, type BatchWriter, type WriteOutcome } from './write-batch.ts';
import { CollectWriterThread } from './writer-thread.ts';

export type CollectorDeps = Pick<AppContext, 'db' | 'register' | 'clock' | 'keyring' | 'subjectKeys' | 'auditor' | 'mailer' | 'log'>;

export interface CollectorOptions {
  /** Submissions per batch at most. */
  readonly maxBatch?: number;
  /** Batches in flight at once, so one is prepared while the database works on another. */
  readonly writers?: number;
  /** Where batches are written; by default a writer thread on PostgreSQL and this thread on PGlite. */
  readonly writer?: BatchWriter;
  /** The address people reach this server at, for the links in confirmation mails; default http://localhost:8080. */
  readonly publicUrl?: string;
}

export class Collector {
  readonly #deps: CollectorDeps;
  readonly #max: number;
  readonly #writers: number;
  readonly #writer: BatchWriter;
  readonly #direct: BatchWriter;
  readonly #publicUrl: string;
  /** Confirmation mails being queued for submissions already stored. */
  readonly #confirming = new Set<Promise<unknown>>();
  #queue: { prepared: PreparedSubmission; resolve: (r: CollectResult) => void; reject: (e: unknown) => void }[] = [];
  #active = 0;
  #idle: (() => void)[] = [];

  constructor(deps: CollectorDeps, options: CollectorOptions = {}) {
    this.#deps = deps;
    this.#max = options.maxBatch ?? 64;
    // PGlite is one connection: a second writer would only wait for it.
    this.#writers = options.writers ?? (deps.db.engine === 'pglite' ? 1 : 2);
    this.#direct = inThreadWriter(deps);
    this.#publicUrl = options.publicUrl ?? 'http://localhost:8080';
    const postgres = deps.db.postgres;
    this.#writer = options.writer ?? (postgres ? new CollectWriterThread(deps, { url: postgres.url, schema: postgres.schema, poolSize: 3 }) : this.#direct);
  }

  /**
   * Validates and stores one submission. `batch: false` writes it at once in this thread, in a transaction of its
   * own (staff recording a letter wait for nobody); by default it joins the next batch.
   */
  submit(input: CollectInput, options: { batch?: boolean } = {}): Promise<CollectResult> {
    let prepared: PreparedSubmission;
    try {
      prepared = prepareSubmission(this.#deps.register, input);
    } catch (e) {
      return Promise.reject(e);
    }
    const stored: Promise<CollectResult> =
      options.batch === false
        ? this.#direct.write([prepared], this.#deps.clock.now()).then(([o]) => settle(o!))
        : new Promise((resolve, reject) => {
            this.#queue.push({ prepared, resolve, reject });
            if (this.#active < this.#writers) void this.#drain();
          });
    return stored.then((result) => this.#confirm(prepared, input, result));
  }

  /** Waits for every accepted submission to be answered, then stops the writer. */
  async close(): Promise<void> {
    if (this.#active > 0 || this.#queue.length > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    await Promise.all(this.#confirming);
    await this.#writer.close();
  }

  /**
   * Once the submission is stored: the mail confirming its pending email consents, to the address the form gave for
   * the person (consent/email-consent.ts). Queued in a transaction of its own; if that fails, the submission stands
   * and its consents stay pending until they lapse.
   */
  async #confirm(prepared: PreparedSubmission, input: CollectInput, result: CollectResult): Promise<CollectResult> {
    if (result.pendingConsents.length === 0) return result;
    const fields = this.#deps.register.collection[prepared.point]!.fields;
    // The person's own address: an email field not about someone else (a referrer's is `about:` the clinician).
    const field = Object.keys(fields).find((name) => fields[name]!.type === 'email' && !fields[name]!.about && prepared.values.has(name));
    const sending = sendConsentConfirmations(this.#deps, {
      subjectId: result.subjectId,
      point: prepared.point,
      email: field === undefined ? undefined : String(prepared.values.get(field)),
      pending: result.pendingConsents,
      language: input.language ?? this.#deps.register.notice.language,
      publicUrl: this.#publicUrl,
      actor: prepared.actor,
    }).then(
      (confirmationsSent) => ({ ...result, confirmationsSent }),
      (e: unknown) => {
        this.#deps.log.warn(`collect: no confirmation mail was queued for subject ${result.subjectId} (${codeOf(e)}); its email consent stays pending`);
        return result;
      },
    );
    this.#confirming.add(sending);
    void sending.finally(() => this.#confirming.delete(sending));
    return sending;
  }

  async #drain(): Promise<void> {
    this.#active++;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#max);
        let outcomes: WriteOutcome[];
        try {
          outcomes = await this.#writer.write(
            batch.map((b) => b.prepared),
            this.#deps.clock.now(),
          );
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

function codeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? code : 'error';
}

function settle(outcome: WriteOutcome): CollectResult {
  if (outcome.ok) return outcome.result;
  throw outcome.error;
}
