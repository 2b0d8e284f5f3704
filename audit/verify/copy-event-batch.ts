// Audit events straight from binary COPY bytes to the bytes their hash covers. The canonical text is defined once,
// in canonical-event.ts, as JSON.stringify of an array; this writes the same UTF-8 bytes without building strings:
// uuids and times as digits, text fields copied as they arrive, the detail canonicalised from jsonb's own text
// when it is the flat object every append writes. Anything out of the ordinary (escapes, nested values, odd keys,
// numbers a double might not print back the same) goes through canonicalEventText's own steps instead, so the two
// paths cannot disagree; a property test holds them together.
import { hash } from 'node:crypto';
import { int64At, timestampIsoBytesAt, type CopyTuples } from '../../db/copy-binary.ts';
import { canonicalDetailText, canonicalPrefix } from '../canonical-event.ts';

/** A batch of stored events in seq order, as the verifier reads them. */
export interface EventBatch {
  readonly count: number;
  seq(i: number): number;
  /** Only asked for when an event is reported. */
  id(i: number): string;
  /** Whether the stored prev_hash is `prev`. */
  linksTo(i: number, prev: Uint8Array): boolean;
  /** Whether the stored hash is SHA-256(prev || canonical text of the stored content). */
  hashVerifies(i: number, prev: Uint8Array, partition: string): boolean;
  /** Copies the stored hash (32 bytes) into `into`. */
  copyHash(i: number, into: Uint8Array): void;
}

/** The columns, in the order the COPY selects them. */
export const COPY_COLUMNS = 'seq, id, at, actor, action, subject_id, record_ids, purpose, fingerprint, detail, prev_hash, hash';
export const COPY_FIELDS = 12;
const [SEQ, ID, AT, ACTOR, ACTION, SUBJECT, RECORDS, PURPOSE, FINGERPRINT, DETAIL, PREV, HASH] = Array.from(
  { length: COPY_FIELDS },
  (_, i) => i,
) as number[] as [number, number, number, number, number, number, number, number, number, number, number, number];

const HEX = Buffer.from('0123456789abcdef', 'latin1');
const Q = 0x22; // "
const COMMA = 0x2c;

/** Where canonical bytes are assembled: the previous hash first, then the text. Grows when an event needs it. */
let out = Buffer.allocUnsafe(8192);
const prefixes = new Map<string, Buffer>();

export class CopyEventBatch implements EventBatch {
  readonly count: number;
  readonly #t: CopyTuples;

  constructor(tuples: CopyTuples) {
    this.#t = tuples;
    this.count = tuples.count;
  }

