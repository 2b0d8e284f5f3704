// Where master keys come from, what is refused, and how a running keyring follows a rotation made elsewhere.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fixedClock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import { keyFilePath } from './key-file.ts';
import { backupWarning, loadKeyring, MASTER_KEY_ENV } from './keyring.ts';
import { addMasterKey } from './rotate-master-key.ts';

const dirs: string[] = [];
after(() =>
  dirs.forEach((d) => {
    rmSync(d, { recursive: true, force: true });
  }),
);
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'custodian-keyring-'));
  dirs.push(d);
  return d;
}

const clock = fixedClock('2026-11-22T10:00:00Z');
const b64 = () => randomBytes(32).toString('base64');

function refusal(fn: () => unknown): CustodianError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof CustodianError, `expected a CustodianError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a refusal');
}

/** No run of 8 characters of any secret (as written) appears in the text. */
function assertNoSecret(text: string, secrets: readonly string[]): void {
  for (const s of secrets) {
    for (let i = 0; i + 8 <= s.length; i++) assert.equal(text.includes(s.slice(i, i + 8)), false, `key material leaked: ${text}`);
  }
}

test('a first embedded start makes a 0600 key file and says so; later starts read the same key', () => {
  const dir = tempDir();
  const lines: string[] = [];
  const first = loadKeyring({ env: {}, dataDir: dir, createIfMissing: true, log: (l) => lines.push(l), clock });
  assert.equal(first.created, true);
  assert.match(first.keyring.active().id, /^k1-20261122$/);
  const path = keyFilePath(dir);
  if (process.platform !== 'win32') assert.equal(statSync(path).mode & 0o777, 0o600);
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { active: string; keys: { id: string; key: string; created: string }[] };
  assert.equal(doc.active, 'k1-20261122');
  assert.equal(Buffer.from(doc.keys[0]?.key ?? '', 'base64').length, 32);
  assertNoSecret(lines.join('\n'), [doc.keys[0]?.key ?? '']);

  const second = loadKeyring({ env: {}, dataDir: dir, createIfMissing: true, clock });
  assert.equal(second.created, false);
  assert.deepEqual(Buffer.from(second.keyring.active().key), Buffer.from(first.keyring.active().key));
});

test('the backup warning says where the key is, what losing it means, and to keep it apart from database backups', () => {
  const text = backupWarning('/srv/custodian/master.key');
  assert.match(text, /\/srv\/custodian\/master\.key/);
  assert.match(text, /lost/i);
  assert.match(text, /NOT in the same backup as the database/);
  assert.match(text, new RegExp(MASTER_KEY_ENV));
  assert.ok(text.split('\n').length >= 5);
});

test('without a key, and not allowed to make one, loading is refused with what to do', () => {
  const e = refusal(() => loadKeyring({ env: {}, dataDir: tempDir(), createIfMissing: false }));
  assert.equal(e.code, 'master_key_missing');
  assert.match(e.message, /CUSTODIAN_MASTER_KEY/);
  assert.match(e.message, /master\.key/);
});

test('one base64 key in the env gets a stable id derived from it', () => {
  const key = b64();
  const a = loadKeyring({ env: { [MASTER_KEY_ENV]: key }, dataDir: tempDir(), createIfMissing: true }).keyring;
  const b = loadKeyring({ env: { [MASTER_KEY_ENV]: ` ${key}\n` }, dataDir: tempDir(), createIfMissing: true }).keyring;
  assert.match(a.active().id, /^env-[0-9a-f]{8}$/);
  assert.equal(a.active().id, b.active().id);
  assert.deepEqual(Buffer.from(a.active().key), Buffer.from(key, 'base64'));
});

test('an env list names its keys; the first is active and the others can still unwrap', () => {
  const [k2, k1] = [b64(), b64()];
  const dir = tempDir();
  const { keyring, created } = loadKeyring({ env: { [MASTER_KEY_ENV]: `k2-20261122:${k2}, k1-20250101:${k1}` }, dataDir: dir, createIfMissing: true });
  assert.equal(created, false, 'env keys never cause a key file');
  assert.equal(keyring.active().id, 'k2-20261122');
  assert.deepEqual(Buffer.from(keyring.resolve('k1-20250101').key), Buffer.from(k1, 'base64'));
  assert.equal(refusal(() => keyring.resolve('k9')).code, 'master_key_unknown');
});

test('malformed CUSTODIAN_MASTER_KEY values are refused with a clear message that never repeats the key', () => {
  const good = b64();
  const cases: [string, RegExp][] = [
    ['', /set but empty/],
    [good.slice(0, 40), /not a base64-encoded 32-byte key.*got 40 characters/],
    [randomBytes(24).toString('base64'), /not a base64-encoded 32-byte key/],
    [`${good.slice(0, 20)}!@#${good.slice(23)}`, /not a base64-encoded 32-byte key/],
    [randomBytes(32).toString('hex'), /look like hex/],
    [`k1:${good},k2`, /entry 2 is not of the form id:base64/],
    [`k1:${good},k 2:${good}`, /entry 2 has an id that is not valid/],
    [`k1:${good},k1:${b64()}`, /names key id 'k1' twice/],
    [`k1:${good.slice(1)}x=`, /entry 1 \(id 'k1'\)/],
  ];
  for (const [value, message] of cases) {
    const e = refusal(() => loadKeyring({ env: { [MASTER_KEY_ENV]: value }, dataDir: tempDir(), createIfMissing: true }));
    assert.equal(e.code, 'master_key_invalid', value);
    assert.match(e.message, message);
    assertNoSecret(`${e.message} ${JSON.stringify(e)}`, [good, ...value.split(/[:,]/).filter((p) => p.length >= 16)]);
  }
});

