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

test('a burst of submissions: each answered on its own, the same details twice two people and one item, invalid ones refused alone', async () => {
  const bodies: object[] = [];
  for (let n = 0; n < 40; n++) bodies.push(scan(n));
  // The same details twice: maybe one person, maybe not; never joined by a public form, so two people and one item.
  bodies.push(
    { ...scan(90, 'same@example.com'), 'patient.name': 'Sam Same' },
    { ...scan(91, 'SAME@example.com'), 'patient.name': 'Sam Same', 'patient.phone': '020 7946 0090' },
  );
  bodies.push({ ...scan(92), 'patient.dob': 'not a date' }); // invalid: refused, nothing else affected
  const answers = await Promise.all(bodies.map((payload) => t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload })));
  const statuses = answers.map((a) => a.statusCode);
  assert.deepEqual(statuses.filter((s) => s === 201).length, 42, statuses.join(','));
  assert.equal(answers.at(-1)!.statusCode, 400);
  const [a, b] = [answers[40]!.json(), answers[41]!.json()];
  assert.notEqual(a.subjectId, b.subjectId, 'a public submission never attaches to anyone');
  const items = await t.db.kysely.selectFrom('identity_review').select(['subject_id', 'candidate_id', 'signals']).execute();
  assert.equal(items.length, 1, JSON.stringify(items));
  assert.deepEqual([items[0]!.subject_id, items[0]!.candidate_id].sort(), [a.subjectId, b.subjectId].sort());
  assert.deepEqual(items[0]!.signals, ['shares:email', 'same-name', 'same-birth-date']);
  const ids = answers.filter((r) => r.statusCode === 201).flatMap((r) => r.json().recordIds as string[]);
  assert.equal(new Set(ids).size, 42 * 6);
  const stored = await t.db.kysely.selectFrom('record').select('id').execute();
  assert.equal(stored.length, ids.length);
  const subjects = await t.db.kysely.selectFrom('subject').select('id').execute();
  assert.equal(subjects.length, 42);
  const result = await verifyAuditChain(t.db, { checkpointKey: t.checkpointKeys });
  assert.equal(result.ok, true);
  assert.equal(result.events, 42 + 42 + 1, 'one subject.create per person, one record.create per submission, one identity.review-open');
});
