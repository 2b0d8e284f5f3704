// Two people are never one. A shared family phone, a practice's email on a patient form, another practice's
// patient "1001": none of them joins anybody. A public submission is always a new person; when it looks like
// someone known, staff get a "possibly the same person" item, and decide; a merge can be undone until confirmed.
// Staff attach what they record only to the person they chose or to the owner of a strong identifier in its scope.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { openValue } from '../crypto/seal.ts';
import type { Browser } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { keptSealedRecords, shredSubject } from './erase-subject.ts';
import { confirmMerge, mergeSubjects, undoMerge } from './merge-subjects.ts';
import { decideSamePerson } from './review-items.ts';
import { reviewSignals } from './same-person.ts';
import { liveRecordsOf, retentionOverride } from './subjects-store.ts';

let t: TestApp;
let staff: Browser;
before(async () => {
  t = await testApp();
  staff = await t.signedIn('staff');
});
after(async () => t?.close());

let n = 0;
/** A scan request with its own contact details, unless the test says otherwise. */
function scan(over: Record<string, string> = {}): Record<string, string> {
  n++;
  return {
    'patient.name': `Patient ${n}`,
    'patient.dob': '1990-01-01',
    'patient.phone': `+44 20 7946 ${String(1000 + n)}`,
    'patient.email': `patient${n}@example.com`,
    'scan.type': 'Medical CT',
    'scan.area': `Area ${n}`,
    ...over,
  };
}

