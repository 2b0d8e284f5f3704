// Group commit: submissions that arrive together are written together, yet each is answered for itself.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { verifyAuditChain } from '../../audit/verify/verify-audit-chain.ts';
import { testApp, type TestApp } from '../../test/helpers/test-app.ts';

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => t?.close());

const scan = (n: number, email = `p${n}@example.com`) => ({
  'patient.name': `Patient ${n}`,
  'patient.dob': '1970-01-01',
  'patient.phone': `020 7946 ${String(1000 + n).slice(-4)}`,
  'patient.email': email,
  'scan.type': 'Medical CT',
  'scan.area': `Area ${n}`,
});

test('a burst of submissions: each answered on its own, one person found once, invalid ones refused alone', async () => {
  const bodies: object[] = [];
  for (let n = 0; n < 40; n++) bodies.push(scan(n));
  bodies.push(scan(90, 'same@example.com'), { ...scan(91, 'SAME@example.com'), 'patient.phone': '020 7946 0090' }); // one new person, twice
  bodies.push({ ...scan(92), 'patient.dob': 'not a date' }); // invalid: refused, nothing else affected
  const answers = await Promise.all(bodies.map((payload) => t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload })));
  const statuses = answers.map((a) => a.statusCode);
  assert.deepEqual(statuses.filter((s) => s === 201).length, 42, statuses.join(','));
  assert.equal(answers.at(-1)!.statusCode, 400);
  const [a, b] = [answers[40]!.json(), answers[41]!.json()];
  assert.equal(a.subjectId, b.subjectId, 'the same new person in one burst is one subject');
  const ids = answers.filter((r) => r.statusCode === 201).flatMap((r) => r.json().recordIds as string[]);
  assert.equal(new Set(ids).size, 42 * 6);
  const stored = await t.db.kysely.selectFrom('record').select('id').execute();
  assert.equal(stored.length, ids.length);
  const subjects = await t.db.kysely.selectFrom('subject').select('id').execute();
  assert.equal(subjects.length, 41);
  const result = await verifyAuditChain(t.db, { checkpointKey: t.checkpointKeys });
  assert.equal(result.ok, true);
  assert.equal(result.events, 41 + 42, 'one subject.create per person and one record.create per submission');
});
