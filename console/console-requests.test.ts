// Staff work rights requests in the console: the queue soonest due first with its flags (in words, not colour alone)
// and the chart by week due, recording a letter or call, one request's page, and each step on it; refusals from the
// rules show on the page; people are linked one by one, never by a shared email alone; roles decide who does what.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Browser, hiddenFields } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';

let t: TestApp;
let dpo: Browser;
let staff: Browser;

before(async () => {
  // Monday 1 February 2027 in London (the example register is a UK controller).
  t = await testApp('image-diagnostic-technology', { now: '2027-02-01T10:00:00Z' });
  dpo = await t.signedIn('dpo');
  staff = await t.signedIn('staff');
});
after(async () => t?.close());

const text = (html: string) =>
  html
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/\s+/g, ' ');

async function requestCount(): Promise<number> {
  const r = await t.db.kysely
    .selectFrom('rights_request')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Records a request through the console form, as staff do; returns its id. */
async function record(who: Browser, fields: Record<string, string>): Promise<string> {
  const page = await who.request({ url: '/console/requests/new' });
  assert.equal(page.statusCode, 200);
  const res = await who.request({ method: 'POST', url: '/console/requests/new', form: { ...hiddenFields(page.body), ...fields } });
  assert.equal(res.statusCode, 303, text(res.body));
  const id = /^\/console\/requests\/([0-9a-f-]{36})\?done=created$/.exec(String(res.headers.location))?.[1];
  assert.ok(id, String(res.headers.location));
  return id;
}

/** Presses a step's button on the request page (its form and the session's CSRF token, as the browser sends them). */
async function step(who: Browser, id: string, action: string, fields: Record<string, string> = {}) {
  const page = await who.request({ url: `/console/requests/${id}` });
  return who.request({ method: 'POST', url: `/console/requests/${id}/${action}`, form: { _csrf: hiddenFields(page.body)._csrf ?? '', ...fields } });
}

async function stored(id: string) {
  return t.db.kysely.selectFrom('rights_request').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** A person collected through the scan-request form, with this email. */
async function person(name: string, dob: string, phone: string, email: string): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/collect/scan-request',
    payload: {
      'patient.name': name,
      'patient.dob': dob,
      'patient.phone': phone,
      'patient.email': email,
      'scan.type': 'Medical CT',
      'scan.area': 'Maxillary sinus',
    },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().subjectId;
}

describe('the queue', () => {
  let overdue: string;
  let soon: string;
  let later: string;
  let repeat: string;
  before(async () => {
    later = await record(staff, { type: 'erasure', channel: 'phone', receivedOn: '2027-01-25', email: 'lou@example.com' });
    overdue = await record(staff, { type: 'access', channel: 'post', receivedOn: '2026-12-20' });
    soon = await record(staff, { type: 'rectification', channel: 'email', receivedOn: '2027-01-05', email: 'sam@example.com' });
    repeat = await record(staff, { type: 'erasure', channel: 'email', receivedOn: '2027-01-26', email: 'LOU@example.com' });
  });

  test('lists open requests soonest due first, with overdue and due-soon said in words', async () => {
    const res = await staff.request({ url: '/console/requests' });
    assert.equal(res.statusCode, 200);
    const order = [...res.body.matchAll(/<a href="\/console\/requests\/([0-9a-f-]{36})">Open<\/a>/g)].map((m) => m[1]);
    assert.deepEqual(order, [overdue, soon, later, repeat]);
    const rows = res.body.split('<tr class="').slice(1);
    const row = (id: string) => text(rows.find((r) => r.includes(id))!);
    assert.match(row(overdue), /2027-01-20 Overdue 12 days late Access \(a copy\) Letter 2026-12-20/);
    assert.match(row(soon), /2027-02-05 Due soon 4 Rectification Email 2027-01-05/);
    assert.match(row(later), /2027-02-25 24 Erasure Phone 2027-01-25/);
    assert.match(row(repeat), /Repeat of an earlier request/);
    assert.ok(rows.find((r) => r.includes(repeat))!.includes(`href="/console/requests/${later}"`));
    assert.match(text(res.body), /4 open requests, 1 overdue , 1 due soon/);
  });

  test('draws open requests by week due as a table a screen reader can read', async () => {
    const res = await staff.request({ url: '/console/requests' });
    const chart = /<table class="chart">[\s\S]*?<\/table>/.exec(res.body)?.[0] ?? '';
    assert.match(chart, /<caption>Open requests by week due<\/caption>/);
    const weeks = [...chart.matchAll(/<th scope="row">(\d{4}-\d{2}-\d{2})[^<]*(?:<span class="meta">\(past\)<\/span>)?<\/th>\s*<td>(\d+)<\/td>/g)].map((m) => [
      m[1],
      Number(m[2]),
    ]);
    assert.deepEqual(weeks, [
      ['2027-01-18', 1],
      ['2027-01-25', 0],
      ['2027-02-01', 1],
      ['2027-02-08', 0],
      ['2027-02-15', 0],
      ['2027-02-22', 2],
    ]);
    assert.match(chart, /2027-01-18 <span class="meta">\(past\)<\/span>/);
    assert.match(chart, /<td class="bar" aria-hidden="true"><span class="" style="width: 100%"><\/span><\/td>/);
  });

  test('closed requests have their own tab', async () => {
    assert.equal((await step(dpo, later, 'close', { outcome: 'done' })).statusCode, 303);
    const open = await staff.request({ url: '/console/requests' });
    assert.ok(!open.body.includes(`<a href="/console/requests/${later}">Open</a>`));
    const closed = await staff.request({ url: '/console/requests?status=closed' });
    assert.equal(closed.statusCode, 200);
    assert.match(closed.body, /<a href="\/console\/requests\?status=closed" aria-current="page">Closed<\/a>/);
    assert.ok(closed.body.includes(`<a href="/console/requests/${later}">Open</a>`));
    assert.match(text(closed.body), /Done 2027-02-01/);
  });
});

describe('recording a request', () => {
  test('staff record a letter made for someone else; it opens on its page with every detail', async () => {
    const id = await record(staff, {
      type: 'access',
      channel: 'post',
      receivedOn: '2027-01-28',
      email: 'dee@example.com',
      name: 'Kim Parent',
      details: 'All scans since 2020',
      behalf: 'yes',
      behalfName: 'Dee Parent',
      relationship: 'parent',
      authority: 'parental responsibility, birth certificate seen',
    });
    const row = await stored(id);
    assert.equal(row.channel, 'post');
    assert.equal(row.status, 'open');
    assert.equal(row.received_on, '2027-01-28');
    assert.match(row.created_by, /^staff:[0-9a-f-]{36}$/);
    const page = await staff.request({ url: `/console/requests/${id}?done=created` });
    assert.equal(page.statusCode, 200);
    const body = text(page.body);
    assert.match(body, /The request is recorded\./);
    assert.match(body, /Received 2027-01-28 \(Letter\)/);
    assert.match(body, /Due 2027-03-01/);
    assert.match(body, /Email dee@example\.com Made for Kim Parent/);
    assert.match(body, /Made for someone else by Dee Parent \(parent\)\. Authority: parental responsibility, birth certificate seen/);
    assert.match(body, /All scans since 2020/);
    // Staff see it; only a DPO or owner acts on it.
    assert.doesNotMatch(page.body, /action="\/console\/requests\/[^"]+\/close"/);
    assert.match(body, /A DPO or an owner takes the steps of a request/);
    assert.match((await dpo.request({ url: `/console/requests/${id}` })).body, /action="\/console\/requests\/[^"]+\/close"/);
  });

  test('with its identity already checked, the check is kept', async () => {
    const id = await record(staff, {
      type: 'objection',
      channel: 'in-person',
      receivedOn: '2027-02-01',
      method: 'document-seen',
      seen: 'passport ending 1234',
    });
    const row = await stored(id);
    assert.equal(row.verification?.method, 'document-seen');
    assert.equal(row.verification?.seen, 'passport ending 1234');
  });

  test('mistakes re-show the form with each problem and store nothing', async () => {
    const before = await requestCount();
    const page = await staff.request({ url: '/console/requests/new' });
    const res = await staff.request({
      method: 'POST',
      url: '/console/requests/new',
      form: { ...hiddenFields(page.body), type: '', channel: 'web', receivedOn: '2027-02-02', email: 'nope', behalf: 'yes', details: 'kept' },
    });
    assert.equal(res.statusCode, 400);
    const problems = [...res.body.matchAll(/<li><a href="#([a-zA-Z]+)">([^<]+)<\/a><\/li>/g)].map((m) => `${m[1]}: ${m[2]}`);
    assert.deepEqual(problems, [
      'type: Choose which right the request is about',
      'channel: Choose how the request came in',
      'receivedOn: The date received cannot be in the future',
      'email: The email address is not valid',
      'behalfName: Give the name of who is asking for someone else',
      'relationship: Choose their relationship to the person',
      'authority: Say what authority they have, or showed',
    ]);
    assert.match(res.body, />kept<\/textarea>/);
    assert.equal(await requestCount(), before);
  });
});

describe('the steps on a request', () => {
  test('verify, pause and resume (UK access), extend with the date told: the deadline moves and the page says so', async () => {
    const id = await record(staff, { type: 'access', channel: 'email', receivedOn: '2027-01-11', email: 'ann@example.com' });
    assert.equal((await stored(id)).due_on, '2027-02-11');

    let res = await step(dpo, id, 'verify', { method: 'call-back', seen: 'called back on the number in her file' });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, `/console/requests/${id}?done=verify`);
    assert.match(
      text((await dpo.request({ url: String(res.headers.location) })).body),
      /The identity check is recorded\. .*Called back on a number we already held: called back on the number in her file/,
    );

    res = await step(dpo, id, 'pause', { from: '2027-01-20', justification: 'Which of her three visits does she mean?' });
    assert.equal(res.statusCode, 303);
    assert.match(text((await dpo.request({ url: `/console/requests/${id}` })).body), /2027-01-20 to now \(paused\): Which of her three visits/);
    assert.equal((await step(dpo, id, 'resume', { to: '2027-01-24' })).statusCode, 303);
    // Five paused days (both ends) added: 11 Feb → 16 Feb.
    assert.equal((await stored(id)).due_on, '2027-02-16');

    res = await step(dpo, id, 'extend', { months: '2', reason: 'Records are held at three sites', toldOn: '2027-01-24' });
    assert.equal(res.statusCode, 303);
    const page = text((await dpo.request({ url: `/console/requests/${id}` })).body);
    assert.match(page, /Extended by 2 months: Records are held at three sites\. Requester told on 2027-01-24 \(tell the requester by 2027-02-16\)/);
    assert.equal((await stored(id)).extension_months, 2);
  });

  test('proof of identity asked for: the queue says "Awaiting identity"; UK, the clock starts when the proof arrives', async () => {
    const id = await record(staff, { type: 'portability', channel: 'email', receivedOn: '2027-01-18', email: 'ivo@example.com' });
    assert.equal((await stored(id)).due_on, '2027-02-18');
    assert.equal((await step(dpo, id, 'ask-identity', { askedOn: '2027-01-18' })).statusCode, 303);
    const queue = (await staff.request({ url: '/console/requests' })).body;
    const row = queue.split('<tr class="').find((r) => r.includes(id))!;
    assert.match(text(row), /Awaiting identity/);
    assert.match(
      text((await dpo.request({ url: `/console/requests/${id}` })).body),
      /Awaiting proof of identity: the clock starts when it arrives, so this date will move/,
    );
    assert.equal((await step(dpo, id, 'verify', { method: 'document-seen', seen: 'driving licence', receivedOn: '2027-01-25' })).statusCode, 303);
    const moved = await stored(id);
    assert.equal(moved.relevant_on, '2027-01-25');
    assert.equal(moved.due_on, '2027-02-25');
  });

  test('a web request not yet confirmed by its requester says so in the queue', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { type: 'complaint', email: 'una@example.com' } });
    assert.equal(res.statusCode, 201);
    const queue = (await staff.request({ url: '/console/requests' })).body;
    const row = queue.split('<tr class="').find((r) => r.includes(res.json().id))!;
    assert.match(text(row), /Complaint Privacy centre 2027-02-01 Not yet confirmed by the requester/);
  });

  test('refusals from the rules show on the page with their status, and change nothing', async () => {
    const id = await record(staff, { type: 'erasure', channel: 'email', receivedOn: '2027-01-04', email: 'eve@example.com' });
    const before = await stored(id);
    const pause = await step(dpo, id, 'pause', { justification: 'Which records are meant here?' });
    assert.equal(pause.statusCode, 409);
    assert.match(pause.body, /<div class="error-summary" role="alert"/);
    assert.match(text(pause.body), /There is a problem only an access request can be paused for clarification/);
    // The page still offers every step, with what was typed.
    assert.match(pause.body, /action="\/console\/requests\/[^"]+\/close"/);

    const late = await step(dpo, id, 'extend', { months: '1', reason: 'Several systems to search', toldOn: '2027-02-05' });
    assert.equal(late.statusCode, 400);
    assert.match(text(late.body), /the date the requester was told is in the future/);
    assert.match(late.body, />Several systems to search<\/textarea>/);

    const refused = await step(dpo, id, 'close', { outcome: 'refused', reasons: '' });
    assert.equal(refused.statusCode, 400);
    assert.match(text(refused.body), /a refusal needs its reasons/);

    const nobody = await step(dpo, id, 'link', { subject: '00000000-0000-4000-8000-000000000000' });
    assert.equal(nobody.statusCode, 404);
    assert.match(text(nobody.body), /no such person/);
    assert.deepEqual(await stored(id), before);

    const missing = await step(dpo, '00000000-0000-4000-8000-000000000000', 'verify', { method: 'call-back' });
    assert.equal(missing.statusCode, 404);
  });

  test("people sharing the requester's email are suggestions, linked one by one; closing records the outcome and reasons", async () => {
    const ada = await person('Ada Lovelace', '1985-12-10', '020 7946 0555', 'family@example.com');
    const byron = await person('Byron Lovelace', '2012-03-01', '020 7946 0777', 'family@example.com');
    const id = await record(staff, { type: 'access', channel: 'email', receivedOn: '2027-01-29', email: 'family@example.com', name: 'Ada Lovelace' });
    const page = await dpo.request({ url: `/console/requests/${id}` });
    assert.match(text(page.body), /Nobody linked yet/);
    assert.match(page.body, new RegExp(`href="/console/requests/${id}\\?find=1"`));

    const found = await dpo.request({ url: `/console/requests/${id}?find=1` });
    const body = text(found.body);
    assert.match(body, /A shared email is not an identity/);
    for (const s of [ada, byron]) assert.ok(found.body.includes(`<input type="hidden" name="subject" value="${s}">`), s);
    assert.deepEqual((await stored(id)).status, 'open');
    // The look-up is a people search like any other: in the trail, by whom, never with the address.
    const search = (await t.audits()).filter((e) => e.action === 'subject.search').at(-1)!;
    assert.match(search.actor, /^staff:/);
    assert.doesNotMatch(JSON.stringify(search), /family@/);
    assert.equal(
      (await t.db.kysely.selectFrom('rights_request_subject').selectAll().where('request_id', '=', id).execute()).length,
      0,
      'nobody linked by the search',
    );

    const csrf = hiddenFields(found.body)._csrf!;
    const res = await dpo.request({ method: 'POST', url: `/console/requests/${id}/link`, form: { _csrf: csrf, subject: ada } });
    assert.equal(res.statusCode, 303);
    const linked = await dpo.request({ url: `/console/requests/${id}?find=1` });
    assert.ok(linked.body.includes(`<li><a href="/console/people/${ada}"><code>${ada}</code></a></li>`));
    assert.ok(!linked.body.includes(`name="subject" value="${ada}"`), 'a linked person is no longer suggested');
    assert.ok(linked.body.includes(`name="subject" value="${byron}"`));

    const closed = await step(dpo, id, 'close', { outcome: 'partly-done', reasons: 'third-party-data, legal-claims' });
    assert.equal(closed.statusCode, 303);
    const row = await stored(id);
    assert.equal(row.status, 'completed');
    assert.equal(row.outcome, 'partly-done');
    assert.deepEqual(row.outcome_reasons, ['third-party-data', 'legal-claims']);
    const after = text((await dpo.request({ url: `/console/requests/${id}` })).body);
    assert.match(after, /State Completed: Partly done/);
    assert.match(after, /reasons: third-party-data legal-claims/);
    const again = await step(dpo, id, 'verify', { method: 'call-back' });
    assert.equal(again.statusCode, 409);
  });
});

