// Sealed values open only with their own data key and record id, and any change to the stored bytes is refused.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { CustodianError } from '../core/errors.ts';
import { masterKey } from './master-key.ts';
import { openFile, openValue, sealFile, sealValue, unwrapKey, wrapKey } from './seal.ts';

const refusedAs = (code: string) => (e: unknown) => e instanceof CustodianError && e.code === code;

test('a sealed value opens to the same text, unicode included, and does not contain it', () => {
  const dek = randomBytes(32);
  const recordId = randomUUID();
  for (const text of ['', 'Zoë Ångström-Łukasiewicz', '患者: 山田太郎 🩻', 'x'.repeat(10_000)]) {
    const sealed = sealValue(dek, text, recordId);
    assert.equal(openValue(dek, sealed, recordId), text);
    if (text.length > 0) assert.equal(Buffer.from(sealed).includes(Buffer.from(text, 'utf8')), false, 'plaintext visible in the sealed bytes');
  }
});

test('sealing the same text twice gives different bytes (random IV)', () => {
  const dek = randomBytes(32);
  const a = sealValue(dek, 'hello', 'r1');
  const b = sealValue(dek, 'hello', 'r1');
  assert.notDeepEqual(Buffer.from(a), Buffer.from(b));
});

test('changing any single byte of a sealed value is refused', () => {
  const dek = randomBytes(32);
  const sealed = sealValue(dek, 'Diagnosis: fracture', 'record-1');
  for (let i = 0; i < sealed.length; i++) {
    const forged = Uint8Array.from(sealed);
    forged[i] = (forged[i] ?? 0) ^ 0x01;
    assert.throws(() => openValue(dek, forged, 'record-1'), refusedAs('seal_invalid'), `byte ${i}`);
  }
  assert.throws(() => openValue(dek, sealed.subarray(0, sealed.length - 1), 'record-1'), refusedAs('seal_invalid'), 'truncated');
  assert.throws(() => openValue(dek, new Uint8Array(0), 'record-1'), refusedAs('seal_invalid'), 'empty');
});

test('a sealed value moved to another record, or opened with another key, is refused', () => {
  const dek = randomBytes(32);
  const sealed = sealValue(dek, 'secret', 'record-1');
  assert.throws(() => openValue(dek, sealed, 'record-2'), refusedAs('seal_invalid'));
  assert.throws(() => openValue(randomBytes(32), sealed, 'record-1'), refusedAs('seal_invalid'));
});

test('a key array changed in place is used with its new bytes, never the old ones', () => {
  const dek = randomBytes(32);
  const sealed = sealValue(dek, 'secret', 'record-1'); // the key is now known to seal.ts's KeyObject memo
  const original = Buffer.from(dek);
  randomBytes(32).copy(dek);
  assert.throws(() => openValue(dek, sealed, 'record-1'), refusedAs('seal_invalid'));
  original.copy(dek);
  assert.equal(openValue(dek, sealed, 'record-1'), 'secret');
});

test('a wrapped data key unwraps only for its own subject and master key id', () => {
  const master = masterKey('k1-20261122', randomBytes(32));
  const dek = randomBytes(32);
  const subject = randomUUID();
  const wrapped = wrapKey(master, dek, subject);
  assert.deepEqual(Buffer.from(unwrapKey(master, wrapped, subject)), dek);
  assert.deepEqual(Buffer.from(unwrapKey(master, wrapped, subject.toUpperCase())), dek, 'uuid spelling does not matter');
  assert.equal(Buffer.from(wrapped).includes(dek), false, 'the data key is visible in its wrapped form');
  assert.throws(() => unwrapKey(master, wrapped, randomUUID()), refusedAs('seal_invalid'), 'other subject');
  const sameBytesOtherId = masterKey('k2-20261122', master.key);
  assert.throws(() => unwrapKey(sameBytesOtherId, wrapped, subject), refusedAs('seal_invalid'), 'other master key id');
  assert.throws(() => unwrapKey(masterKey('k1-20261122', randomBytes(32)), wrapped, subject), refusedAs('seal_invalid'), 'other key material');
});

test('refusals say nothing of the key or the plaintext', () => {
  const master = masterKey('k1-20261122', randomBytes(32));
  const dek = randomBytes(32);
  const wrapped = wrapKey(master, dek, 'a0000000-0000-4000-8000-000000000001');
  const sealed = sealValue(dek, 'very private words', 'r');
  const messages: string[] = [];
  for (const attempt of [() => unwrapKey(master, wrapped, 'b0000000-0000-4000-8000-000000000001'), () => openValue(dek, sealed, 'other')]) {
    try {
      attempt();
    } catch (e) {
      messages.push(`${(e as Error).message} ${JSON.stringify(e)}`);
    }
  }
  assert.equal(messages.length, 2);
  for (const m of messages) {
    for (const secret of [Buffer.from(master.key), dek]) {
      assert.equal(m.includes(secret.toString('base64').slice(0, 12)), false);
      assert.equal(m.includes(secret.toString('hex').slice(0, 12)), false);
    }
    assert.equal(m.includes('private'), false);
  }
});

test('a master key object prints and serialises without its key bytes', () => {
  const master = masterKey('k1-20261122', randomBytes(32));
  assert.equal(JSON.stringify(master), '{"id":"k1-20261122"}');
  assert.equal(master.key.length, 32);
});

test("a sealed file opens to the same bytes only for its own record, and never as that record's value", () => {
  const dek = randomBytes(32);
  const recordId = randomUUID();
  const bytes = Buffer.concat([Buffer.from('%PDF-1.4 Jane Doe CV '), randomBytes(4096)]);
  const sealed = sealFile(dek, bytes, recordId);
  assert.deepEqual(openFile(dek, sealed, recordId), bytes);
  assert.equal(Buffer.from(sealed).includes(Buffer.from('Jane Doe')), false);
  assert.throws(() => openFile(dek, sealed, randomUUID()), refusedAs('seal_invalid'), 'moved to another record');
  assert.throws(() => openValue(dek, sealed, recordId), refusedAs('seal_invalid'), "taken for the record's value");
  assert.throws(() => openFile(randomBytes(32), sealed, recordId), refusedAs('seal_invalid'), 'under another key');
});
