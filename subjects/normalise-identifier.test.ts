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

test('record numbers ignore case and spacing; GDC numbers are digits', () => {
  assert.deepEqual(normaliseIdentifier('patient-number', ' ab-123 45 '), { ok: true, value: 'AB12345' });
  assert.deepEqual(normaliseIdentifier('gdc-number', '123 456'), { ok: true, value: '123456' });
  assert.equal(normaliseIdentifier('gdc-number', 'GDC123').ok, false);
});