test('a malformed key file is refused without quoting it', () => {
  const dir = tempDir();
  const key = b64();
  const cases: [string, RegExp][] = [
    // JSON.parse's own message would quote the unquoted key here
    [`{"active":"k1","keys":[{"id":"k1","key":${key}}]}`, /not valid JSON/],
    [`{"active":"k1","keys":[{"id":"k1","key":"${key.slice(2)}"}]}`, /keys\[0\]\.key \(id 'k1'\)/],
    [`{"active":"k2","keys":[{"id":"k1","key":"${key}"}]}`, /"active" must be the id of one of the keys/],
    [`{"active":"k1","keys":[{"id":"k1","key":"${key}"},{"id":"k1","key":"${key}"}]}`, /appears twice/],
    ['{"active":"k1","keys":[]}', /non-empty list/],
  ];
  for (const [text, message] of cases) {
    writeFileSync(keyFilePath(dir), text, { mode: 0o600 });
    const e = refusal(() => loadKeyring({ env: {}, dataDir: dir, createIfMissing: true }));
    assert.equal(e.code, 'master_key_invalid');
    assert.match(e.message, message);
    assertNoSecret(e.message, [key, key.slice(2)]);
  }
});

test('a key file others can read is used, with a warning', { skip: process.platform === 'win32' }, () => {
  const dir = tempDir();
  writeFileSync(keyFilePath(dir), JSON.stringify({ active: 'k1', keys: [{ id: 'k1', key: b64(), created: '' }] }), { mode: 0o644 });
  const lines: string[] = [];
  loadKeyring({ env: {}, dataDir: dir, createIfMissing: false, log: (l) => lines.push(l) });
  assert.match(lines.join('\n'), /readable by other users.*chmod 600/);
});

test('a keyring meeting an unknown key id re-reads its file once and finds a key added by a rotation elsewhere', () => {
  const dir = tempDir();
  const server = loadKeyring({ env: {}, dataDir: dir, createIfMissing: true, clock, recheckMs: 60_000 }).keyring;
  const rotator = loadKeyring({ env: {}, dataDir: dir, createIfMissing: false, clock }).keyring;
  const added = addMasterKey(rotator, clock);
  assert.equal(added.id, 'k2-20261122');
  assert.equal(server.get(added.id), undefined, 'the server has not looked at the file yet');
  assert.deepEqual(Buffer.from(server.resolve(added.id).key), Buffer.from(added.key));
  assert.equal(server.resolve('k1-20261122').id, 'k1-20261122', 'old keys are kept');
  assert.equal(server.active().id, added.id);
});

test('a running keyring notices a new active key in the file on its next check', () => {
  const dir = tempDir();
  const lines: string[] = [];
  const server = loadKeyring({ env: {}, dataDir: dir, createIfMissing: true, clock, recheckMs: 0, log: (l) => lines.push(l) }).keyring;
  const rotator = loadKeyring({ env: {}, dataDir: dir, createIfMissing: false, clock }).keyring;
  const added = addMasterKey(rotator, clock);
  assert.equal(server.active().id, added.id);
  assert.match(lines.join('\n'), /k2-20261122 is now active/);
  if (process.platform !== 'win32') assert.equal(statSync(keyFilePath(dir)).mode & 0o777, 0o600, 'rewritten file keeps mode 0600');
});
