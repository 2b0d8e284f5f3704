// Completeness, tried as an attacker with database access would try it: delete a whole partition, truncate the audit
// tables, wind the heads back to versions signed earlier. None of it needs the master key, each leaves chains that
// verify on their own, and each is named by holding the database to the checkpoints the witness kept outside it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, test } from 'node:test';
import { sql } from 'kysely';
import { fixedClock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import type { Db } from '../db/connect.ts';
import { openTestDb } from '../test/helpers/test-db.ts';
import { testKeyring } from '../test/helpers/test-keyring.ts';
import { Auditor } from './auditor.ts';
import { auditPartition } from './partition.ts';
import { openCheckpoint, publicKeyFromText } from './signed-checkpoint.ts';
import { verifyTrail } from './verify-trail.ts';
import { FileWitness, HttpWitness, parseLines } from './witness.ts';

const dir = mkdtempSync(join(tmpdir(), 'custodian-witness-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const clock = fixedClock('2026-10-05T09:00:00Z');
const keyring = testKeyring();
let db: Db;
let witnessFile: string;
let auditor: Auditor;
/** A second process on the same database and witness: it knows only what it reads. */
const anotherProcess = () => new Auditor({ clock, fingerprint: null, masterKeys: keyring, witness: new FileWitness(witnessFile) });

beforeEach(async () => {
  db = await openTestDb();
  witnessFile = join(dir, `${randomUUID()}.jsonl`);
  auditor = anotherProcess();
});
afterEach(async () => db.close());

/** Four people in four different shards, so that each partition holds exactly their events. */
const subjects: string[] = [];
while (subjects.length < 4) {
  const id = randomUUID();
  const shard = auditPartition(clock.now(), id, 'staff:1');
  if (!subjects.some((s) => auditPartition(clock.now(), s, 'staff:1') === shard)) subjects.push(id);
}
async function activity(n = 3): Promise<void> {
  for (const subjectId of subjects) {
    await auditor.appendMany(
      db.kysely,
      Array.from({ length: n }, () => ({ actor: 'staff:1', action: 'record.read-sealed' as const, subjectId })),
    );
  }
}
async function asAttacker(text: string): Promise<void> {
  await db.script((run) =>
    run(`ALTER TABLE audit_event DISABLE TRIGGER USER; ALTER TABLE audit_head DISABLE TRIGGER USER; ALTER TABLE audit_checkpoint DISABLE TRIGGER USER;
         ${text};
         ALTER TABLE audit_event ENABLE TRIGGER USER; ALTER TABLE audit_head ENABLE TRIGGER USER; ALTER TABLE audit_checkpoint ENABLE TRIGGER USER;`),
  );
}
const partitions = async () =>
  (await sql<{ partition: string }>`SELECT partition FROM audit_head ORDER BY partition`.execute(db.kysely)).rows.map((r) => r.partition);
const isBroken = (e: unknown) => e instanceof CustodianError && e.code === 'audit_chain_broken';

test('a checkpoint covers every partition, is witnessed outside the database, and verifies with the public key alone', async () => {
  await activity();
  const made = await auditor.checkpoint(db.kysely);
  assert.ok(made);
  assert.equal(made.checkpoint.seq, 1);
  assert.equal(made.checkpoint.full, true);
  assert.deepEqual(
    made.checkpoint.heads.map(([p]) => p),
    await partitions(),
  );
  assert.equal(made.checkpoint.events, subjects.length * 3);

  const [line] = parseLines(readFileSync(witnessFile, 'utf8')).entries;
  assert.deepEqual(line, made.signed);
  // What an auditor holds: the published key, and the line.
  const [published] = auditor.publishedKeys();
  const opened = openCheckpoint(line!, new Map([[published!.id, publicKeyFromText(published!.publicKey)]]));
  assert.equal(typeof opened === 'object' && opened.seq, 1);
  const edited = { ...line!, body: line!.body.replace('"events":12', '"events":13') };
  assert.equal(openCheckpoint(edited, new Map([[published!.id, publicKeyFromText(published!.publicKey)]])), 'invalid');

  assert.equal(await auditor.checkpoint(db.kysely), null, 'nothing moved: no new checkpoint');
  await activity(1);
  const next = await auditor.checkpoint(db.kysely);
  assert.equal(next?.checkpoint.seq, 2);
  assert.equal(next?.checkpoint.full, false, 'between full ones, only what moved');
  assert.equal((await verifyTrail(db, auditor)).ok, true);
});

test('a whole partition deleted, events and head, is named', async () => {
  await activity();
  await auditor.checkpoint(db.kysely);
  const [victim] = await partitions();
  await asAttacker(`DELETE FROM audit_event WHERE partition = '${victim}'; DELETE FROM audit_head WHERE partition = '${victim}'`);
  const verdict = await verifyTrail(db, anotherProcess());
  assert.equal(verdict.chains.ok, true, 'the chains left behind verify on their own');
  assert.equal(verdict.ok, false);
  assert.match(verdict.shortfalls.join('\n'), new RegExp(`partition ${victim!.replace('/', '\\/')} is missing: the witness saw it at event #3`));
  await assert.rejects(anotherProcess().checkpoint(db.kysely), isBroken, 'and nothing is signed on top of it');
});

test('both audit tables truncated (and the checkpoints with them) is named, not "intact: 0 events"', async () => {
  await activity();
  await auditor.checkpoint(db.kysely);
  await asAttacker('TRUNCATE audit_event, audit_head, audit_checkpoint');
  const verdict = await verifyTrail(db, anotherProcess());
  assert.equal(verdict.chains.events, 0);
  assert.equal(verdict.ok, false);
  const text = verdict.shortfalls.join('\n');
  assert.match(text, /the database's checkpoints end at #0, but the witness holds #1/);
  for (const p of ['partition', 'is missing']) assert.match(text, new RegExp(p));
});

test('heads wound back to versions signed earlier, the later events removed: named, and never appended to', async () => {
  await activity();
  const [victim] = await partitions();
  const before = (
    await sql<{ seq: string; hash: string; checkpoint: string }>`
    SELECT seq::text AS seq, encode(hash, 'hex') AS hash, encode(checkpoint, 'hex') AS checkpoint FROM audit_head WHERE partition = ${victim!}`.execute(
      db.kysely,
    )
  ).rows[0]!;
  await activity(2); // say, a DPO opened a patient's health data: this is what the attacker wants gone
  await auditor.checkpoint(db.kysely);
  await asAttacker(`DELETE FROM audit_event WHERE partition = '${victim}' AND seq > ${before.seq};
    UPDATE audit_head SET seq = ${before.seq}, hash = '\\x${before.hash}', checkpoint = '\\x${before.checkpoint}' WHERE partition = '${victim}'`);

  const verdict = await verifyTrail(db, anotherProcess());
  assert.equal(verdict.chains.ok, true, 'the head was genuinely signed once: the chain alone cannot tell');
  assert.equal(verdict.ok, false);
  assert.match(
    verdict.shortfalls.join('\n'),
    new RegExp(`partition ${victim!.replace('/', '\\/')} ends at event #${before.seq}, but the witness saw event #${Number(before.seq) + 2}`),
  );

  // The running server (it appended there) and a freshly started one (it reads the witness) both refuse to build on it.
  const victimSubject = async (a: Auditor) => {
    for (const subjectId of subjects) {
      const e = await a.append(db.kysely, { actor: 'staff:1', action: 'record.read-sealed', subjectId }).catch((err: unknown) => err);
      if (e instanceof CustodianError) return e;
    }
    return null;
  };
  assert.match((await victimSubject(auditor))?.message ?? '', /went back from event #\d+ to #\d+: the trail was rolled back/);
  const fresh = anotherProcess();
  await fresh.witnessed();
  assert.ok(isBroken(await victimSubject(fresh)));
});

test('a head forged in place is never endorsed by a checkpoint', async () => {
  await activity();
  const [victim] = await partitions();
  await asAttacker(`UPDATE audit_head SET hash = sha256(hash) WHERE partition = '${victim}'`);
  await assert.rejects(anotherProcess().checkpoint(db.kysely), (e: unknown) => isBroken(e) && /does not verify/.test((e as Error).message));
});

test('a checkpoint filed away by an auditor holds the database even when the witness file is gone', async () => {
  await activity();
  const filed = await auditor.checkpoint(db.kysely, { full: true, always: true });
  const file = join(dir, 'filed.json');
  writeFileSync(file, `${JSON.stringify(filed!.signed)}\n`);
  rmSync(witnessFile);
  const [victim] = await partitions();
  await asAttacker(`DELETE FROM audit_event WHERE partition = '${victim}'; DELETE FROM audit_head WHERE partition = '${victim}'`);
  const verdict = await verifyTrail(db, anotherProcess(), { filed: { where: file, entries: parseLines(readFileSync(file, 'utf8')).entries } });
  assert.equal(verdict.ok, false);
  assert.match(verdict.shortfalls.join('\n'), /is missing/);
});

test('a witness edited by hand is reported, and nothing is signed on it', async () => {
  await activity();
  await auditor.checkpoint(db.kysely);
  await activity(1);
  await auditor.checkpoint(db.kysely);
  const [first, second] = parseLines(readFileSync(witnessFile, 'utf8')).entries;
  // The first checkpoint made to say there were fewer events, re-serialised as the attacker would.
  const edited = { body: first!.body.replace(/"events":\d+/, '"events":1'), sig: first!.sig };
  writeFileSync(witnessFile, `${JSON.stringify(edited)}\n${JSON.stringify(second)}\n`);
  const verdict = await verifyTrail(db, anotherProcess());
  assert.equal(verdict.ok, false);
  assert.match(verdict.shortfalls.join('\n'), /does not verify: its text or signature was changed/);
  await assert.rejects(anotherProcess().checkpoint(db.kysely), isBroken);
});

test('an https witness (here a local server) receives every checkpoint, signed; one it refuses is an error, and the file still has it', async () => {
  const { createServer } = await import('node:http');
  const received: { body: string; sig: string }[] = [];
  let status = 204;
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      received.push(JSON.parse(text) as { body: string; sig: string });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as { port: number }).port;
    const witness = new HttpWitness(`http://127.0.0.1:${port}/checkpoints`, new FileWitness(witnessFile));
    const sent = new Auditor({ clock, fingerprint: null, masterKeys: keyring, witness });
    await activity();
    const made = await sent.checkpoint(db.kysely, { always: true });
    assert.equal(received.length, 1);
    const [published] = sent.publishedKeys();
    const opened = openCheckpoint(received[0]!, new Map([[published!.id, publicKeyFromText(published!.publicKey)]]));
    assert.ok(typeof opened === 'object' && opened.seq === made!.checkpoint.seq, 'what the witness got verifies with the public key alone');

    status = 500;
    await activity(1);
    await assert.rejects(sent.checkpoint(db.kysely), /refused a checkpoint \(500\)/);
    assert.equal(parseLines(readFileSync(witnessFile, 'utf8')).entries.length, 2, 'the file witness kept it all the same');
    assert.throws(() => new HttpWitness('http://witness.example/c', new FileWitness(witnessFile)), /must be https/);
  } finally {
    server.close();
  }
});