async function submit(body: Record<string, string>, point = 'scan-request'): Promise<{ subjectId: string; recordIds: string[] }> {
  const res = await t.app.inject({ method: 'POST', url: `/api/v1/collect/${point}`, payload: body });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

async function staffRecord(fields: Record<string, string>, extra: Record<string, string> = {}, point = 'scan-request') {
  const res = await staff.request({
    method: 'POST',
    url: `/api/v1/staff/collect/${point}`,
    json: { channel: 'phone', receivedAt: '2026-11-21', fields, ...extra },
    html: false,
    headers: { 'x-csrf-token': await staff.csrf() },
  });
  return res;
}

async function itemsBetween(a: string, b: string) {
  return t.db.kysely
    .selectFrom('identity_review')
    .selectAll()
    .where((eb) => eb.or([eb.and([eb('subject_id', '=', a), eb('candidate_id', '=', b)]), eb.and([eb('subject_id', '=', b), eb('candidate_id', '=', a)])]))
    .execute();
}

describe('public submissions never join two people', () => {
  test('the same person again, however they typed it: a new subject and one review item saying why', async () => {
    const first = await submit(
      scan({ 'patient.name': 'Jane Doe', 'patient.dob': '1980-02-03', 'patient.phone': '+44 20 7946 0999', 'patient.email': 'same@example.com' }),
    );
    const again = await submit(
      scan({ 'patient.name': 'DOE,  jane', 'patient.dob': '1980-02-03', 'patient.phone': '020 7946 0999', 'patient.email': 'SAME@example.COM ' }),
    );
    assert.notEqual(again.subjectId, first.subjectId, 'a public form never attaches data to an existing person');
    const ids = await t.db.kysely
      .selectFrom('subject_identifier')
      .select(['kind', 'value'])
      .where('subject_id', '=', again.subjectId)
      .orderBy('kind')
      .execute();
    assert.deepEqual(ids, [
      { kind: 'email', value: 'same@example.com' },
      { kind: 'phone', value: '+442079460999' },
    ]);
    const items = await itemsBetween(again.subjectId, first.subjectId);
    assert.equal(items.length, 1);
    assert.equal(items[0]!.subject_id, again.subjectId, 'the newer record is the one that may be merged');
    assert.deepEqual(items[0]!.signals, ['shares:email', 'shares:phone', 'same-name', 'same-birth-date']);
    // The trail says an item was opened, between which ids and why; never the phone or the name.
    const opened = (await t.audits()).filter((e) => e.action === 'identity.review-open' && e.subjectId === again.subjectId);
    assert.equal(opened.length, 1);
    assert.doesNotMatch(JSON.stringify(opened[0]), /same@example|7946|Jane|Doe/i);
    // The public answer says nothing about it: no oracle for who else is known.
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scan({ 'patient.phone': '+44 20 7946 0999' }) });
    assert.deepEqual(Object.keys(res.json()).sort(), ['recordIds', 'subjectId']);
  });

  test('siblings on a family phone: two people, and no item (their names and birth dates differ)', async () => {
    const family = '+44 20 7946 0321';
    const older = await submit(scan({ 'patient.name': 'Tom Rowe', 'patient.dob': '2012-05-01', 'patient.phone': family }));
    const younger = await submit(scan({ 'patient.name': 'Amy Rowe', 'patient.dob': '2015-09-30', 'patient.phone': family }));
    assert.notEqual(younger.subjectId, older.subjectId);
    assert.deepEqual(await itemsBetween(older.subjectId, younger.subjectId), []);
    // Each keeps their own birth date, so each child's until-age retention stays their own.
    const dobOf = async (id: string) =>
      (await t.db.kysely.selectFrom('record').select('value_text').where('subject_id', '=', id).where('field', '=', 'patient.dob').executeTakeFirstOrThrow())
        .value_text;
    assert.equal(await dobOf(older.subjectId), '2012-05-01');
    assert.equal(await dobOf(younger.subjectId), '2015-09-30');
  });

  test("patient forms carrying the dentist's email: separate patients, no items; a shared line stops counting", async () => {
    const practice = 'reception@smile-dental.example';
    const patients = [];
    for (let i = 0; i < 7; i++) patients.push(await submit(scan({ 'patient.email': practice, 'patient.dob': `1970-01-0${i + 1}` })));
    assert.equal(new Set(patients.map((p) => p.subjectId)).size, 7);
    // Now the same name and birth date as the first: the practice email is shared by more than five people, so it
    // is no signal; they share nothing else, so there is no item either.
    const first = await t.db.kysely
      .selectFrom('record')
      .select('value_text')
      .where('subject_id', '=', patients[0]!.subjectId)
      .where('field', '=', 'patient.name')
      .executeTakeFirstOrThrow();
    const lookalike = await submit(scan({ 'patient.email': practice, 'patient.name': first.value_text!, 'patient.dob': '1970-01-01' }));
    assert.deepEqual(await itemsBetween(lookalike.subjectId, patients[0]!.subjectId), []);
  });

  test('the same patient reference from two practices: two people; from the same practice: an item', async () => {
    const a = await submit(scan({ 'patient.reference': '1001', 'referrer.email': 'a@practice-a.example' }));
    const b = await submit(scan({ 'patient.reference': '1001', 'referrer.email': 'b@practice-b.example' }));
    assert.notEqual(a.subjectId, b.subjectId);
    assert.deepEqual(await itemsBetween(a.subjectId, b.subjectId), [], 'different practices: the reference names different patients');
    const scopes = await t.db.kysely
      .selectFrom('subject_identifier')
      .select(['scope', 'verified'])
      .where('kind', '=', 'patient-number')
      .where('value', '=', '1001')
      .execute();
    assert.deepEqual(scopes.map((s) => s.scope).sort(), ['referrer.email=a@practice-a.example', 'referrer.email=b@practice-b.example']);
    assert.ok(
      scopes.every((s) => !s.verified),
      'nobody vouched for a public submission',
    );
    const a2 = await submit(scan({ 'patient.reference': '1001', 'referrer.email': 'A@practice-a.example' }));
    assert.notEqual(a2.subjectId, a.subjectId, 'still never attached');
    const items = await itemsBetween(a2.subjectId, a.subjectId);
    assert.equal(items.length, 1);
    assert.ok(items[0]!.signals.includes('shares:patient-number'), items[0]!.signals.join());
    // A reference with no practice names nobody for certain: no signal at all.
    const loose1 = await submit(scan({ 'patient.reference': '777' }));
    const loose2 = await submit(scan({ 'patient.reference': '777' }));
    assert.deepEqual(await itemsBetween(loose1.subjectId, loose2.subjectId), []);
  });

  test('nobody can record marketing consent for someone else by using their email', async () => {
    const owner = await submit({ name: 'Lee Park', email: 'lee@example.com', message: 'Opening hours?' }, 'enquiry-form');
    const stranger = await submit({ name: 'Someone Else', email: 'lee@example.com', message: 'Sign Lee up', marketing: 'yes' }, 'enquiry-form');
    assert.notEqual(stranger.subjectId, owner.subjectId);
    const consents = await t.db.kysely.selectFrom('consent_event').select('subject_id').where('purpose', '=', 'marketing-consent').execute();
    assert.ok(!consents.some((c) => c.subject_id === owner.subjectId), "the owner's consent state is untouched");
  });
});

