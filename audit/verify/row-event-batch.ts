// A page of audit rows read as text (PGlite): the canonical text is built by canonicalEventText itself.
import { hash } from 'node:crypto';
import { canonicalEventText } from '../canonical-event.ts';
import type { EventBatch } from './copy-event-batch.ts';

/** A page of rows with everything as text, hashes as bytes. */
export interface PageRow {
  seq: string;
  id: string;
  at: string;
  actor: string;
  action: string;
  subject_id: string | null;
  record_ids: string;
  purpose: string | null;
  fingerprint: string | null;
  detail: string;
  prev_hash: Uint8Array;
  hash: Uint8Array;
}

export class RowEventBatch implements EventBatch {
  readonly count: number;
  readonly #rows: PageRow[];

  constructor(rows: PageRow[]) {
    this.#rows = rows;
    this.count = rows.length;
  }

  seq(i: number): number {
    return Number(this.#rows[i]!.seq);
  }

  id(i: number): string {
    return this.#rows[i]!.id;
  }

  linksTo(i: number, prev: Uint8Array): boolean {
    return Buffer.compare(this.#rows[i]!.prev_hash, prev) === 0;
  }

  copyHash(i: number, into: Uint8Array): void {
    into.set(this.#rows[i]!.hash.subarray(0, 32));
  }

  hashVerifies(i: number, prev: Uint8Array, partition: string): boolean {
    const r = this.#rows[i]!;
    let detail: unknown;
    try {
      detail = JSON.parse(r.detail);
    } catch {
      return false;
    }
    const canonical = canonicalEventText({
      partition,
      seq: Number(r.seq),
      id: r.id,
      at: r.at,
      actor: r.actor,
      action: r.action,
      subjectId: r.subject_id,
      recordIds: r.record_ids,
      purpose: r.purpose,
      fingerprint: r.fingerprint,
      detail,
    });
    const digest = hash('sha256', Buffer.concat([prev, Buffer.from(canonical, 'utf8')]), 'binary');
    return digest === Buffer.from(r.hash).toString('binary');
  }
}
