// `custodian requests`: the real command in a child process on a fresh embedded folder (the contract: add prints the
// deadline as YYYY-MM-DD in the register's jurisdiction), and every step in-process at fixed dates.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { engineUnderTest } from '../test/helpers/test-db.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { buildRequestsCommand } from './requests.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const IDT = fileURLToPath(new URL('../examples/image-diagnostic-technology/register.yaml', import.meta.url));
const IIS = fileURLToPath(new URL('../examples/image-information-systems/register.yaml', import.meta.url));

async function custodian(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [MAIN, ...args], { env: { ...base, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

test('requests add on a fresh folder prints the deadline: 31 Jan 2026 → Mon 2 Mar 2026 (UK), 31 Jan 2026 → Mon 2 Mar (DE-MV)', {
  skip: engineUnderTest === 'postgres' && 'runs the embedded database',
}, async () => {
  const data = mkdtempSync(join(tmpdir(), 'custodian-requests-cli-'));
  try {
    const uk = await custodian([
      'requests',
      'add',
      '--type',
      'access',
      '--received',
      '2026-01-31',
      '--email',
      'ann@example.com',
      '--json',
      '--register',
      IDT,
      '--data',
      data,
    ]);
    assert.equal(uk.code, 0, uk.stderr);
    const req = JSON.parse(uk.stdout.trim().split('\n').at(-1)!);
    assert.equal(req.dueAt, '2026-03-02');
    assert.equal(req.status, 'open');
    assert.equal(req.channel, 'email');
    const shown = await custodian(['requests', 'show', req.id, '--register', IDT, '--data', data]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /due 2026-03-02/);
    const listed = await custodian(['requests', 'list', '--json', '--register', IDT, '--data', data]);
    assert.equal(JSON.parse(listed.stdout.trim().split('\n').at(-1)!)[0].id, req.id);
    const bad = await custodian(['requests', 'add', '--type', 'everything', '--received', '2026-01-31', '--register', IDT, '--data', data]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /everything/);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

let t: TestApp;
const lines: string[] = [];
before(async () => {
  t = await testApp('image-diagnostic-technology', { now: '2026-03-20T10:00:00Z' });
});
after(async () => t?.close());

async function run(...args: string[]): Promise<Record<string, unknown>> {
  lines.length = 0;
  const cmd = buildRequestsCommand({ withRequestsContext: (_opts, fn) => fn(t.ctx), out: (l) => lines.push(l) });
  cmd.exitOverride();
  await cmd.parseAsync(['node', 'requests', ...args, '--json', '--register', IDT], { from: 'node' });
  return JSON.parse(lines.at(-1)!) as Record<string, unknown>;
}

test('every step from the command line, at fixed dates: identity asked, pause and resume, extension, completion', async () => {
  const added = await run('add', '--type', 'access', '--received', '2026-02-27', '--channel', 'post');
  // Fri 27 Feb 2026 → Fri 27 Mar 2026.
  assert.equal(added.dueAt, '2026-03-27');
  const id = added.id as string;
  assert.equal((await run('ask-identity', id, '--on', '2026-02-27')).awaitingIdentity, true);
  const verified = await run('verify', id, '--method', 'document-seen', '--seen', 'driving licence', '--received-on', '2026-03-02');
  // Proof arrived Mon 2 Mar: the clock starts then (UK) → Thu 2 Apr 2026.
  assert.equal(verified.dueAt, '2026-04-02');
  await run('pause', id, '--from', '2026-03-05', '--justification', 'Which of the three sites do you mean?');
  const resumed = await run('resume', id, '--to', '2026-03-09');
  // 2 Apr + 5 days = Tue 7 Apr 2026 (Good Friday 3 Apr and Easter Monday 6 Apr 2026 are not in the way any more).
  assert.equal(resumed.dueAt, '2026-04-07');
  const extended = await run('extend', id, '--months', '1', '--reason', 'Records are spread over three sites.', '--told-on', '2026-03-20');
  // 2 May 2026 (Sat) + 5 days = Thu 7 May 2026.
  assert.equal(extended.dueAt, '2026-05-07');
  const done = await run('complete', id, '--outcome', 'refused', '--reason', 'manifestly-unfounded');
  assert.equal(done.status, 'refused');
  assert.deepEqual(done.outcomeReasons, ['manifestly-unfounded']);
});

test('the EU register: no pause, holidays of Mecklenburg-Western Pomerania', async () => {
  const eu = await testApp('image-information-systems', { now: '2026-11-20T10:00:00Z' });
  try {
    const cmd = buildRequestsCommand({ withRequestsContext: (_o, fn) => fn(eu.ctx), out: (l) => lines.push(l) });
    cmd.exitOverride();
    lines.length = 0;
    // Received Fri 2 Oct 2026 → Mon 2 Nov 2026; 31 Oct (Reformation Day in MV) is a Saturday anyway.
    await cmd.parseAsync(['node', 'requests', 'add', '--type', 'erasure', '--received', '2026-10-02', '--json', '--register', IIS], { from: 'node' });
    const added = JSON.parse(lines.at(-1)!) as { id: string; dueAt: string; jurisdiction: string };
    assert.equal(added.jurisdiction, 'eu');
    assert.equal(added.dueAt, '2026-11-02');
    await assert.rejects(
      cmd.parseAsync(['node', 'requests', 'pause', added.id, '--justification', 'Which systems do you mean?', '--register', IIS], { from: 'node' }),
      { code: 'conflict' },
    );
  } finally {
    await eu.close();
  }
});