describe('staff attach only by what they vouch for', () => {
  test('a reference within its practice finds the person staff recorded; another practice is another person', async () => {
    const first = await staffRecord(scan({ 'patient.reference': 'P-77', 'referrer.email': 'desk@practice-c.example' }));
    assert.equal(first.statusCode, 201, first.body);
    assert.equal(first.json().createdSubject, true);
    const again = await staffRecord(scan({ 'patient.reference': 'p 77', 'referrer.email': 'DESK@practice-c.example' }));
    assert.equal(again.statusCode, 201, again.body);
    assert.equal(again.json().subjectId, first.json().subjectId, 'the verified reference in its practice names this patient');
    assert.equal(again.json().createdSubject, false);
    const other = await staffRecord(scan({ 'patient.reference': 'P-77', 'referrer.email': 'desk@practice-d.example' }));
    assert.notEqual(other.json().subjectId, first.json().subjectId);
    assert.equal(other.json().createdSubject, true);
  });

  test('a phone or email never attaches, even for staff; the person they choose does', async () => {
    const known = await submit(scan({ 'patient.name': 'Rita Ng', 'patient.dob': '1975-03-03', 'patient.phone': '+44 20 7946 0777' }));
    const byPhone = await staffRecord(scan({ 'patient.name': 'Rita Ng', 'patient.dob': '1975-03-03', 'patient.phone': '020 7946 0777' }));
    assert.equal(byPhone.statusCode, 201, byPhone.body);
    assert.notEqual(byPhone.json().subjectId, known.subjectId);
    assert.equal(byPhone.json().reviewItems, 1, 'staff see that it may be someone known');
    const chosen = await staffRecord(scan({ 'patient.name': 'Rita Ng', 'patient.dob': '1975-03-03' }), { subject: known.subjectId });
    assert.equal(chosen.statusCode, 201, chosen.body);
    assert.equal(chosen.json().subjectId, known.subjectId);
    const wrongKind = await staffRecord({ name: 'X', email: 'x@example.com', message: 'hi' }, { subject: known.subjectId }, 'enquiry-form');
    assert.equal(wrongKind.statusCode, 409, wrongKind.body);
  });
});

