// `custodian user …` (cli/user.ts): in-process against the test database, and as a real process for exit codes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildUserCommand } from '../cli/user.ts';
import { Browser, GOOD_PASSWORD, T0 } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';

let t: TestApp;
before(async () => {
  t = await testApp('image-diagnostic-technology', { now: T0 });
});
after(async () => t.close());

async function run(args: string[], stdin = ''): Promise<string[]> {
  const lines: string[] = [];
  const cmd = buildUserCommand({
    withUsersContext: (_opts, fn) => fn(t.ctx),
    out: (line) => lines.push(line),
    warn: (line) => lines.push(`warn: ${line}`),
    readStdin: async () => stdin,
  });
  await cmd.parseAsync(args, { from: 'user' });
  return lines;
}

describe('custodian user', () => {
  test('add prints a one-time password once; that password signs in and must then be changed', async () => {
    const out = await run(['add', '--email', 'New.Dpo@Example.test', '--role', 'dpo']);
    assert.equal(out[0], 'created dpo new.dpo@example.test');
    const password = /one-time password .*: (\S+)$/.exec(out[1] ?? '')?.[1];
    assert.ok(password, out.join('\n'));
    const res = await new Browser(t.app).signIn('new.dpo@example.test', password);
    assert.equal(res.headers.location, '/console/password');
  });

  test('add --password-stdin takes the password from standard input and prints none', async () => {
    const out = await run(['add', '--email', 'piped@example.test', '--role', 'auditor', '--password-stdin'], `${GOOD_PASSWORD}\n`);
    assert.deepEqual(out, ['created auditor piped@example.test']);
    assert.equal((await new Browser(t.app).signIn('piped@example.test', GOOD_PASSWORD)).headers.location, '/console');
    await assert.rejects(run(['add', '--email', 'weak@example.test', '--role', 'staff', '--password-stdin'], 'password1234\n'), /common passwords/);
  });

  test('list, role and disable', async () => {
    await run(['role', '--email', 'piped@example.test', '--role', 'staff']);
    await run(['disable', '--email', 'new.dpo@example.test']);
    const out = await run(['list']);
    assert.match(out[0] ?? '', /^EMAIL\s+ROLE\s+STATUS\s+CREATED$/);
    assert.match(out.find((l) => l.startsWith('new.dpo@')) ?? '', /dpo\s+disabled\s+2026-03-02/);
    assert.match(out.find((l) => l.startsWith('piped@')) ?? '', /staff\s+active/);
    await assert.rejects(run(['disable', '--email', 'nobody@example.test']), /no staff account/);
    const events = (await t.audits()).map((e) => `${e.actor} ${e.action}`);
    for (const action of ['staff.create', 'staff.role-change', 'staff.disable']) assert.ok(events.includes(`system:cli ${action}`), action);
  });
});

describe('custodian user (as a process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'custodian-user-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const env = { ...process.env, DATABASE_URL: '', CUSTODIAN_DATA: join(dir, 'data') };
  const custodian = (args: string[], input?: string) =>
    spawnSync(process.execPath, ['cli/main.ts', 'user', ...args], { env, input, encoding: 'utf8', timeout: 60_000 });

  test('every subcommand has --help', () => {
    for (const sub of [[], ['add'], ['list'], ['role'], ['disable']]) {
      const res = custodian([...sub, '--help']);
      assert.equal(res.status, 0, `${sub.join(' ')} --help: ${res.stderr}`);
      assert.match(res.stdout, /Usage: custodian user/);
    }
  });

  test('a role that does not exist is a clear error with exit code 1', () => {
    const res = custodian(['add', '--email', 'x@example.test', '--role', 'admin']);
    assert.equal(res.status, 1);
    assert.match(res.stderr, /'admin' is invalid\. Allowed choices are owner, dpo, staff, auditor/);
  });

  test('adds and lists an account in an embedded database folder', () => {
    const add = custodian(['add', '--email', 'cli@example.test', '--role', 'owner', '--password-stdin'], `${GOOD_PASSWORD}\n`);
    assert.equal(add.status, 0, add.stderr);
    assert.match(add.stdout, /created owner cli@example\.test/);
    assert.doesNotMatch(add.stdout + add.stderr, new RegExp(GOOD_PASSWORD), 'a piped password is never echoed');
    const list = custodian(['list']);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /cli@example\.test\s+owner\s+active/);
  });
});
