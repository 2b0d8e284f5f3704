import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeDuration } from './describe-duration.ts';

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
