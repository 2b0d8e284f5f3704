// Staff find a person and see what is held, why, since when and until when; sealed values open only for the
// roles allowed, and every such read lands in the audit trail.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';

let t: TestApp;
let subjectId: string;
before(async () => {
  t = await testApp();
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/collect/scan-request',
    payload: {
      'patient.name': 'Ada Lovelace',
      'patient.dob': '1985-12-10',
      'patient.phone': '020 7946 0555',
      'patient.reference': 'ab 123',
      'scan.type': 'Medical CT',
      'scan.area': 'Maxillary sinus',
    },
  });
  assert.equal(res.statusCode, 201, res.body);
  subjectId = res.json().subjectId;
});
after(async () => t?.close());

test('without a session the console redirects to sign-in and the API answers 401', async () => {
  const page = await t.app.inject({ url: `/console/people/${subjectId}`, headers: { accept: 'text/html' } });
  assert.equal(page.statusCode, 303);
  assert.match(String(page.headers.location), /^\/console\/sign-in\?next=/);
  const json = await t.app.inject({ url: '/console/people?q=x' });
  assert.equal(json.statusCode, 401);
});

test('staff find a person by phone or patient number, however it is typed', async () => {
  const staff = await t.signedIn('staff');
  for (const q of ['+44 20 7946 0555', '02079460555', 'AB-123']) {
    const res = await staff.request({ url: `/console/people?q=${encodeURIComponent(q)}` });
    assert.equal(res.statusCode, 200);
    assert.ok(res.body.includes(`/console/people/${subjectId}`), `found by ${q}`);
  }
  const none = await staff.request({ url: '/console/people?q=nobody%40example.com' });
  assert.match(none.body, /Nobody matches/);

  // Each search is in the audit trail: who searched, which kinds of identifier, how many found; never what was typed.
  const searches = (await t.audits()).filter((e) => e.action === 'subject.search');
  assert.equal(searches.length, 4);
  assert.ok(searches.every((e) => /^staff:[0-9a-f-]{36}$/.test(e.actor) && e.subjectId === null));
  assert.match(String(searches[0]!.detail.tried), /(^|,)phone(,|$)/);
  assert.equal(searches[0]!.detail.matched, 'phone');
  assert.equal(searches[0]!.detail.results, 1);
  assert.deepEqual(searches.at(-1)!.detail, { tried: 'email', matched: 'none', results: 0 });
  // What was searched for is in no event (ids and hashes are left out: a random uuid or hash may hold "7946").
  const said = searches.map(({ id: _id, fingerprint: _f, actor: _a, ...rest }) => rest);
  assert.doesNotMatch(JSON.stringify(said), /7946|0555|AB-?123|nobody|example\.com/i);
});

test('the person page groups records by purpose with basis, source, dates and retention; sealed values stay sealed', async () => {
  const staff = await t.signedIn('staff');
  const res = await staff.request({ url: `/console/people/${subjectId}` });
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /Arrange the CT or CBCT scan a dentist requests for a patient/);
  assert.match(res.body, /Legal basis: legal-obligation/);
  assert.match(res.body, /Ada Lovelace/);
  assert.match(res.body, /clinician via web/);
  assert.match(res.body, /2026-11-22/);
  assert.match(res.body, /8 years after your scan is completed.*that event has not happened yet/);
  assert.doesNotMatch(res.body, /Maxillary sinus/);
  assert.match(res.body, />sealed</);
  assert.match(res.body, /Your role cannot open them/);
  const reveal = await staff.request({ method: 'POST', url: `/console/people/${subjectId}/reveal`, form: { _csrf: await staff.csrf() } });
  assert.equal(reveal.statusCode, 403);
});

test("a child's health records show their 25th birthday as the earliest end, read from the date of birth given", async () => {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/collect/scan-request',
    payload: {
      'patient.name': 'Tom Lovelace',
      'patient.dob': '2015-06-30',
      'patient.phone': '020 7946 0556',
      'scan.type': 'CBCT (cone beam CT)',
      'scan.area': 'Lower jaw',
    },
  });
  assert.equal(res.statusCode, 201, res.body);
  const staff = await t.signedIn('staff');
  const page = await staff.request({ url: `/console/people/${res.json().subjectId}` });
  assert.match(page.body, /not before 2040-06-30, the 25th birthday; 8 years after your scan is completed/);
});

test('a DPO opens sealed values and the read is audited with the record ids', async () => {
  const dpo = await t.signedIn('dpo');
  const before = await t.db.kysely.selectFrom('audit_event').select('id').where('action', '=', 'record.read-sealed').execute();
  const res = await dpo.request({ method: 'POST', url: `/console/people/${subjectId}/reveal`, form: { _csrf: await dpo.csrf() } });
  assert.equal(res.statusCode, 200);
  assert.match(res.body, /Maxillary sinus/);
  const after = await t.db.kysely.selectFrom('audit_event').selectAll().where('action', '=', 'record.read-sealed').execute();
  assert.equal(after.length, before.length + 1);
  const event = after.at(-1)!;
  assert.equal(event.subject_id, subjectId);
  assert.equal(event.record_ids.length, 2);
  assert.match(event.actor, /^staff:/);
  assert.doesNotMatch(JSON.stringify(event), /Maxillary/);
  const withoutCsrf = await dpo.request({ method: 'POST', url: `/console/people/${subjectId}/reveal`, form: {} });
  assert.equal(withoutCsrf.statusCode, 403);
});

