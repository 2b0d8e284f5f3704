import { randomBytes } from 'node:crypto';
import { keyringOf } from '../../crypto/keyring.ts';
import type { Keyring } from '../../crypto/keyring.ts';
import { masterKey } from '../../crypto/master-key.ts';

/** A keyring holding one fresh random master key, kept in memory only. */
export function testKeyring(): Keyring {
  return keyringOf([masterKey('test-1', randomBytes(32))]);
}
