import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CURRENT_PARAMS, hashPassword, isArgon2idPhc, needsRehash, verifyPassword } from './password-hash.ts';
import { checkPassword } from './password-policy.ts';

describe('password hashing', () => {
  test('hashes are argon2id PHC strings with the OWASP parameters and a random salt', async () => {
    const a = await hashPassword('tidy-harbour-lantern-47');
    const b = await hashPassword('tidy-harbour-lantern-47');
    assert.match(a, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.notEqual(a, b, 'salted');
    assert.equal(isArgon2idPhc(a), true);
    assert.equal(await verifyPassword('tidy-harbour-lantern-47', a), true);
    assert.equal(await verifyPassword('tidy-harbour-lantern-48', a), false);
    assert.equal(await verifyPassword('', a), false);
  });

  test('a hash made with other parameters still verifies and asks to be redone', async () => {
    const old = await hashPassword('tidy-harbour-lantern-47', { m: 4096, t: 3, p: 1 });
    assert.equal(await verifyPassword('tidy-harbour-lantern-47', old), true);
    assert.equal(needsRehash(old), true);
    assert.equal(needsRehash(await hashPassword('x', CURRENT_PARAMS)), false);
  });

  test('anything that is not a sane argon2id PHC string never verifies', async () => {
    const good = await hashPassword('tidy-harbour-lantern-47');
    for (const bad of [
      '',
      'tidy-harbour-lantern-47',
      good.replace('argon2id', 'argon2i'),
      good.replace('m=19456', 'm=99999999'),
      good.replace('t=2', 't=0'),
      `${good}$extra`,
    ]) {
      assert.equal(await verifyPassword('tidy-harbour-lantern-47', bad), false, bad);
    }
  });
});

describe('password policy', () => {
  test('asks for 12 characters, refuses common passwords and ones built from the email', async () => {
    assert.equal(await checkPassword('short pass', 'a@b.c'), 'too_short');
    assert.equal(await checkPassword('Password1234', 'a@b.c'), 'too_common');
    assert.equal(await checkPassword('abcabcabcabc', 'a@b.c'), 'too_common');
    assert.equal(await checkPassword('x'.repeat(300), 'a@b.c'), 'too_long');
    assert.equal(await checkPassword('marta.lopez-2026!', 'Marta.Lopez@clinic.example'), 'contains_email');
    assert.equal(await checkPassword('tidy-harbour-lantern-47', 'marta@clinic.example'), undefined);
    assert.equal(await checkPassword('ünïcødé pässwörd', 'a@b.c'), undefined, 'any characters are fine');
  });

  test('refuses what a strength estimator guesses at once, however long', async () => {
    for (const guessable of ['Password123!', 'Qwerty123456!', 'Welcome2026!!', 'Clinic123456', 'Letmein12345!', 'Summer2026!!', 'P@ssw0rd2026']) {
      assert.equal(await checkPassword(guessable, 'marta@clinic.example'), 'too_guessable', guessable);
    }
    for (const fine of ['violet orbit canal 7', 'brand new phrase 2026', 'k7mqz-3hb9x-wnrp4-tt2ua']) {
      assert.equal(await checkPassword(fine, 'marta@clinic.example'), undefined, fine);
    }
  });
});