describe('deciding an item', () => {
  test('same person: merged, pending; undone: everything moved goes back, sealed values open again; confirmed: final', async () => {
    const a = await submit(
      scan({ 'patient.name': 'Omar Haddad', 'patient.dob': '1966-06-06', 'patient.phone': '+44 20 7946 0660', 'scan.area': 'first visit' }),
    );
    const b = await submit(
      scan({ 'patient.name': 'Omar Haddad', 'patient.dob': '1966-06-06', 'patient.phone': '+44 20 7946 0660', 'scan.area': 'second visit' }),
    );
    const [item] = await itemsBetween(a.subjectId, b.subjectId);
    assert.ok(item);
    const actor = 'staff:test';
    const merged = await decideSamePerson(t.ctx, { itemId: item.id, decision: 'same-person', actor });
    assert.equal(merged.into, a.subjectId);
    const moved = await t.db.kysely.selectFrom('record').select('id').where('subject_id', '=', a.subjectId).execute();
    assert.equal(moved.length, a.recordIds.length + b.recordIds.length);
    await assert.rejects(decideSamePerson(t.ctx, { itemId: item.id, decision: 'different-people', actor }), /already decided/);

    const undone = await undoMerge(t.ctx, { mergeId: merged.mergeId!, actor });
    assert.equal(undone.movedBack, b.recordIds.length);
    const back = await t.db.kysely.selectFrom('record').select(['id', 'value_sealed']).where('subject_id', '=', b.subjectId).execute();
    assert.deepEqual(back.map((r) => r.id).sort(), [...b.recordIds].sort());
    const key = await t.ctx.subjectKeys.get(t.db.kysely, b.subjectId);
    const area = back.find((r) => r.value_sealed && openValue(key!, r.value_sealed, r.id) === 'second visit');
    assert.ok(area, "the sealed scan details open with the person's own key again");
    const after = await t.db.kysely.selectFrom('identity_review').select('state').where('id', '=', item.id).executeTakeFirstOrThrow();
    assert.equal(after.state, 'rejected', 'undoing the merge decided the item: two people');

    // Merge again by hand, confirm, and it stands.
    const c = await submit(scan({ 'patient.name': 'Omar Haddad', 'patient.dob': '1966-06-06', 'patient.phone': '+44 20 7946 0660' }));
    const [item2] = await itemsBetween(c.subjectId, a.subjectId);
    const again = await decideSamePerson(t.ctx, { itemId: item2!.id, decision: 'same-person', actor });
    await confirmMerge(t.ctx, { mergeId: again.mergeId!, actor });
    await assert.rejects(undoMerge(t.ctx, { mergeId: again.mergeId!, actor }), /only a pending merge/);
    const trail = (await t.audits()).filter((e) => e.subjectId === a.subjectId || e.subjectId === b.subjectId || e.subjectId === c.subjectId);
    const actions = new Set(trail.map((e) => e.action));
    for (const action of ['subject.merge', 'subject.unmerge', 'subject.merge-confirm', 'identity.review-decide'] as const)
      assert.ok(actions.has(action), action);
  });

  test('someone merged twice is still found by their first phone, and compared by the records they hold now', async () => {
    const who = { 'patient.name': 'Nia Evans', 'patient.dob': '1959-09-09' };
    const x1 = await submit(scan({ ...who, 'patient.phone': '+44 20 7946 0901' }));
    const x2 = await submit(scan(who));
    const x3 = await submit(scan(who));
    await mergeSubjects(t.ctx, { from: x1.subjectId, into: x2.subjectId, actor: 'staff:test' });
    await mergeSubjects(t.ctx, { from: x2.subjectId, into: x3.subjectId, actor: 'staff:test' });
    const again = await submit(scan({ ...who, 'patient.phone': '020 7946 0901' }));
    const items = await itemsBetween(again.subjectId, x3.subjectId);
    assert.equal(items.length, 1, 'the item points at the person holding the phone now');
    assert.deepEqual(items[0]!.signals, ['shares:phone', 'same-name', 'same-birth-date']);
  });

  test('different people: the item closes and nothing moves', async () => {
    const a = await submit(scan({ 'patient.name': 'Kim Lee', 'patient.dob': '2001-01-01', 'patient.phone': '+44 20 7946 0111' }));
    const b = await submit(scan({ 'patient.name': 'Kim Lee', 'patient.dob': '2001-01-01', 'patient.phone': '+44 20 7946 0111' }));
    const [item] = await itemsBetween(a.subjectId, b.subjectId);
    await decideSamePerson(t.ctx, { itemId: item!.id, decision: 'different-people', actor: 'staff:test' });
    assert.equal((await t.db.kysely.selectFrom('record').select('id').where('subject_id', '=', b.subjectId).execute()).length, b.recordIds.length);
    const c = await t.db.kysely.selectFrom('subject').select('merged_into').where('id', '=', b.subjectId).executeTakeFirstOrThrow();
    assert.equal(c.merged_into, null);
  });

  test('the console: the queue, the comparison, the decision and the undo, each by role', async () => {
    const a = await submit(scan({ 'patient.name': 'Ines Costa', 'patient.dob': '1988-08-08', 'patient.phone': '+44 20 7946 0888' }));
    const b = await submit(scan({ 'patient.name': 'Ines Costa', 'patient.dob': '1988-08-08', 'patient.phone': '+44 20 7946 0888' }));
    const [item] = await itemsBetween(a.subjectId, b.subjectId);
    const queue = await staff.request({ url: '/console/same-person' });
    assert.equal(queue.statusCode, 200);
    assert.ok(queue.body.includes(`/console/same-person/${item!.id}`));
    assert.match(queue.body, /Same phone · Same name · Same date of birth/);
    const compare = await staff.request({ url: `/console/same-person/${item!.id}` });
    assert.equal(compare.statusCode, 200);
    assert.ok(compare.body.includes(a.subjectId) && compare.body.includes(b.subjectId));
    assert.equal(compare.headers['cache-control'], 'no-store');

    const auditor = await t.signedIn('auditor');
    const refused = await auditor.request({
      method: 'POST',
      url: `/console/same-person/${item!.id}`,
      form: { decision: 'same-person', _csrf: await auditor.csrf() },
    });
    assert.equal(refused.statusCode, 403);

    const decided = await staff.request({
      method: 'POST',
      url: `/console/same-person/${item!.id}`,
      form: { decision: 'same-person', _csrf: await staff.csrf() },
    });
    assert.equal(decided.statusCode, 303, decided.body);
    const person = await staff.request({ url: String(decided.headers.location) });
    assert.match(person.body, /Merged\. The merge can be undone/);
    const undo = /action="(\/console\/merges\/[0-9a-f-]{36}\/undo)"/.exec(person.body);
    assert.ok(undo, 'the person page offers the undo');
    const undone = await staff.request({ method: 'POST', url: undo[1]!, form: { _csrf: await staff.csrf() } });
    assert.equal(undone.statusCode, 303);
    assert.equal((await t.db.kysely.selectFrom('subject').select('merged_into').where('id', '=', b.subjectId).executeTakeFirstOrThrow()).merged_into, null);
    const bad = await staff.request({ method: 'POST', url: `/console/same-person/${item!.id}`, form: { decision: 'maybe', _csrf: await staff.csrf() } });
    assert.equal(bad.statusCode, 400);
  });
});

