// Collection batches written on a thread of their own (PostgreSQL). A batch is a handful of round trips to the
// database, and on the request thread each reply waits its turn behind request parsing, validation and answers:
// under load that queueing, not the database, set the pace. The writer thread does nothing but the database half,
// so its replies are handled the moment they arrive. Validation stays on the request thread; what crosses is a
// validated batch, the keys it needs, and each submission's outcome.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { AppContext } from '../../app/app-context.ts';
import { CustodianError, ERROR_CODES, type ErrorCode } from '../../core/errors.ts';
import type { CollectResult, PreparedSubmission } from './prepare-submission.ts';
import type { BatchWriter, WriteOutcome } from './write-batch.ts';

/** What the request thread sends: a batch, "now", and the keys when they changed since the last batch. */
export interface WriterRequest {
  readonly id: number;
  readonly batch: readonly PreparedSubmission[];
  readonly now: number;
  readonly keys?: WriterKeys;
}

interface WriterKeys {
  /** The master keys, the active one first (the thread derives the audit checkpoint keys from them). */
  readonly masters: readonly { id: string; key: Uint8Array }[];
}

/** An error as it crosses threads: a coded error whole; anything else by name, code and message only. */
export type SentError =
  | { readonly kind: 'custodian'; readonly code: ErrorCode; readonly message: string; readonly details?: Record<string, unknown> }
  | { readonly kind: 'other'; readonly name: string; readonly code?: string; readonly message: string };

type SentOutcome = { readonly ok: true; readonly result: CollectResult } | { readonly ok: false; readonly error: SentError };

export type WriterReply = { readonly id: number; readonly outcomes: readonly SentOutcome[] } | { readonly id: number; readonly failure: SentError };
/** The writer thread could not start (the database is unreachable); it ends after saying so. */
export type WriterFatal = { readonly fatal: SentError };

export interface WriterThreadOptions {
  readonly url: string;
  readonly schema: string | undefined;
  /** Connections of the writer thread's own pool: one per batch in flight, and one spare. */
  readonly poolSize: number;
}

export function sendError(e: unknown): SentError {
  if (e instanceof CustodianError) return { kind: 'custodian', code: e.code, message: e.message, ...(e.details ? { details: { ...e.details } } : {}) };
  const err = e as { name?: unknown; code?: unknown; message?: unknown };
  return {
    kind: 'other',
    name: typeof err?.name === 'string' ? err.name : 'Error',
    ...(typeof err?.code === 'string' ? { code: err.code } : {}),
    message: typeof err?.message === 'string' ? err.message : String(e),
  };
}

function receiveError(e: SentError): Error {
  if (e.kind === 'custodian' && Object.hasOwn(ERROR_CODES, e.code)) return new CustodianError(e.code, e.message, e.details);
  const error = new Error(e.message);
  error.name = e.kind === 'other' ? e.name : 'Error';
  if (e.kind === 'other' && e.code !== undefined) Object.assign(error, { code: e.code });
  return error;
}

/**
 * Starts its thread on the first batch (so an app that never collects never pays for it) and again after a crash.
 * `close` lets the batches in flight finish, then the thread closes its pool and ends.
 */
type WriterThreadDeps = Pick<AppContext, 'register' | 'keyring'>;

export class CollectWriterThread implements BatchWriter {
  readonly #deps: WriterThreadDeps;
  readonly #options: WriterThreadOptions;
  #worker: Worker | null = null;
  #pending = new Map<number, { resolve: (r: WriterReply) => void; reject: (e: unknown) => void }>();
  #next = 1;
  #sentKeys = '';

  constructor(deps: WriterThreadDeps, options: WriterThreadOptions) {
    this.#deps = deps;
    this.#options = options;
  }

  async write(batch: readonly PreparedSubmission[], now: Date): Promise<WriteOutcome[]> {
    const outcomes = await this.#send(batch, now);
    // A key this thread's keyring has not seen (another process rotated): re-read the key source, then once more.
    const unknownKey = outcomes.flatMap((o, i) => (!o.ok && o.error instanceof CustodianError && o.error.code === 'master_key_unknown' ? [i] : []));
    if (unknownKey.length === 0) return outcomes;
    this.#deps.keyring.reload();
    this.#sentKeys = '';
    const again = await this.#send(
      unknownKey.map((i) => batch[i]!),
      now,
    );
    unknownKey.forEach((i, k) => {
      outcomes[i] = again[k]!;
    });
    return outcomes;
  }

  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = null;
    const exited = once(worker, 'exit');
    worker.postMessage({ close: true });
    const timer = setTimeout(() => void worker.terminate(), 10_000);
    await exited.catch(() => undefined);
    clearTimeout(timer);
  }

  async #send(batch: readonly PreparedSubmission[], now: Date): Promise<WriteOutcome[]> {
    const worker = (this.#worker ??= this.#start());
    const keyring = this.#deps.keyring;
    const active = keyring.active();
    const signature = `${active.id}|${keyring.ids().join(',')}`;
    const request: WriterRequest = { id: this.#next++, batch, now: now.getTime() };
    if (signature !== this.#sentKeys) {
      const others = keyring
        .ids()
        .filter((id) => id !== active.id)
        .map((id) => keyring.resolve(id));
      Object.assign(request, { keys: { masters: [active, ...others].map((m) => ({ id: m.id, key: m.key })) } satisfies WriterKeys });
      this.#sentKeys = signature;
    }
    const reply = await new Promise<WriterReply>((resolve, reject) => {
      this.#pending.set(request.id, { resolve, reject });
      worker.postMessage(request);
    });
    if ('failure' in reply) throw receiveError(reply.failure);
    return reply.outcomes.map((o): WriteOutcome => (o.ok ? { ok: true, result: o.result } : { ok: false, error: receiveError(o.error) }));
  }

  #start(): Worker {
    const { url, schema, poolSize } = this.#options;
    const worker = new Worker(new URL('./writer-worker.ts', import.meta.url), {
      workerData: { url, schema, poolSize, register: this.#deps.register },
    });
    // The HTTP server keeps the process alive while it serves; an idle writer thread must not.
    worker.unref();
    worker.on('message', (reply: WriterReply | WriterFatal) => {
      if ('fatal' in reply) {
        fail(receiveError(reply.fatal));
        return;
      }
      const waiting = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      waiting?.resolve(reply);
    });
    const fail = (error: unknown) => {
      if (this.#worker === worker) {
        this.#worker = null;
        this.#sentKeys = '';
      }
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      for (const p of pending) p.reject(error);
    };
    worker.on('error', (e) => fail(new CustodianError('internal', `the collection writer thread failed: ${e.message}`)));
    worker.on('exit', (code) => fail(new CustodianError('database_unavailable', `the collection writer thread stopped (exit code ${code})`)));
    return worker;
  }
}
