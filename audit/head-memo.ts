// The heads an auditor signed or already checked. A head row read back exactly as it was written (same seq, hash
// and checkpoint) needs no second HMAC; any other row, a forged one included, is checked. One per auditor, sized,
// and emptied whenever the auditor's keys change, so a head is only ever trusted under the keys that checked it.
export interface HeadRow {
  readonly partition: string;
  readonly seq: string | number;
  readonly hash: string;
  readonly checkpoint: string;
}

export class HeadMemo {
  readonly #max: number;
  readonly #heads = new Set<string>();

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#heads.size;
  }

  has(head: HeadRow): boolean {
    return this.#heads.has(keyOf(head));
  }

  add(head: HeadRow): void {
    const key = keyOf(head);
    this.#heads.delete(key);
    this.#heads.add(key);
    // A Set iterates in insertion order: the first entry is the one remembered longest ago.
    if (this.#heads.size > this.#max) this.#heads.delete(this.#heads.values().next().value!);
  }

  clear(): void {
    this.#heads.clear();
  }
}

function keyOf(h: HeadRow): string {
  return `${h.partition}|${Number(h.seq)}|${h.hash}|${h.checkpoint}`;
}
