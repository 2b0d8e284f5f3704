import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addDuration, compareDurations, parseDuration, subtractDuration, tryParseDuration } from './duration.ts';

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

test('months in a date part and minutes in a time part are told apart', () => {
  assert.deepEqual(tryParseDuration('P1M'), { years: 0, months: 1, weeks: 0, days: 0, hours: 0, minutes: 0, seconds: 0 });
  assert.deepEqual(tryParseDuration('PT1M'), { years: 0, months: 0, weeks: 0, days: 0, hours: 0, minutes: 1, seconds: 0 });
  assert.equal(tryParseDuration('8 years'), undefined);
});

test('durations compare by length, not by how they are written', () => {
  assert.equal(compareDurations('P12M', 'P1Y'), 0);
  assert.equal(compareDurations('P2W', 'P14D'), 0);
  assert.equal(compareDurations('PT24H', 'P1D'), 0);
  assert.ok(compareDurations('P11Y', 'P8Y') > 0);
  assert.ok(compareDurations('P8Y', 'P11Y') < 0);
  assert.ok(compareDurations('P13M', 'P1Y') > 0);
  assert.ok(compareDurations('P1M', 'P30D') > 0);
  assert.ok(compareDurations('P1M', 'P32D') < 0);
  assert.ok(compareDurations('P1Y', 'P364D') > 0);
});
