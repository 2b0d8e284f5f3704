import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normaliseIdentifier } from './normalise-identifier.ts';

test('emails are found however they were typed', () => {
  assert.deepEqual(normaliseIdentifier('email', '  Jane.Doe@Example.COM '), { ok: true, value: 'jane.doe@example.com' });
  assert.equal(normaliseIdentifier('email', 'not-an-email').ok, false);
});

test('phone numbers become E.164, with the business country as the default region', () => {
  assert.deepEqual(normaliseIdentifier('phone', '020 7946 0018', 'GB'), { ok: true, value: '+442079460018' });
  assert.deepEqual(normaliseIdentifier('phone', '+49 381 123456', 'GB'), { ok: true, value: '+49381123456' });
  assert.equal(normaliseIdentifier('phone', '12', 'GB').ok, false);
  const noRegion = normaliseIdentifier('phone', '020 7946 0018');
  assert.equal(noRegion.ok, false);
  assert.match(!noRegion.ok ? noRegion.problem : '', /country code/);
});

test('a UK mobile is accepted when possible for the country, in any usual writing, and stored in E.164', () => {
  for (const written of ['+44 7700 900123', '07700 900123', '07700900123', '(07700) 900-123', '+44 (0)7700 900123', '0044 7700 900123']) {
    assert.deepEqual(normaliseIdentifier('phone', written, 'GB'), { ok: true, value: '+447700900123' }, written);
  }
  // A German number in national format, for a register whose controller is in Germany.
  assert.deepEqual(normaliseIdentifier('phone', '0381 496 58 20', 'DE'), { ok: true, value: '+493814965820' });
  for (const wrong of ['0770', '07700 9001234', '+44 7700 900123 4567', 'call me', '0800-FLOWERS']) {
    assert.equal(normaliseIdentifier('phone', wrong, 'GB').ok, false, wrong);
  }
});

test('record numbers ignore case and spacing; GDC numbers are digits', () => {
  assert.deepEqual(normaliseIdentifier('patient-number', ' ab-123 45 '), { ok: true, value: 'AB12345' });
  assert.deepEqual(normaliseIdentifier('gdc-number', '123 456'), { ok: true, value: '123456' });
  assert.equal(normaliseIdentifier('gdc-number', 'GDC123').ok, false);
});
