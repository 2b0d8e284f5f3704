// "Until when" on the person page, at fixed dates: the register's period after its event, and for records kept
// until an age (children's health records: the 25th birthday), whichever is later.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keepUntil as computeKeepUntil } from '../retention/keep-until.ts';
import { exampleRegister } from '../test/helpers/test-app.ts';
import { phraseKeepUntil } from './phrase-keep-until.ts';

/** The person page's "Kept until": the date from retention/, in words from here. */
function keepUntil(
  register: ReturnType<typeof exampleRegister>,
  purpose: string,
  event: string,
  startsAt: string | null,
  collectedAt: string,
  birthDate: Date | null = null,
): string {
  return phraseKeepUntil(register, purpose, computeKeepUntil(register, purpose, { event, startsAt, collectedAt, birthDate }), 'en');
}

const register = exampleRegister('image-diagnostic-technology'); // healthcare-records: 8 years after the scan, until 25 if later
const day = (iso: string) => new Date(`${iso}T00:00:00Z`);
const collected = '2026-11-22T09:00:00Z';
const scanned = '2026-11-22T15:00:00Z';

test("a child's record is kept until the 25th birthday when that is later than 8 years after the scan", () => {
  assert.match(keepUntil(register, 'healthcare-records', 'scan-completed', scanned, collected, day('2015-06-30')), /^2040-06-30 \(/);
});

test("an adult's record is kept 8 years after the scan", () => {
  assert.match(keepUntil(register, 'healthcare-records', 'scan-completed', scanned, collected, day('1980-02-03')), /^2034-11-22 \(/);
});

test('a birthday on 29 February falls on 28 February in a common year', () => {
  assert.match(keepUntil(register, 'healthcare-records', 'scan-completed', scanned, collected, day('2012-02-29')), /^2037-02-28 \(/);
});

test("before the scan is completed, a child's 25th birthday is already a lower bound", () => {
  const text = keepUntil(register, 'healthcare-records', 'scan-completed', null, collected, day('2015-06-30'));
  assert.match(text, /^not before 2040-06-30, the 25th birthday; 8 years after your scan is completed.*\(that event has not happened yet\)$/);
  assert.doesNotMatch(keepUntil(register, 'healthcare-records', 'scan-completed', null, collected, day('1980-02-03')), /not before/);
});

test('without a date of birth the date is a lower bound, and says so', () => {
  assert.match(
    keepUntil(register, 'healthcare-records', 'scan-completed', scanned, collected),
    /^2034-11-22 at the earliest \(.*the date of birth is not known here\)$/,
  );
});

test('rules without an age are unchanged', () => {
  assert.match(keepUntil(register, 'statistics', 'collected', collected, collected, day('2015-06-30')), /^2028-11-22 \(2 years after/);
});

test('a letter entered by staff days after it arrived counts "after we collect it" from the day it was received', () => {
  const lab = exampleRegister('odl-dental-lab'); // paper prescriptions: 3 months on site from collection, then off site
  const k = (receivedAt: string | null) =>
    phraseKeepUntil(
      lab,
      'paper-prescriptions',
      computeKeepUntil(lab, 'paper-prescriptions', { event: 'collected', startsAt: null, collectedAt: collected, receivedAt }),
      'en',
    );
  assert.match(k('2026-11-02T00:00:00Z'), /^2027-02-02 \(3 months after we collect it/);
  assert.match(k(null), /^2027-02-22 \(/, 'entered by the person themselves: from collection');
});