test('two records of one person are merged, sealed values move with them, and the merge is audited', async () => {
  const dup = await t.app.inject({
    method: 'POST',
    url: '/api/v1/collect/scan-request',
    payload: {
      'patient.name': 'Ada Lovelace',
      'patient.dob': '1985-12-10',
      'patient.phone': '020 7946 0777',
      'scan.type': 'CBCT (cone beam CT)',
      'scan.area': 'Lower jaw',
    },
  });
  const dupId = dup.json().subjectId as string;
  assert.notEqual(dupId, subjectId);
  const staff = await t.signedIn('staff');
  const res = await staff.request({ method: 'POST', url: `/console/people/${subjectId}/merge`, form: { _csrf: await staff.csrf(), from: dupId } });
  assert.equal(res.statusCode, 303, res.body);
  const dpo = await t.signedIn('dpo');
  const page = await dpo.request({ method: 'POST', url: `/console/people/${subjectId}/reveal`, form: { _csrf: await dpo.csrf() } });
  assert.match(page.body, /Lower jaw/);
  assert.match(page.body, /\+442079460777/);
  const merged = await t.db.kysely.selectFrom('subject').select('merged_into').where('id', '=', dupId).executeTakeFirstOrThrow();
  assert.equal(merged.merged_into, subjectId);
  const events = await t.db.kysely.selectFrom('audit_event').select('subject_id').where('action', '=', 'subject.merge').execute();
  assert.deepEqual(events.map((e) => e.subject_id).sort(), [dupId, subjectId].sort());
  // A search by the duplicate's phone now leads to the merged person.
  const found = await staff.request({ url: `/console/people?q=${encodeURIComponent('020 7946 0777')}` });
  assert.ok(found.body.includes(`/console/people/${subjectId}`));
});

test('an auditor reads the audit log and runs verify, but changes nothing', async () => {
  const auditor = await t.signedIn('auditor');
  const log = await auditor.request({ url: `/console/audit?subject=${subjectId}` });
  assert.equal(log.statusCode, 200);
  assert.match(log.body, /record\.create/);
  // The check runs in the background: the first answer says it is running and reloads itself until the verdict.
  const started = await auditor.request({ url: '/console/audit/verify' });
  assert.equal(started.statusCode, 200);
  assert.match(started.body, /Checking the audit trail/);
  assert.match(started.body, /<meta http-equiv="refresh" content="2">/);
  let verify = started;
  for (let i = 0; i < 100 && /Checking the audit trail/.test(verify.body); i++) {
    await new Promise((r) => setTimeout(r, 50));
    verify = await auditor.request({ url: '/console/audit/verify' });
  }
  assert.match(verify.body, /The audit trail is intact/);
  assert.doesNotMatch(verify.body, /http-equiv="refresh"/, 'done: no more reloading');
  const merge = await auditor.request({ method: 'POST', url: `/console/people/${subjectId}/merge`, form: { _csrf: await auditor.csrf(), from: subjectId } });
  assert.equal(merge.statusCode, 403);
  const people = await auditor.request({ url: `/console/people/${subjectId}` });
  assert.equal(people.statusCode, 403, 'auditors see the trail, not the personal data');
});

test('a bad filter or id is a coded 400 naming the field, never a 500, and the value is not logged', async () => {
  const lines: string[] = [];
  const logStream = new Writable({
    write(chunk, _e, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const s = await testApp('image-diagnostic-technology', { logStream });
  try {
    const dpo = await s.signedIn('dpo');
    for (const [url, field] of [
      ['/console/audit?from=2026-13-45', 'from'],
      ['/console/audit?to=yesterday', 'to'],
      ['/console/audit?subject=Jane%20Doe', 'subject'],
      ['/console/audit?action=record.gossip', 'action'],
      ['/console/people/Jane%20Doe', 'id'],
    ] as const) {
      const json = await dpo.request({ url, html: false });
      assert.equal(json.statusCode, 400, url);
      assert.match(json.json().error.code, /^invalid_(query|params)$/, url);
      assert.deepEqual(
        json.json().error.details.problems.map((p: { field: string }) => p.field),
        [field],
        url,
      );
      const page = await dpo.request({ url });
      assert.equal(page.statusCode, 400, url);
      assert.match(page.body, /<h1>That request was not valid<\/h1>/, url);
    }
    assert.equal((await dpo.request({ url: '/console/audit?from=&to=&subject=', html: false })).statusCode, 200, 'blank boxes are no filter');
    assert.doesNotMatch(lines.join(''), /2026-13-45|yesterday|Jane|gossip/);
  } finally {
    await s.close();
  }
});