  #start(i: number, field: number): number {
    return this.#t.starts[i * COPY_FIELDS + field]!;
  }

  #length(i: number, field: number): number {
    return this.#t.lengths[i * COPY_FIELDS + field]!;
  }

  seq(i: number): number {
    return int64At(this.#t.buf, this.#start(i, SEQ));
  }

  id(i: number): string {
    const n = writeUuid(this.#t.buf, this.#start(i, ID), 0);
    return out.toString('latin1', 0, n);
  }

  linksTo(i: number, prev: Uint8Array): boolean {
    return sameBytes(this.#t.buf, this.#start(i, PREV), prev, this.#length(i, PREV));
  }

  copyHash(i: number, into: Uint8Array): void {
    const s = this.#start(i, HASH);
    into.set(this.#t.buf.subarray(s, s + 32));
  }

  hashVerifies(i: number, prev: Uint8Array, partition: string): boolean {
    const { buf, starts, lengths } = this.#t;
    const base = i * COPY_FIELDS;
    const start = (f: number) => starts[base + f]!;
    const length = (f: number) => lengths[base + f]!;
    // Room for the worst case: every text byte escaped as \u00XX, every record id, the detail as text.
    const need =
      64 +
      256 +
      6 * (length(ACTOR) + length(ACTION) + Math.max(0, length(PURPOSE)) + Math.max(0, length(FINGERPRINT))) +
      2 * Math.max(0, length(RECORDS)) +
      6 * length(DETAIL);
    if (out.length < need) out = Buffer.allocUnsafe(need * 2);

    out.set(prev, 0);
    let prefix = prefixes.get(partition);
    if (!prefix) {
      if (prefixes.size > 1024) prefixes.clear();
      prefixes.set(partition, (prefix = Buffer.from(canonicalPrefix(partition), 'utf8')));
    }
    let n = 32 + prefix.copy(out, 32);
    n += out.write(String(int64At(buf, start(SEQ))), n, 'latin1');
    out[n++] = COMMA;
    out[n++] = Q;
    n = writeUuid(buf, start(ID), n);
    out[n++] = Q;
    out[n++] = COMMA;
    out[n++] = Q;
    const at = timestampIsoBytesAt(buf, start(AT));
    if (at === null) return false; // a time no ISO text can show: only an edit makes one
    n += at.copy(out, n);
    out[n++] = Q;
    out[n++] = COMMA;
    n = writeJsonText(buf, start(ACTOR), length(ACTOR), n);
    out[n++] = COMMA;
    n = writeJsonText(buf, start(ACTION), length(ACTION), n);
    out[n++] = COMMA;
    if (length(SUBJECT) < 0) n += out.write('null', n, 'latin1');
    else {
      out[n++] = Q;
      n = writeUuid(buf, start(SUBJECT), n);
      out[n++] = Q;
    }
    out[n++] = COMMA;
    n = writeUuidArray(buf, start(RECORDS), length(RECORDS), n);
    if (n < 0) return false; // an array no append writes (more dimensions, NULLs, other bounds)
    out[n++] = COMMA;
    n = writeJsonText(buf, start(PURPOSE), length(PURPOSE), n);
    out[n++] = COMMA;
    n = writeJsonText(buf, start(FINGERPRINT), length(FINGERPRINT), n);
    out[n++] = COMMA;
    // jsonb's binary form: a version byte, then its text.
    const detailStart = start(DETAIL) + 1;
    const detailEnd = start(DETAIL) + length(DETAIL);
    const detail = canonicalDetailBytes(buf, detailStart, detailEnd, n);
    if (detail < 0) {
      const text = canonicalDetailText(buf.toString('utf8', detailStart, detailEnd));
      if (text === null) return false;
      n += out.write(text, n, 'utf8');
    } else n = detail;
    out[n++] = 0x5d; // ]
    const h = start(HASH);
    return length(HASH) === 32 && hash('sha256', out.subarray(0, n), 'binary') === buf.toString('binary', h, h + 32);
  }
}

/** Whether `buf[p, p + length)` holds the same bytes as `other` (short runs: a loop beats a native call). */
function sameBytes(buf: Buffer, p: number, other: Uint8Array, length: number): boolean {
  if (other.length !== length) return false;
  for (let k = 0; k < length; k++) if (buf[p + k] !== other[k]) return false;
  return true;
}

function writeUuid(buf: Buffer, p: number, n: number): number {
  for (let k = 0; k < 16; k++) {
    if (k === 4 || k === 6 || k === 8 || k === 10) out[n++] = 0x2d;
    const b = buf[p + k]!;
    out[n++] = HEX[b >> 4]!;
    out[n++] = HEX[b & 15]!;
  }
  return n;
}

/** `"{a,b}"`: a one-dimensional uuid[] from 1 without NULLs, as PostgreSQL prints it; -1 for any other array. */
function writeUuidArray(buf: Buffer, p: number, length: number, n: number): number {
  if (length < 12) return -1;
  const dims = buf.readInt32BE(p);
  out[n++] = Q;
  out[n++] = 0x7b; // {
  if (dims !== 0) {
    if (dims !== 1 || buf.readInt32BE(p + 4) !== 0 || buf.readInt32BE(p + 16) !== 1) return -1;
    const count = buf.readInt32BE(p + 12);
    if (length !== 20 + count * 20) return -1;
    for (let k = 0, q = p + 20; k < count; k++, q += 20) {
      if (buf.readInt32BE(q) !== 16) return -1;
      if (k > 0) out[n++] = COMMA;
      n = writeUuid(buf, q + 4, n);
    }
  }
  out[n++] = 0x7d; // }
  out[n++] = Q;
  return n;
}

/** A text column as JSON.stringify writes it: `null`, or the UTF-8 bytes in quotes when nothing needs escaping. */
function writeJsonText(buf: Buffer, p: number, length: number, n: number): number {
  if (length < 0) return n + out.write('null', n, 'latin1');
  for (let k = p; k < p + length; k++) {
    const b = buf[k]!;
    if (b < 0x20 || b === Q || b === 0x5c) return n + out.write(JSON.stringify(buf.toString('utf8', p, p + length)), n, 'utf8');
  }
  out[n++] = Q;
  n += buf.copy(out, n, p, p + length);
  out[n++] = Q;
  return n;
}

const pairs: { key: number; keyEnd: number; value: number; valueEnd: number }[] = Array.from({ length: 64 }, () => ({
  key: 0,
  keyEnd: 0,
  value: 0,
  valueEnd: 0,
}));

/**
 * jsonb's text of a flat object (`{"step": 1, "field": "x"}`, keys ordered by length) rewritten as the canonical
 * text (`{"field":"x","step":1}`, keys in code unit order) straight into `out`. Returns -1 unless every key is ASCII
 * starting with a letter and unescaped, and every value is a string, true, false, null or an integer of at most 15
 * digits: then canonicalDetailText, which parses, decides.
 */
function canonicalDetailBytes(buf: Buffer, p: number, end: number, n: number): number {
  if (buf[p] !== 0x7b) return -1;
  p++;
  let count = 0;
  if (buf[p] === 0x7d) {
    if (p + 1 !== end) return -1;
  } else {
    for (;;) {
      if (buf[p] !== Q) return -1;
      const key = ++p;
      const first = buf[p]!;
      if (!((first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x7a))) return -1;
      while (p < end && buf[p] !== Q) {
        const b = buf[p]!;
        if (b === 0x5c || b < 0x20 || b >= 0x80) return -1;
        p++;
      }
      if (p >= end) return -1;
      const keyEnd = p++;
      if (buf[p] !== 0x3a || buf[p + 1] !== 0x20) return -1;
      p += 2;
      const value = p;
      const c = buf[p];
      if (c === Q) {
        p++;
        while (p < end && buf[p] !== Q) p += buf[p] === 0x5c ? 2 : 1;
        if (p >= end) return -1;
        p++;
      } else if (c === 0x74 && buf.toString('latin1', p, p + 4) === 'true') p += 4;
      else if (c === 0x66 && buf.toString('latin1', p, p + 5) === 'false') p += 5;
      else if (c === 0x6e && buf.toString('latin1', p, p + 4) === 'null') p += 4;
      else {
        if (c === 0x2d) p++;
        const digits = p;
        while (p < end && buf[p]! >= 0x30 && buf[p]! <= 0x39) p++;
        const d = p - digits;
        if (d === 0 || d > 15 || (d > 1 && buf[digits] === 0x30)) return -1;
        if (c === 0x2d && d === 1 && buf[digits] === 0x30) return -1; // -0 prints as 0 from a number
      }
      if (count === pairs.length) return -1;
      const pair = pairs[count++]!;
      pair.key = key;
      pair.keyEnd = keyEnd;
      pair.value = value;
      pair.valueEnd = p;
      if (buf[p] === 0x7d && p + 1 === end) break;
      if (buf[p] !== COMMA || buf[p + 1] !== 0x20) return -1;
      p += 2;
    }
  }
  // Insertion sort by key bytes (ASCII, so the same order as JavaScript's string comparison); objects are small.
  for (let a = 1; a < count; a++) {
    const pair = pairs[a]!;
    let b = a - 1;
    while (b >= 0 && keyAfter(buf, pairs[b]!, pair)) {
      pairs[b + 1] = pairs[b]!;
      b--;
    }
    pairs[b + 1] = pair;
  }
  out[n++] = 0x7b;
  for (let k = 0; k < count; k++) {
    const pair = pairs[k]!;
    if (k > 0) out[n++] = COMMA;
    out[n++] = Q;
    n += buf.copy(out, n, pair.key, pair.keyEnd);
    out[n++] = Q;
    out[n++] = 0x3a;
    n += buf.copy(out, n, pair.value, pair.valueEnd);
  }
  out[n++] = 0x7d;
  return n;
}

/** Whether key a sorts after key b (bytewise; keys here are ASCII). */
function keyAfter(buf: Buffer, a: { key: number; keyEnd: number }, b: { key: number; keyEnd: number }): boolean {
  const la = a.keyEnd - a.key;
  const lb = b.keyEnd - b.key;
  for (let k = 0; k < la && k < lb; k++) {
    const d = buf[a.key + k]! - buf[b.key + k]!;
    if (d !== 0) return d > 0;
  }
  return la > lb;
}

/** For tests: the canonical detail bytes of a jsonb text, or null when it takes the parsing path. */
export function canonicalDetailBytesOf(jsonbText: string): string | null {
  const buf = Buffer.from(jsonbText, 'utf8');
  const n = canonicalDetailBytes(buf, 0, buf.length, 0);
  return n < 0 ? null : out.toString('utf8', 0, n);
}
