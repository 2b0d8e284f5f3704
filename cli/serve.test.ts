// `custodian serve` as a DPO runs it: it refuses an invalid register with the same report as `check`, and a
// register changed between two starts becomes a new notice version with the changes listed.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

const main = new URL('./main.ts', import.meta.url).pathname;
const fixture = readFileSync(new URL('../test/fixtures/minimal.yaml', import.meta.url), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'custodian-serve-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// The embedded database in a temp folder, whatever the suite's engine: this is about the command.
const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn' };
delete env.DATABASE_URL;
delete env.CUSTODIAN_MASTER_KEY;

test('an invalid register is refused with the check report, before anything starts', () => {
  const file = join(dir, 'broken.yaml');
  writeFileSync(file, fixture.replace('keep: P8Y', 'keep: 8 years').replace('recipients: [radiologists]', 'recipients: [radiologist]'));
  const r = spawnSync(process.execPath, [main, 'serve', '--register', file, '--data', join(dir, 'never'), '--port', '0'], {
    env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 1);
  assert.match(
    r.stderr,
    new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+  purposes\\.provide-scan\\.retention\\.keep  "8 years" is not an ISO 8601 duration`),
  );
  assert.match(r.stderr, /purposes\.provide-scan\.recipients\[0\] {2}recipient "radiologist" is not declared/);
  assert.doesNotMatch(r.stderr + r.stdout, /\n\s+at .+:\d+:\d+/, 'no stack trace');
});

async function serveOnce(
  file: string,
  data: string,
): Promise<{ versions: { fingerprint: string; changesFromPrevious: { text: string }[] | null }[]; output: string }> {
  const child = spawn(process.execPath, [main, 'serve', '--register', file, '--data', data, '--port', '0', '--no-jobs'], { env });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  try {
    const address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start within 60 s:\n${output}`)), 60_000);
      child.stdout.on('data', () => {
        const m = /is serving .* at (http:\/\/[\d.:]+)/.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child.on('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
    });
    const health = await fetch(`${address}/healthz`);
    assert.equal(health.status, 200);
    const body = (await (await fetch(`${address}/privacy/versions`)).json()) as {
      versions: { fingerprint: string; changesFromPrevious: { text: string }[] | null }[];
    };
    return { versions: body.versions, output };
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

test('a register changed between two starts is stored as a new notice version, with the changes', async () => {
  const file = join(dir, 'register.yaml');
  const data = join(dir, 'data');
  writeFileSync(file, fixture);
  const first = await serveOnce(file, data);
  assert.equal(first.versions.length, 1);
  assert.match(first.output, /A NEW MASTER KEY WAS CREATED/);
  assert.match(first.output, /one-time password:/);

  const again = await serveOnce(file, data);
  assert.equal(again.versions.length, 1, 'the same register is the same version');
  assert.doesNotMatch(again.output, /one-time password/, 'the owner password is printed once only');

  writeFileSync(file, fixture.replace('keep: P8Y', 'keep: P11Y'));
  const changed = await serveOnce(file, data);
  assert.equal(changed.versions.length, 2);
  assert.match(changed.output, /is a new notice version/);
  assert.ok(
    changed.versions[1]!.changesFromPrevious!.some((c) => /11 years/.test(c.text)),
    JSON.stringify(changed.versions[1]),
  );
});

test('a missing or wrong master key beside existing data is refused by name and place, never replaced', async () => {
  const file = join(dir, 'keys.yaml');
  const data = join(dir, 'keys-data');
  writeFileSync(file, fixture);
  await serveOnce(file, data); // the first start signs the audit trail (the owner account is created)
  const keyFile = join(data, 'master.key');
  const original = readFileSync(keyFile, 'utf8');
  rmSync(keyFile);

  const start = (extra: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [main, 'serve', '--register', file, '--data', data, '--port', '0', '--no-jobs'], {
      env: { ...env, ...extra },
      encoding: 'utf8',
      timeout: 60_000,
    });
  const missing = start();
  assert.equal(missing.status, 1);
  assert.match(
    missing.stderr,
    /\[master_key_missing\] .*holds an audit trail signed with a master key, but no key was found in CUSTODIAN_MASTER_KEY or the key file .*master\.key: restore it/,
  );
  assert.equal(existsSync(keyFile), false, 'no new key was made in its place');
  assert.doesNotMatch(missing.stdout, /is serving/);

  const wrong = start({ CUSTODIAN_MASTER_KEY: randomBytes(32).toString('base64') });
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /\[master_key_unknown\] the audit trail .* was signed with a master key that CUSTODIAN_MASTER_KEY does not hold/);

  writeFileSync(keyFile, original, { mode: 0o600 });
  const restored = await serveOnce(file, data);
  assert.equal(restored.versions.length, 1, 'with the key back, the server starts on its data');
});
