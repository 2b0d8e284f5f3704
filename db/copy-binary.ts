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
    const buf: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
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

/** A binary int8 as a number (exact up to 2^53, which every sequence number here is). */
export function int64At(buf: Buffer, p: number): number {
  return buf.readInt32BE(p) * 4_294_967_296 + buf.readUInt32BE(p + 4);
}

/** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01), in which binary timestamps count. */
const PG_EPOCH_MICROS = 946_684_800_000_000;
let lastMicros = Number.NaN;
let lastValid = false;
/** The ISO text of the last timestamp decoded. */
const isoBytes = Buffer.alloc(27);

/**
 * A binary timestamptz as the bytes of UTC ISO 8601 text with all six fractional digits (what
 * to_char(.., 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') prints), in a buffer that the next call overwrites; null for a year
 * outside 0-9999 (infinity included). Consecutive rows often share one time (one transaction), so the last answer
 * is kept.
 */
export function timestampIsoBytesAt(buf: Buffer, p: number): Buffer | null {
  const high = buf.readInt32BE(p);
  // Beyond about 2^52 microseconds from 2000 (years before 1857 or after 2142) a number is no longer exact: BigInt.
  if (high >= 0x100000 || high < -0x100000) {
    lastMicros = Number.NaN;
    const micros = buf.readBigInt64BE(p) + BigInt(PG_EPOCH_MICROS);
    const secs = micros / 1_000_000n - (micros % 1_000_000n < 0n ? 1n : 0n);
    return writeIso(Number(secs), Number(micros - secs * 1_000_000n)) ? isoBytes : null;
  }
  const micros = high * 4_294_967_296 + buf.readUInt32BE(p + 4) + PG_EPOCH_MICROS;
  if (micros !== lastMicros) {
    lastMicros = micros;
    const secs = Math.floor(micros / 1e6);
    lastValid = writeIso(secs, micros - secs * 1e6);
  }
  return lastValid ? isoBytes : null;
}

function digits(o: number, value: number, width: number): void {
  for (let k = o + width - 1; k >= o; k--) {
    isoBytes[k] = 0x30 + (value % 10);
    value = Math.floor(value / 10);
  }
}

/** Calendar arithmetic without a Date (days to civil date: H. Hinnant's algorithm), written into isoBytes. */
function writeIso(secs: number, fraction: number): boolean {
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
  if (!(year >= 0 && year <= 9999)) return false;
  digits(0, year, 4);
  isoBytes[4] = 0x2d;
  digits(5, month, 2);
  isoBytes[7] = 0x2d;
  digits(8, doy - Math.floor((153 * mp + 2) / 5) + 1, 2);
  isoBytes[10] = 0x54; // T
  digits(11, Math.floor(sod / 3600), 2);
  isoBytes[13] = 0x3a;
  digits(14, Math.floor(sod / 60) % 60, 2);
  isoBytes[16] = 0x3a;
  digits(17, sod % 60, 2);
  isoBytes[19] = 0x2e;
  digits(20, fraction, 6);
  isoBytes[26] = 0x5a; // Z
  return true;
}
