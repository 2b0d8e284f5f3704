// Ids: the one pattern, and time-ordered ids that are valid UUIDv7 and sort by their creation time.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isUuid, timeOrderedId } from './ids.ts';

test('timeOrderedId: an RFC 9562 version 7 UUID carrying its millisecond, random elsewhere', () => {
  const at = Date.UTC(2026, 11, 5, 15, 0, 0, 123);
  const id = timeOrderedId(at);
  assert.ok(isUuid(id));
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16), at);
  const many = new Set(Array.from({ length: 10_000 }, () => timeOrderedId(at)));
  assert.equal(many.size, 10_000, 'ids made in the same millisecond still differ');
});

test('timeOrderedId: ids of later milliseconds sort after earlier ones', () => {
  const ids = [0, 1, 255, 256, 65_536, Date.UTC(2030, 0, 1)].map((ms) => timeOrderedId(Date.UTC(2026, 0, 1) + ms));
  assert.deepEqual([...ids].sort(), ids);
});
