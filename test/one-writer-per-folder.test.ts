// One process per embedded database folder: a second server, or a command run while the server serves, is refused
// with the name of the process that holds the folder, and changes nothing; it never prints success for a change
// that would be lost. Once the server stops, the same command works. Always the embedded database: that is what is
// shared by folder.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const REGISTER = join(root, 'examples/image-diagnostic-technology/register.yaml');
const data = mkdtempSync(join(tmpdir(), 'custodian-one-writer-'));
const { DATABASE_URL: _u, CUSTODIAN_MASTER_KEY: _k, CUSTODIAN_DATA: _d, NODE_TEST_CONTEXT: _t, ...env } = process.env;

function custodian(args: string[]) {
  const r = spawnSync(process.execPath, ['cli/main.ts', ...args, '--data', data], { cwd: root, env, encoding: 'utf8', timeout: 90_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

let server: ChildProcess;
let serverPid = 0;
async function startServer(): Promise<void> {
  server = spawn(process.execPath, ['cli/main.ts', 'serve', '--register', REGISTER, '--data', data, '--port', '0', '--no-jobs', '--log-level', 'warn'], {
    cwd: root,
    env,
  });
  serverPid = server.pid!;
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start within 90 s:\n${output}`)), 90_000);
    server.stdout!.on('data', (b: Buffer) => {
      output += b.toString();
      if (/is serving/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.stderr!.on('data', (b: Buffer) => (output += b.toString()));
    server.once('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
  });
}
async function stopServer(): Promise<void> {
  if (server.exitCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  await exited;
}

before(startServer);
after(async () => {
  await stopServer();
  rmSync(data, { recursive: true, force: true });
});

test('a second server on the same folder is refused, naming the one that runs', () => {
  const second = spawnSync(process.execPath, ['cli/main.ts', 'serve', '--register', REGISTER, '--data', data, '--port', '0', '--no-jobs'], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 90_000,
  });
  assert.equal(second.status, 1);
  assert.match(second.stderr, new RegExp(`\\[database_in_use\\] .*in use by \`custodian serve\` \\(process ${serverPid} on `));
  assert.doesNotMatch(second.stdout, /is serving/);
});

test('every command that opens the folder while the server runs is refused and prints no success', () => {
  const commands = [
    ['user', 'add', '--email', 'late@example.test', '--role', 'dpo'],
    ['user', 'disable', '--email', 'owner@localhost'],
    ['keys', 'rotate', '--retire-old'],
    ['keys', 'shred', '--subject', '00000000-0000-4000-8000-000000000000', '--register', REGISTER],
    ['keys', 'status'],
    ['migrate'],
    ['audit', 'verify'],
    ['audit', 'log'],
  ];
  for (const args of commands) {
    const r = custodian(args);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.out}${r.err}`);
    assert.match(
      r.err,
      /\[database_in_use\] the embedded database in .* is in use by `custodian serve`.*Stop the server first, or make the change in the console; nothing was changed/,
      args.join(' '),
    );
    assert.doesNotMatch(r.out, /created|disabled|re-wrapped|destroyed|up to date|intact/, args.join(' '));
  }
});

test('once the server has stopped, the same command works, and the server starts again after it', async () => {
  await stopServer();
  const added = custodian(['user', 'add', '--email', 'late@example.test', '--role', 'dpo']);
  assert.equal(added.code, 0, added.err);
  assert.match(added.out, /created dpo late@example\.test/);
  await startServer();
  assert.equal(custodian(['user', 'list']).code, 1, 'and is held by the server again');
});

test('a server that died without releasing the folder (kill -9) does not keep it locked', async () => {
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGKILL');
  await exited;
  const listed = custodian(['user', 'list']);
  assert.equal(listed.code, 0, listed.err);
  assert.match(listed.out, /late@example\.test\s+dpo/);
});
