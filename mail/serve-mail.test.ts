// `custodian serve` with mail settings, as an operator starts it: where mail goes is said once at start, the SMTP
// password never; a URL that cannot work stops the start with a coded error that does not repeat it.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const REGISTER = join(root, 'examples/image-diagnostic-technology/register.yaml');
const dir = mkdtempSync(join(tmpdir(), 'custodian-serve-mail-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// Its own embedded database, whatever engine the suite runs on: this is about the command.
const { DATABASE_URL: _u, CUSTODIAN_MASTER_KEY: _k, CUSTODIAN_DATA: _d, NODE_TEST_CONTEXT: _t, ...env } = process.env;
const PASSWORD = 'Sm7p-S3cret-Canary';

test('serve says where mail goes, with the password replaced', { timeout: 90_000 }, async () => {
  const child = spawn(
    process.execPath,
    [
      'cli/main.ts',
      'serve',
      '--register',
      REGISTER,
      '--data',
      join(dir, 'ok'),
      '--port',
      '0',
      '--no-jobs',
      '--log-level',
      'warn',
      '--mail-from',
      'office@idtscans.example',
    ],
    { cwd: root, env: { ...env, CUSTODIAN_SMTP_URL: `smtps://mailer:${encodeURIComponent(PASSWORD)}@smtp.idtscans.example` } },
  );
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr.on('data', (b: Buffer) => (output += b.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no start within 60 s:\n${output}`)), 60_000);
      child.stdout.on('data', () => {
        if (/mail goes through/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
    });
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  assert.match(output, /mail goes through smtps:\/\/mailer:\*\*\*@smtp\.idtscans\.example:465 \(TLS\) from office@idtscans\.example/);
  assert.doesNotMatch(output, new RegExp(PASSWORD));
});

test('an SMTP URL that cannot work stops the start, and the refusal does not repeat the password', () => {
  const r = spawnSync(
    process.execPath,
    [
      'cli/main.ts',
      'serve',
      '--register',
      REGISTER,
      '--data',
      join(dir, 'bad'),
      '--port',
      '0',
      '--no-jobs',
      '--smtp-url',
      `smtp://mailer:${PASSWORD}@smtp.example?tls=maybe`,
    ],
    { cwd: root, env, encoding: 'utf8', timeout: 90_000 },
  );
  assert.equal(r.status, 1);
  assert.match(r.stderr, /\[mail_config_invalid\] the SMTP URL option tls takes only "off"/);
  assert.doesNotMatch(r.stdout + r.stderr, new RegExp(PASSWORD));
  assert.doesNotMatch(r.stdout, /is serving/);
});