describe('erasure is neither an oracle nor a shredder of kept records', () => {
  test('shredding refuses records a retention rule keeps; with a reason it goes ahead, audited', async () => {
    const p = await submit(scan({ 'patient.name': 'Eve Black', 'patient.phone': '+44 20 7946 0444', 'patient.email': 'eve@example.com' }));
    const before = await t.db.kysely.selectFrom('subject_key').select('subject_id').where('subject_id', '=', p.subjectId).execute();
    await assert.rejects(shredSubject(t.ctx, { subjectId: p.subjectId, actor: 'system:test' }), (e: { code?: string; details?: { kept?: number } }) => {
      assert.equal(e.code, 'retention_applies');
      assert.equal(e.details?.kept, 2);
      return true;
    });
    assert.equal(
      (await t.db.kysely.selectFrom('subject_key').select('subject_id').where('subject_id', '=', p.subjectId).execute()).length,
      before.length,
      'nothing changed',
    );
    await assert.rejects(shredSubject(t.ctx, { subjectId: p.subjectId, actor: 'system:test', overrideRetention: '  ' }), /reason/);

    const done = await shredSubject(t.ctx, { subjectId: p.subjectId, actor: 'system:test', overrideRetention: 'Court order 2026/114' });
    assert.equal(done.records, 2);
    const shred = (await t.audits()).find((e) => e.action === 'subject.key-shred' && e.subjectId === p.subjectId);
    const why = await retentionOverride(t.db.kysely, String(shred?.detail?.retentionOverride));
    assert.deepEqual(why, { reason: 'Court order 2026/114', records: 2, actor: 'system:test' }, 'the reason is kept, named by the audit event');
    await assert.rejects(sql`UPDATE retention_override SET reason = 'nothing to see'`.execute(t.db.kysely), /append-only/);

    // The same email and phone afterwards: a new person, accepted, no 410, no item pointing at the erased one.
    const again = await t.app.inject({
      method: 'POST',
      url: '/api/v1/collect/scan-request',
      payload: scan({ 'patient.name': 'Eve Black', 'patient.phone': '+44 20 7946 0444', 'patient.email': 'eve@example.com' }),
    });
    assert.equal(again.statusCode, 201, again.body);
    assert.notEqual(again.json().subjectId, p.subjectId);
    assert.deepEqual(await itemsBetween(again.json().subjectId, p.subjectId), []);
    // The erased person's identifiers are gone, not merely retired: nobody is found by them again.
    const left = await t.db.kysely.selectFrom('subject_identifier').select('kind').where('subject_id', '=', p.subjectId).execute();
    assert.deepEqual(left, []);
  });

  test('what counts as kept: a date still ahead, an event not yet happened, an age from an unknown birth date', async () => {
    const p = await submit(scan());
    const records = await liveRecordsOf(t.db.kysely, p.subjectId);
    const kept = keptSealedRecords(t.register, records, t.clock.now());
    assert.equal(kept.count, 2);
    assert.deepEqual(kept.purposes, ['healthcare-records', 'provide-scan']);
    assert.equal(kept.until, null, 'kept until an event that has not happened yet');
    assert.equal(keptSealedRecords(t.register, [], t.clock.now()).count, 0);
  });
});

test('the rule in words: contact points alone never outweigh a different name or birth date', () => {
  const none = { names: new Set<string>(), birthDates: new Set<string>() };
  const phone = [{ kind: 'phone', strong: false }];
  assert.deepEqual(reviewSignals(phone, { name: null, birthDate: null }, none), ['shares:phone']);
  assert.equal(reviewSignals(phone, { name: 'a b', birthDate: null }, { names: new Set(['c d']), birthDates: new Set() }), null);
  assert.equal(reviewSignals(phone, { name: 'a b', birthDate: '2000-01-01' }, { names: new Set(['a b']), birthDates: new Set(['2001-01-01']) }), null);
  assert.deepEqual(
    reviewSignals([{ kind: 'patient-number', strong: true }], { name: 'a b', birthDate: null }, { names: new Set(['c d']), birthDates: new Set() }),
    ['shares:patient-number', 'name-differs'],
  );
  assert.equal(reviewSignals([], { name: null, birthDate: null }, none), null);
});
