// Known answers, computed independently (Python hashlib/hmac, RFC 5869 HKDF). Every stored chain and head depends
// on these exact bytes: a change here would make every existing audit trail look tampered with.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalEventText, createChainHasher, GENESIS_HASH_HEX, isoMicros, recordIdsText } from './canonical-event.ts';
import { checkpointMac, checkpointMatches, deriveCheckpointKey } from './checkpoint.ts';

const event = {
  partition: '2025-01/03',
  seq: 1,
  id: '00000000-0000-4000-8000-000000000001',
  at: isoMicros(new Date('2025-01-02T03:04:05.678Z')),
  actor: 'staff:1',
  action: 'record.update',
  subjectId: '00000000-0000-4000-8000-000000000002',
  recordIds: recordIdsText(['00000000-0000-4000-8000-000000000003']),
  purpose: 'care',
  fingerprint: null,
  // Keys out of order, non-ASCII and characters JSON escapes: the canonical form sorts and escapes them one way.
  detail: { step: 2, field: 'referral.reason', ü: 'ö"\\' },
};

test('the canonical text of an event and its chain hash are fixed', () => {
  const text = canonicalEventText(event);
  assert.equal(
    text,
    '["custodian-audit-v1","2025-01/03",1,"00000000-0000-4000-8000-000000000001","2025-01-02T03:04:05.678000Z","staff:1",' +
      '"record.update","00000000-0000-4000-8000-000000000002","{00000000-0000-4000-8000-000000000003}","care",null,' +
      '{"field":"referral.reason","step":2,"ü":"ö\\"\\\\"}]',
  );
  assert.equal(createChainHasher()(GENESIS_HASH_HEX, text), 'd417b984f685f31aa5ceb8bc66fa4b344d1d4ebfbb70cc39a7a60ba56ec38ceb');
});

test('the checkpoint key and head checkpoint are fixed, and a different head does not match', () => {
  const key = deriveCheckpointKey(new Uint8Array(32).fill(1));
  assert.equal(Buffer.from(key).toString('hex'), '6cbd2416ad7d0ce668d53641e3479bb94ca1fd32055947a37fd7a62e4cc9aff1');
  const mac = checkpointMac(key, '2025-01/03', 7, 'ab'.repeat(32)).toString('hex');
  assert.equal(mac, 'dcf143d3f8ea6c2e4fa25374bb1a04c53299caba15ea3615c8be54d082e35b38');
  assert.equal(checkpointMatches(key, '2025-01/03', 7, 'ab'.repeat(32), mac), true);
  assert.equal(checkpointMatches(key, '2025-01/03', 6, 'ab'.repeat(32), mac), false);
  assert.equal(checkpointMatches(key, '2025-01/04', 7, 'ab'.repeat(32), mac), false);
});
