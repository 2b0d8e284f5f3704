import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addDuration, parseDuration, subtractDuration } from './duration.ts';

test('durations are read field by field', () => {
  assert.deepEqual(parseDuration('P1Y2M3W4DT5H6M7S'), { years: 1, months: 2, weeks: 3, days: 4, hours: 5, minutes: 6, seconds: 7 });
  assert.deepEqual(parseDuration('PT30M'), { years: 0, months: 0, weeks: 0, days: 0, hours: 0, minutes: 30, seconds: 0 });
  assert.throws(() => parseDuration('8 years'), RangeError);
});

test('calendar arithmetic clamps to the end of the month', () => {
  assert.equal(addDuration(new Date('2026-01-31T12:00:00Z'), 'P1M').toISOString(), '2026-02-28T12:00:00.000Z');
  assert.equal(addDuration(new Date('2024-02-29T00:00:00Z'), 'P8Y').toISOString().slice(0, 10), '2032-02-29');
  assert.equal(subtractDuration(new Date('2026-11-22T10:00:00Z'), 'P14D').toISOString(), '2026-11-08T10:00:00.000Z');
  assert.equal(addDuration(new Date('2026-11-22T10:00:00Z'), 'PT30M').toISOString(), '2026-11-22T10:30:00.000Z');
});
