// Unwrapped data keys, least recently used first out. It is a memo of unwrapKey(master, wrapped, subject), checked
// against the row just read on every use: a key shredded or re-wrapped by another process is never served from here.
import type { MasterKey } from './master-key.ts';

interface Entry {
  readonly master: MasterKey;
  readonly wrapped: Buffer;
  readonly dek: Uint8Array;
}

export class DekCache {
  readonly #max: number;
  readonly #entries = new Map<string, Entry>();

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The data key when `wrapped` under `master` (same key object, same bytes) is what was cached for the subject. */
  get(subjectId: string, master: MasterKey, wrapped: Uint8Array): Uint8Array | undefined {
    const hit = this.#entries.get(subjectId);
    if (!hit) return undefined;
    if (hit.master !== master || !hit.wrapped.equals(wrapped)) {
      this.#entries.delete(subjectId);
      return undefined;
    }
    // Re-insert to mark it most recently used (a Map iterates in insertion order).
    this.#entries.delete(subjectId);
    this.#entries.set(subjectId, hit);
    return hit.dek;
  }

  set(subjectId: string, master: MasterKey, wrapped: Uint8Array, dek: Uint8Array): void {
    this.#entries.delete(subjectId);
    this.#entries.set(subjectId, { master, wrapped: Buffer.from(wrapped), dek: Uint8Array.from(dek) });
    if (this.#entries.size > this.#max) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  delete(subjectId: string): void {
    this.#entries.get(subjectId)?.dek.fill(0);
    this.#entries.delete(subjectId);
  }
}
