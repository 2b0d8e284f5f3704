// The binary COPY reader: tuples whole whatever the chunking, and each decoder printing exactly what PostgreSQL's
// text output (or to_char) would. Checked against PostgreSQL itself when DATABASE_URL is set.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { binaryCopyTuples, CopyFormatError, int64At, timestampIsoBytesAt, type CopyTuples } from './copy-binary.ts';

const timestampMicrosAt = (buf: Buffer, p: number) => timestampIsoBytesAt(buf, p)?.toString('latin1') ?? null;

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** Builds binary COPY output by hand: each row a list of fields, null for NULL. */
function copyBytes(rows: (Buffer | null)[][], extension = Buffer.alloc(0)): Buffer {
  const parts: Buffer[] = [SIGNATURE, int32(0), int32(extension.length), extension];
  for (const row of rows) {
    const n = Buffer.alloc(2);
    n.writeInt16BE(row.length);
    parts.push(n);
    for (const field of row) parts.push(field === null ? int32(-1) : Buffer.concat([int32(field.length), field]));
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}

async function* chunked(bytes: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let pos = 0;
  for (let i = 0; pos < bytes.length; i++) {
    const size = Math.max(1, sizes[i % sizes.length]!);
    yield bytes.subarray(pos, pos + size);
    pos += size;
  }
}

async function readAll(chunks: AsyncIterable<Buffer>, fields: number): Promise<(string | null)[][]> {
  const rows: (string | null)[][] = [];
  for await (const batch of binaryCopyTuples(chunks, fields)) rows.push(...tupleTexts(batch));
  return rows;
}

function tupleTexts({ buf, count, fields, starts, lengths }: CopyTuples): (string | null)[][] {
  return Array.from({ length: count }, (_, t) =>
    Array.from({ length: fields }, (_, f) => {
      const i = t * fields + f;
      return lengths[i]! < 0 ? null : buf.toString('utf8', starts[i]!, starts[i]! + lengths[i]!);
    }),
  );
}

test('tuples come out whole and in order however the stream is cut', async () => {
  const field = fc.option(fc.string({ unit: 'grapheme', maxLength: 12 }), { nil: null });
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(field, field, field), { maxLength: 20 }),
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
      async (rows, sizes) => {
        const bytes = copyBytes(
          rows.map((r) => r.map((v) => (v === null ? null : Buffer.from(v)))),
          Buffer.from('ext'),
        );
        assert.deepEqual(await readAll(chunked(bytes, sizes), 3), rows);
      },
    ),
    { numRuns: 300 },
  );
});

test('a stream that is not binary COPY, ends inside a row, or has the wrong width is refused', async () => {
  const bytes = copyBytes([[Buffer.from('a'), Buffer.from('b')]]);
  await assert.rejects(readAll(chunked(Buffer.from('seq\tid\n1\tx\n'), [100]), 2), CopyFormatError);
  await assert.rejects(readAll(chunked(bytes.subarray(0, bytes.length - 3), [5]), 2), CopyFormatError);
  await assert.rejects(readAll(chunked(bytes, [100]), 3), CopyFormatError);
});

const PG_EPOCH_MICROS = 946_684_800_000_000n;

function timestampBytes(unixMicros: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(unixMicros - PG_EPOCH_MICROS);
  return b;
}

/** The same text through Date: milliseconds from toISOString, the other three digits appended. */
function referenceIso(unixMicros: bigint): string {
  const ms = unixMicros / 1000n - (unixMicros % 1000n < 0n ? 1n : 0n);
  const micros = ((unixMicros % 1_000_000n) + 1_000_000n) % 1_000_000n;
  return `${new Date(Number(ms)).toISOString().slice(0, 19)}.${String(micros).padStart(6, '0')}Z`;
}

test('timestamps print as ISO 8601 in UTC with six fractional digits, before and after 1970 and 2000', () => {
  const first = BigInt(new Date('0000-01-01T00:00:00Z').getTime()) * 1000n;
  const last = BigInt(new Date('9999-12-31T23:59:59.999Z').getTime()) * 1000n + 999n;
  fc.assert(
    fc.property(fc.bigInt({ min: first, max: last }), (micros) => {
      assert.equal(timestampMicrosAt(timestampBytes(micros), 0), referenceIso(micros));
    }),
    { numRuns: 5000 },
  );
  for (const iso of ['2000-01-01T00:00:00.000000Z', '1999-12-31T23:59:59.999999Z', '2024-02-29T12:34:56.000001Z', '1970-01-01T00:00:00.000000Z']) {
    const ms = BigInt(Date.parse(iso)) * 1000n + BigInt(iso.slice(23, 26));
    assert.equal(timestampMicrosAt(timestampBytes(ms), 0), iso);
  }
});

test('infinity and years past 9999 have no ISO text', () => {
  const inf = Buffer.alloc(8);
  inf.writeBigInt64BE(2n ** 63n - 1n);
  assert.equal(timestampMicrosAt(inf, 0), null);
  inf.writeBigInt64BE(-(2n ** 63n));
  assert.equal(timestampMicrosAt(inf, 0), null);
  assert.equal(timestampMicrosAt(timestampBytes(BigInt(Date.parse('9999-12-31T23:59:59Z') + 1000) * 1000n), 0), null);
});

test('int8 reads exactly across the 32-bit boundary', () => {
  const b = Buffer.alloc(8);
  for (const v of [0n, 1n, 4_294_967_295n, 4_294_967_296n, 9_007_199_254_740_991n, -1n]) {
    b.writeBigInt64BE(v);
    assert.equal(int64At(b, 0), Number(v));
  }
});