describe('who may do what', () => {
  test('staff see and record but take no step; auditors see nothing; every post needs the CSRF token', async () => {
    const id = await record(staff, { type: 'restriction', channel: 'phone', receivedOn: '2027-02-01' });
    const csrf = hiddenFields((await staff.request({ url: `/console/requests/${id}` })).body)._csrf!;
    const verify = await staff.request({ method: 'POST', url: `/console/requests/${id}/verify`, form: { _csrf: csrf, method: 'call-back' } });
    assert.equal(verify.statusCode, 403);
    assert.equal((await stored(id)).verification, null);

    const auditor = await t.signedIn('auditor');
    for (const url of ['/console/requests', '/console/requests/new', `/console/requests/${id}`])
      assert.equal((await auditor.request({ url })).statusCode, 403, url);

    const noToken = await dpo.request({ method: 'POST', url: `/console/requests/${id}/verify`, form: { method: 'call-back' } });
    assert.equal(noToken.statusCode, 403);
    assert.equal((await stored(id)).verification, null);

    const anonymous = await t.app.inject({ url: '/console/requests', headers: { accept: 'text/html' } });
    assert.equal(anonymous.statusCode, 303);
  });

  test('the navigation and the dashboard lead to the queue for those who may see it', async () => {
    const nav = (await staff.request({ url: '/console' })).body;
    assert.match(nav, /<li><a href="\/console\/requests">Rights requests<\/a><\/li>/);
    const auditor = await t.signedIn('auditor');
    assert.doesNotMatch((await auditor.request({ url: '/console' })).body, /\/console\/requests/);
  });
});
