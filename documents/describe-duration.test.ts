import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareDurations, describeDuration, parseDuration } from './describe-duration.ts';

test('durations read as words in English', () => {
  assert.equal(describeDuration('P8Y', 'en'), '8 years');
  assert.equal(describeDuration('P1Y', 'en'), '1 year');
  assert.equal(describeDuration('P14M', 'en'), '14 months');
  assert.equal(describeDuration('P2W', 'en'), '2 weeks');
  assert.equal(describeDuration('P1D', 'en'), '1 day');
  assert.equal(describeDuration('PT1H', 'en'), '1 hour');
  assert.equal(describeDuration('PT30M', 'en'), '30 minutes');
  assert.equal(describeDuration('P1Y6M', 'en'), '1 year and 6 months');
  assert.equal(describeDuration('P1Y2M3D', 'en'), '1 year, 2 months and 3 days');
});

test('durations read as words in German', () => {
  assert.equal(describeDuration('P8Y', 'de'), '8 Jahre');
  assert.equal(describeDuration('P1Y6M', 'de'), '1 Jahr und 6 Monate');
  assert.equal(describeDuration('P14D', 'de'), '14 Tage');
  assert.equal(describeDuration('PT30M', 'de'), '30 Minuten');
});

test('months in a date part and minutes in a time part are told apart', () => {
  assert.deepEqual(parseDuration('P1M'), { years: 0, months: 1, weeks: 0, days: 0, hours: 0, minutes: 0, seconds: 0 });
  assert.deepEqual(parseDuration('PT1M'), { years: 0, months: 0, weeks: 0, days: 0, hours: 0, minutes: 1, seconds: 0 });
  assert.equal(parseDuration('8 years'), undefined);
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
