// PostgreSQL's binary COPY format, read without a copy per field: COPY ... TO STDOUT (FORMAT binary) is the cheapest
// way to stream many rows out of the server (no text formatting of timestamps, uuids or bytea), and reading it here
// costs less than splitting text. Format: https://www.postgresql.org/docs/current/sql-copy.html ("Binary Format").

/** One batch of whole tuples: field f of tuple t is `buf[start, start + length)`, or NULL when length is -1. */
export interface CopyTuples {
  readonly buf: Buffer;
  readonly count: number;
  readonly fields: number;
  readonly starts: Int32Array;
  readonly lengths: Int32Array;
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** Thrown for a stream that is not binary COPY output, or that ends inside a tuple. */
export class CopyFormatError extends Error {}

/**
 * Splits binary COPY output into batches of whole tuples, one batch per chunk the server sent (so a consumer pays
 * one await per chunk, not per row). Every tuple must have `fields` fields.
 */
export async function* binaryCopyTuples(chunks: AsyncIterable<Buffer>, fields: number): AsyncGenerator<CopyTuples> {
  let rest: Buffer | null = null;
  let headerRead = false;
  let ended = false;
  // Reused for every batch: a consumer reads a batch before asking for the next one.
  let starts = new Int32Array(0);
  let lengths = new Int32Array(0);
  for await (const chunk of chunks) {
    let buf: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
    let pos = 0;
    if (!headerRead) {
      // Signature, flags, header extension length, then the extension itself.
      if (buf.length >= 11 && !buf.subarray(0, 11).equals(SIGNATURE)) throw new CopyFormatError('not binary COPY output');
      if (buf.length < 19 || buf.length < 19 + buf.readInt32BE(15)) {
        rest = buf;
        continue;
      }
      pos = 19 + buf.readInt32BE(15);
      headerRead = true;
    }
    // Capacity for as many tuples as could fit in this buffer; most chunks hold a few hundred rows.
    const room = Math.max(1, Math.floor((buf.length - pos) / (2 + 4 * fields))) * fields;
    if (starts.length < room) {
      starts = new Int32Array(room * 2);
      lengths = new Int32Array(room * 2);
    }
    let count = 0;
    for (;;) {
      if (buf.length - pos < 2) break;
      const n = buf.readInt16BE(pos);
      if (n === -1) {
        ended = true;
        pos += 2;
        break;
      }
      if (n !== fields) throw new CopyFormatError(`expected ${fields} fields per row, got ${n}`);
      let p = pos + 2;
      let whole = true;
      const base = count * fields;
      for (let f = 0; f < fields; f++) {
        if (buf.length - p < 4) {
          whole = false;
          break;
        }
        const len = buf.readInt32BE(p);
        p += 4;
        if (len > 0 && buf.length - p < len) {
          whole = false;
          break;
        }
        starts[base + f] = p;
        lengths[base + f] = len;
        if (len > 0) p += len;
      }
      if (!whole) break;
      pos = p;
      count++;
    }
    rest = pos < buf.length ? buf.subarray(pos) : null;
    if (count > 0) yield { buf, count, fields, starts, lengths };
    if (ended) break;
  }
  if (!ended) throw new CopyFormatError('the COPY stream ended inside a row');
}

const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** Where the decoders below assemble a string before taking it as one flat latin1 string (cheaper than concatenation). */
const scratch = Buffer.allocUnsafe(64);

/** A binary uuid as PostgreSQL prints it: 8-4-4-4-12 lower-case hex. */
export function uuidAt(buf: Buffer, p: number): string {
  let o = 0;
  for (let k = 0; k < 16; k++) {
    if (k === 4 || k === 6 || k === 8 || k === 10) scratch[o++] = 0x2d; // '-'
    const b = buf[p + k]!;
    scratch[o++] = HEX_DIGITS[b >> 4]!;
    scratch[o++] = HEX_DIGITS[b & 15]!;
  }
  return scratch.toString('latin1', 0, 36);
}

/** A binary int8 as a number (exact up to 2^53, which every sequence number here is). */
export function int64At(buf: Buffer, p: number): number {
  return buf.readInt32BE(p) * 4_294_967_296 + buf.readUInt32BE(p + 4);
}

/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01), in which binary timestamps count. */
const PG_EPOCH_MICROS = 946_684_800_000_000;
let lastMicros = Number.NaN;
let lastIso: string | null = null;

/**
 * A binary timestamptz as UTC ISO 8601 with all six fractional digits, as to_char(.., 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
 * prints it, or null for a year outside 0-9999 (infinity included). Consecutive rows often share one time (one
 * transaction), so the last answer is kept.
 */
export function timestampMicrosAt(buf: Buffer, p: number): string | null {
  const high = buf.readInt32BE(p);
  // Beyond about 2^52 microseconds from 2000 (years before 1857 or after 2142) a number is no longer exact: BigInt.
  if (high >= 0x100000 || high < -0x100000) {
    const micros = buf.readBigInt64BE(p) + BigInt(PG_EPOCH_MICROS);
    const secs = micros / 1_000_000n - (micros % 1_000_000n < 0n ? 1n : 0n);
    return isoMicros(Number(secs), Number(micros - secs * 1_000_000n));
  }
  const micros = high * 4_294_967_296 + buf.readUInt32BE(p + 4) + PG_EPOCH_MICROS;
  if (micros !== lastMicros) {
    lastMicros = micros;
    const secs = Math.floor(micros / 1e6);
    lastIso = isoMicros(secs, micros - secs * 1e6);
  }
  return lastIso;
}

function digits(o: number, value: number, width: number): void {
  for (let k = o + width - 1; k >= o; k--) {
    scratch[k] = 0x30 + (value % 10);
    value = Math.floor(value / 10);
  }
}

/** Calendar arithmetic without a Date (days to civil date: H. Hinnant's algorithm), written straight into scratch. */
function isoMicros(secs: number, fraction: number): string | null {
  const days = Math.floor(secs / 86_400);
  const sod = secs - days * 86_400;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (!(year >= 0 && year <= 9999)) return null;
  digits(0, year, 4);
  scratch[4] = 0x2d;
  digits(5, month, 2);
  scratch[7] = 0x2d;
  digits(8, doy - Math.floor((153 * mp + 2) / 5) + 1, 2);
  scratch[10] = 0x54; // T
  digits(11, Math.floor(sod / 3600), 2);
  scratch[13] = 0x3a;
  digits(14, Math.floor(sod / 60) % 60, 2);
  scratch[16] = 0x3a;
  digits(17, sod % 60, 2);
  scratch[19] = 0x2e;
  digits(20, fraction, 6);
  scratch[26] = 0x5a; // Z
  return scratch.toString('latin1', 0, 27);
}

/**
 * UTF-8 text fields that repeat from row to row (an actor, an action, a fingerprint) decoded once: the bytes are
 * compared with the last value's, which costs less than decoding them again.
 */
export class RepeatingText {
  private bytes = Buffer.alloc(64);
  private length = -1;
  private text = '';

  at(buf: Buffer, start: number, length: number): string {
    if (length === this.length) {
      const last = this.bytes;
      let k = 0;
      while (k < length && buf[start + k] === last[k]) k++;
      if (k === length) return this.text;
    }
    if (length > this.bytes.length) this.bytes = Buffer.alloc(length * 2);
    buf.copy(this.bytes, 0, start, start + length);
    this.length = length;
    this.text = buf.toString('utf8', start, start + length);
    return this.text;
  }
}
