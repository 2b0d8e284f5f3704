// Restoring the database files from an older copy while the witness is kept: `custodian audit verify` names what is
// missing and exits 1, no checkpoint is signed on top of it, and the server refuses to serve on it. Always the
// embedded database, whose files a copy is easiest to make of; the same checks hold a PostgreSQL restore.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { auditPartition } from '../audit/partition.ts';
import { Auditor } from '../audit/auditor.ts';
import { openCheckpoint, publicKeyFromText } from '../audit/signed-checkpoint.ts';
import { FileWitness, parseLines } from '../audit/witness.ts';
import { systemClock } from '../core/clock.ts';
import { loadKeyring } from '../crypto/keyring.ts';
import { connect } from '../db/connect.ts';
import { migrate } from '../db/migrate.ts';
import { testApp } from './helpers/test-app.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const REGISTER = join(root, 'examples/image-diagnostic-technology/register.yaml');
const dir = mkdtempSync(join(tmpdir(), 'custodian-rollback-'));
const data = join(dir, 'data');
after(() => rmSync(dir, { recursive: true, force: true }));

const masterKey = randomBytes(32).toString('base64');
const { DATABASE_URL: _u, CUSTODIAN_DATA: _d, NODE_TEST_CONTEXT: _t, ...rest } = process.env;
const env = { ...rest, CUSTODIAN_MASTER_KEY: masterKey };
const custodian = (args: string[]) => {
  const r = spawnSync(process.execPath, ['cli/main.ts', ...args], { cwd: root, env, encoding: 'utf8', timeout: 90_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
/** Three people in three different shards, so that each partition holds exactly their events. */
const subjects: string[] = [];
while (subjects.length < 3) {
  const id = randomUUID();
  const shard = (s: string) => auditPartition(new Date(), s, 'staff:1').slice(8);
  if (!subjects.some((s) => shard(s) === shard(id))) subjects.push(id);
}

/** What the service would do between two verifications: events appended, here directly. */
async function activity(n: number): Promise<void> {
  const db = await connect({ dataDir: data });
  try {
    await migrate(db);
    const keyring = loadKeyring({ env, dataDir: data, createIfMissing: false }).keyring;
    const auditor = new Auditor({ clock: systemClock, fingerprint: null, masterKeys: keyring });
    for (const subjectId of subjects) {
      await auditor.appendMany(
        db.kysely,
        Array.from({ length: n }, () => ({ actor: 'staff:1', action: 'record.read-sealed' as const, subjectId })),
      );
    }
  } finally {
    await db.close();
  }
}

test('database files restored from an older copy are caught by the kept witness', async () => {
  await activity(3);
  const first = custodian(['audit', 'verify', '--data', data]);
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /audit chain intact: 9 events/);
  assert.match(first.out, /checkpoint #1 signed and witnessed/);
  assert.ok(existsSync(join(data, 'audit-witness.jsonl')), 'the witness lives beside, not inside, the database folder');

  cpSync(join(data, 'pgdata'), join(dir, 'backup'), { recursive: true }); // a copy of the database files, taken now
  await activity(2); // later work the attacker wants gone
  const second = custodian(['audit', 'verify', '--data', data]);
  assert.equal(second.code, 0, second.err);
  assert.match(second.out, /complete as of checkpoint #1 .*\n.*checkpoint #2 signed and witnessed/);

  rmSync(join(data, 'pgdata'), { recursive: true });
  cpSync(join(dir, 'backup'), join(data, 'pgdata'), { recursive: true }); // the files put back
  const after = custodian(['audit', 'verify', '--data', data]);
  assert.equal(after.code, 1, after.out);
  assert.match(after.err, /audit trail incomplete, held to the witness file/);
  assert.match(after.err, /the database's checkpoints end at #1, but the witness holds #2/);
  assert.match(after.err, /partition \S+ ends at event #3, but the witness saw event #5/);
  assert.doesNotMatch(after.out, /intact/);

  const sign = custodian(['audit', 'checkpoint', '--data', data]);
  assert.equal(sign.code, 1, 'nothing is signed on top of it');
  assert.match(sign.err, /\[audit_chain_broken\] no checkpoint signed/);
  const serve = spawnSync(process.execPath, ['cli/main.ts', 'serve', '--register', REGISTER, '--data', data, '--port', '0', '--no-jobs'], {
    cwd: root,
    env,
    encoding: 'utf8',
    timeout: 90_000,
  });
  assert.equal(serve.status, 1);
  assert.match(serve.stderr, /\[audit_chain_broken\] the audit trail in .* falls short of what the witness file .* saw/);
  assert.doesNotMatch(serve.stdout, /is serving/);
});

test('the published key is what checkpoints are signed with: `custodian audit key`, and the service at /.well-known', async () => {
  const cli = custodian(['audit', 'key', '--data', data]);
  assert.equal(cli.code, 0, cli.err);
  const printed = JSON.parse(cli.out) as { keys: { id: string; publicKey: string; active: boolean }[] };
  const [key] = printed.keys;
  assert.equal(key?.active, true);
  const lines = parseLines(readFileSync(join(data, 'audit-witness.jsonl'), 'utf8')).entries;
  const opened = openCheckpoint(lines[0]!, new Map([[key!.id, publicKeyFromText(key!.publicKey)]]));
  assert.equal(typeof opened === 'object' && opened.seq, 1, 'the first witnessed checkpoint verifies with the printed key alone');

  const t = await testApp('image-diagnostic-technology', { witness: new FileWitness(join(dir, 'app-witness.jsonl')) });
  try {
    const res = await t.app.inject('/.well-known/custodian-audit-key');
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { keys: t.ctx.auditor.publishedKeys() });
  } finally {
    await t.close();
  }
});
