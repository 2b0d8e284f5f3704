import { randomBytes } from 'node:crypto';
import { Auditor } from '../../audit/auditor.ts';
import type { Clock } from '../../core/clock.ts';
import { keyringOf } from '../../crypto/keyring.ts';
import type { Keyring } from '../../crypto/keyring.ts';
import { masterKey } from '../../crypto/master-key.ts';
import { SubjectKeys } from '../../crypto/subject-keys.ts';

/** A keyring holding one fresh random master key, kept in memory only. */
export function testKeyring(): Keyring {
  return keyringOf([masterKey('test-1', randomBytes(32))]);
}

/** An auditor over `keyring` (by default a fresh one), as the app builds it. */
export function testAuditor(clock: Clock, keyring: Keyring = testKeyring(), fingerprint: string | null = null): Auditor {
  return new Auditor({ clock, fingerprint, masterKeys: keyring });
}

const subjectKeys = new WeakMap<Keyring, SubjectKeys>();

/** The data keys as a process holding `keyring` sees them: one SubjectKeys (one cache) per keyring, as per process. */
export function keysOf(keyring: Keyring): SubjectKeys {
  let keys = subjectKeys.get(keyring);
  if (!keys) subjectKeys.set(keyring, (keys = new SubjectKeys(keyring)));
  return keys;
}

/** An auditor that cannot write (its keys are unreadable): every change that must be audited fails with it. */
export function failingAuditor(clock: Clock, message = 'audit store down'): Auditor {
  const fail = (): never => {
    throw new Error(message);
  };
  return new Auditor({ clock, fingerprint: null, masterKeys: { active: fail, ids: fail, resolve: fail } });
}
