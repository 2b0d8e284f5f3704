// A DPO fulfils each kind of request from its console page, through the same services as the staff API: each type
// gets its own forms and no other's; each step is a post with the CSRF token, after which the page says what was
// done; refusals from the rules show on the page with what was typed; staff see the request but cannot fulfil it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { parseRegister } from '../register/load-register.ts';
import { scanRequest } from '../test/helpers/scan-request.ts';
import { type Browser, hiddenFields } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';

let t: TestApp;
let dpo: Browser;
let staff: Browser;

// The scan-referral example, with an address for Art. 19 notices to the imaging centres.
const yaml = readFileSync(new URL('../examples/image-diagnostic-technology/register.yaml', import.meta.url), 'utf8').replace(
  /( {2}imaging-centres:\n {4}title: [^\n]+\n)/,
  '$1    notify: { email: records@imaging-centre.example }\n',
);

before(async () => {
  const loaded = parseRegister(yaml);
  assert.ok(loaded.ok, 'fixture register is valid');
  // Monday 1 February 2027 in London.
  t = await testApp('image-diagnostic-technology', { now: '2027-02-01T10:00:00Z', register: loaded.register });
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

const FULFIL = new Set([
  'health-opinion',
  'preview',
  'answer',
  'erase',
  'rectify',
  'restrict',
  'lift-restriction',
  'object',
  'withdraw-consent',
  'acknowledge',
]);
/** The fulfilment steps a page offers (by the forms' actions). */
const offered = (html: string) =>
  [...new Set([...html.matchAll(/action="\/console\/requests\/[0-9a-f-]{36}\/([a-z-]+)(?:#[a-z-]+)?"/g)].map((m) => m[1]!))]
    .filter((a) => FULFIL.has(a))
    .sort();

/** A request recorded through the console, its identity checked; linked to `subject` when given. */
async function request(type: string, email: string, subject?: string): Promise<string> {
  const page = await staff.request({ url: '/console/requests/new' });
  const res = await staff.request({
    method: 'POST',
    url: '/console/requests/new',
    form: { ...hiddenFields(page.body), type, channel: 'email', receivedOn: '2027-02-01', email, method: 'document-seen', seen: 'passport' },
  });
  assert.equal(res.statusCode, 303, text(res.body));
  const id = /\/console\/requests\/([0-9a-f-]{36})/.exec(String(res.headers.location))![1]!;
  if (subject) assert.equal((await step(dpo, id, 'link', { subject })).statusCode, 303);
  return id;
}

/** Presses a button on the request page: its form's fields and the session's CSRF token, as a browser sends them. */
async function step(who: Browser, id: string, action: string, fields: Record<string, string> = {}) {
  const page = await who.request({ url: `/console/requests/${id}` });
  return who.request({ method: 'POST', url: `/console/requests/${id}/${action}`, form: { _csrf: hiddenFields(page.body)._csrf ?? '', ...fields } });
}

/** After a step: the page it leads to. */
async function follow(who: Browser, res: { statusCode: number; headers: Record<string, unknown>; body: string }) {
  assert.equal(res.statusCode, 303, text(res.body));
  const page = await who.request({ url: String(res.headers.location) });
  assert.equal(page.statusCode, 200);
  return page.body;
}

async function patient(n: number): Promise<{ subjectId: string; recordIds: string[] }> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('console', n, `Area ${n}`) });
  assert.equal(res.statusCode, 201, res.body);
  return res.json();
}

async function enquirer(n: number, marketing: boolean): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/collect/enquiry-form',
    payload: { name: `Enquirer ${n}`, email: `e${n}.console@example.com`, message: `Question number ${n}`, ...(marketing ? { marketing: 'true' } : {}) },
  });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().subjectId;
}

async function stored(id: string) {
  return t.db.kysely.selectFrom('rights_request').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** The record ids a form on the page names per field (`name="<prefix><id>"` with its label). */
function recordsOnPage(html: string, prefix: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of html.matchAll(new RegExp(`name="${prefix}([0-9a-f-]{36})"[^>]*>(?:</td><td>)?<label for="${prefix}[0-9a-f-]{36}">([^<]+)</label>`, 'g')))
    out.set(m[2]!, m[1]!);
  return out;
}

describe('each type offers its own forms, and only to those who may fulfil it', () => {
  test('the forms per type', async () => {
    const p = await patient(1);
    const expected: Record<string, string[]> = {
      access: ['answer', 'health-opinion', 'preview'],
      portability: ['answer', 'health-opinion', 'preview'],
      erasure: ['erase'],
      rectification: ['rectify'],
      restriction: ['restrict'],
      objection: ['object'],
      'withdraw-consent': ['withdraw-consent'],
      complaint: ['acknowledge'],
    };
    for (const [type, actions] of Object.entries(expected)) {
      const id = await request(type, `forms.${type}@example.com`, type === 'complaint' ? undefined : p.subjectId);
      const page = await dpo.request({ url: `/console/requests/${id}` });
      assert.deepEqual(offered(page.body), actions, type);
      assert.ok(page.body.includes(`href="/api/v1/staff/requests/${id}/evidence"`), `${type}: the evidence link`);
      const seen = await staff.request({ url: `/console/requests/${id}` });
      assert.deepEqual(offered(seen.body), [], `${type}: staff are offered nothing`);
      assert.ok(!seen.body.includes('/evidence"'), `${type}: staff do not get the evidence link`);
    }
  });

  test('staff cannot fulfil (403), and nothing changes', async () => {
    const p = await patient(2);
    const id = await request('erasure', 'guard@example.com', p.subjectId);
    for (const action of [...FULFIL, 'notice']) {
      const res = await step(staff, id, action, { keepReason: 'dispute', state: 'done' });
      assert.equal(res.statusCode, 403, action);
    }
    assert.equal((await stored(id)).status, 'open');
    const live = await t.db.kysely.selectFrom('record').select('state').where('subject_id', '=', p.subjectId).execute();
    assert.ok(live.every((r) => r.state === 'active'));
  });
});

describe('access', () => {
  test('nobody linked: the preview and issuing are refused on the page', async () => {
    const id = await request('access', 'nobody.access@example.com');
    const preview = await step(dpo, id, 'preview');
    assert.equal(preview.statusCode, 409);
    assert.match(text(preview.body), /There is a problem link the people this request is about first/);
    assert.match(preview.body, /<a href="#preview-form">/);
    const issue = await step(dpo, id, 'answer');
    assert.equal(issue.statusCode, 409);
    assert.equal((await stored(id)).status, 'open');
  });

  test('the opinion, a preview that marks what is held back and is audited, then the answer issued by email', async () => {
    const p = await patient(3);
    const id = await request('access', 'p3.access@example.com', p.subjectId);
    const page = text((await dpo.request({ url: `/console/requests/${id}` })).body);
    assert.match(page, /UK DPA 2018 Sch\. 3 Part 2/);
    assert.match(page, /No opinion recorded/);
    assert.match(page, /Preview the answer \(opens sealed values; recorded in the audit log\)/);

    // Before the opinion: the clinical records are held back, and the preview says so.
    const sealedReads = async () => (await t.audits()).filter((e) => e.action === 'record.read-sealed' && e.subjectId === p.subjectId);
    assert.equal((await sealedReads()).length, 0);
    const preview = await step(dpo, id, 'preview');
    assert.equal(preview.statusCode, 200);
    assert.equal(preview.headers['cache-control'], 'no-store');
    const shown = text(preview.body);
    assert.match(shown, /Preview of the answer/);
    assert.match(shown, /Patient 3/);
    assert.match(shown, /Held back : held back: no health professional's opinion/);
    assert.ok(!shown.includes('Area 3'), 'a held-back value is not shown');
    assert.match(shown, /Information Commissioner/);
    const opened = await sealedReads();
    assert.ok(opened.length > 0 && opened.every((e) => /^staff:/.test(e.actor)), 'the opening is audited, by whom');

    // A mistake is shown with what was typed.
    const bad = await step(dpo, id, 'health-opinion', { professional: 'Dr', givenOn: '2027-01-30', decision: 'release' });
    assert.equal(bad.statusCode, 400);
    assert.match(text(bad.body), /name the health professional/);
    assert.match(bad.body, /id="professional" name="professional" maxlength="200" value="Dr"/);

    const opinion = await follow(
      dpo,
      await step(dpo, id, 'health-opinion', { professional: 'Dr A. Jones, consultant radiologist', givenOn: '2027-01-30', decision: 'release' }),
    );
    assert.match(text(opinion), /The health professional's opinion is recorded\./);
    assert.match(text(opinion), /Recorded: Dr A\. Jones, consultant radiologist , given on 2027-01-30: release/);
    assert.match(text((await step(dpo, id, 'preview')).body), /Area 3/);

    const issued = text(await follow(dpo, await step(dpo, id, 'answer')));
    assert.match(issued, /The answer is issued: the requester is emailed a link to it, and the request is closed\./);
    assert.match(
      issued,
      /Issued on 2027-02-01: \d+ records disclosed, 0 held back\. The link to it was emailed to p3\.access@example\.com and works until 2027-03-03/,
    );
    assert.match(issued, /State Completed: Done/);
    assert.match(issued, /What was decided per record .*patient\.name \([^)]+\) Disclosed/);
    assert.equal((await stored(id)).status, 'completed');
    const mail = await t.db.kysely.selectFrom('mail_outbox').selectAll().where('request_id', '=', id).execute();
    assert.equal(mail.length, 1);
    assert.deepEqual(offered((await dpo.request({ url: `/console/requests/${id}` })).body), [], 'nothing more to do once issued');
  });
});

describe('erasure', () => {
  test('nobody linked: refused on the page', async () => {
    const id = await request('erasure', 'nobody.erase@example.com');
    const res = await step(dpo, id, 'erase');
    assert.equal(res.statusCode, 409);
    assert.match(text(res.body), /link the people this request is about first/);
    assert.match(res.body, /<a href="#erase-form">/);
  });

  test('a record ticked is kept for a dispute; the page says what was erased, what was kept and why, and until when', async () => {
    const p = await patient(4);
    const id = await request('erasure', 'p4.erase@example.com', p.subjectId);
    const page = await dpo.request({ url: `/console/requests/${id}` });
    const boxes = recordsOnPage(page.body, 'keep-');
    assert.equal(boxes.size, p.recordIds.length, 'one checkbox per live record');
    const phone = boxes.get('patient.phone')!;
    assert.ok(phone);
    const body = text(await follow(dpo, await step(dpo, id, 'erase', { [`keep-${phone}`]: '1', keepReason: 'dispute' })));
    assert.match(body, /The erasure is done and the request closed\./);
    assert.match(body, /0 records erased ; 7 kept and restricted/);
    assert.match(body, /patient\.phone \([^)]+\) kept for a dispute in progress/);
    assert.match(body, /a healthcare record the law requires us to keep/);
    assert.match(body, /kept as evidence of how it was handled until 2033-02-01/);
    assert.match(body, /What was decided per record/);
    const kept = await t.db.kysely.selectFrom('record').select('state').where('id', '=', phone).executeTakeFirstOrThrow();
    assert.equal(kept.state, 'restricted');
  });

  test('an enquirer with nothing kept: everything erased, nothing kept', async () => {
    const e = await enquirer(9, false);
    const id = await request('erasure', 'e9.console@example.com', e);
    const body = text(await follow(dpo, await step(dpo, id, 'erase')));
    assert.match(body, /State Completed: Done/);
    assert.match(body, /[1-9]\d* records? erased ; nothing kept\./);
    assert.doesNotMatch(body, /Kept, and why/);
    const records = await t.db.kysely.selectFrom('record').select(['state', 'value_text']).where('subject_id', '=', e).execute();
    assert.ok(records.every((r) => r.state === 'erased' && r.value_text === null));
  });
});

describe('rectification, and the Art. 19 notices it sends', () => {
  test('a value corrected from the page; the imaging centre it went to is told; the notice is marked done', async () => {
    const p = await patient(5);
    const disclosed = await dpo.request({
      method: 'POST',
      url: '/api/v1/staff/disclosures',
      html: false,
      json: { subject: p.subjectId, recipient: 'imaging-centres', purpose: 'provide-scan' },
      headers: { 'x-csrf-token': await dpo.csrf() },
    });
    assert.equal(disclosed.statusCode, 201, disclosed.body);
    const id = await request('rectification', 'p5.rectify@example.com', p.subjectId);
    const page = await dpo.request({ url: `/console/requests/${id}` });
    const name =
      /<input type="hidden" name="record" value="([0-9a-f-]{36})">\s*<label for="value-\1" class="visually-hidden">Corrected value for patient\.name</.exec(
        page.body,
      )?.[1];
    assert.ok(name, 'a field per record');

    const empty = await step(dpo, id, 'rectify', { record: name, [`value-${name}`]: '  ' });
    assert.equal(empty.statusCode, 400);
    assert.match(text(empty.body), /the corrected value must be 1 to 5000 characters/);

    const after = await follow(dpo, await step(dpo, id, 'rectify', { record: name, [`value-${name}`]: 'Patricia Five' }));
    const body = text(after);
    assert.match(body, /The record is corrected\./);
    assert.match(body, /Patricia Five \(corrected\)/);
    assert.match(
      body,
      /Recipients told of the change \(Art\. 19\) .*Imaging centre staff and radiographers who carry out the scan Corrected 1 Sent, waiting for them to confirm/,
    );

    const notice = /<input type="hidden" name="notice" value="([0-9a-f-]{36})">/.exec(after)![1]!;
    const noReason = await step(dpo, id, 'notice', { notice, state: 'impossible', reason: '' });
    assert.equal(noReason.statusCode, 400);
    assert.match(text(noReason.body), /say why telling this recipient is impossible/);
    assert.match(noReason.body, /<a href="#notice-form">/);
    const done = text(await follow(dpo, await step(dpo, id, 'notice', { notice, state: 'done' })));
    assert.match(done, /The notice is recorded\./);
    assert.match(done, /Imaging centre staff and radiographers who carry out the scan Corrected 1 Done/);
  });
});

describe('restriction', () => {
  test('restrict chosen or all records, then lift with the reason the person is told', async () => {
    const p = await patient(6);
    const id = await request('restriction', 'p6.restrict@example.com', p.subjectId);
    const none = await step(dpo, id, 'restrict', { which: 'chosen' });
    assert.equal(none.statusCode, 400);
    assert.match(text(none.body), /tick the records to restrict/);
    assert.match(none.body, /id="which-chosen" name="which" value="chosen" checked/);

    const page = await dpo.request({ url: `/console/requests/${id}` });
    const one = recordsOnPage(page.body, 'record-').get('patient.email')!;
    let body = text(await follow(dpo, await step(dpo, id, 'restrict', { which: 'chosen', [`record-${one}`]: '1' })));
    assert.match(body, /1 record restricted: stored only, never disclosed\./);
    body = text(await follow(dpo, await step(dpo, id, 'restrict', { which: 'all' })));
    assert.match(body, new RegExp(`${p.recordIds.length - 1} records restricted`));
    assert.match(body, new RegExp(`${p.recordIds.length} records are restricted for this request`));

    const short = await step(dpo, id, 'lift-restriction', { liftReason: 'checked' });
    assert.equal(short.statusCode, 400);
    assert.match(text(short.body), /say why the restriction is lifted/);
    assert.match(short.body, />checked<\/textarea>/);
    body = text(await follow(dpo, await step(dpo, id, 'lift-restriction', { liftReason: 'Your dentist has confirmed the details are accurate.' })));
    assert.match(body, new RegExp(`The person was emailed why, first; ${p.recordIds.length} records no longer restricted\\.`));
    const told = await t.db.kysely.selectFrom('mail_outbox').selectAll().where('request_id', '=', id).execute();
    assert.equal(told.length, 1);
  });
});

describe('objection and withdrawal of consent', () => {
  test('compelling grounds per legitimate-interest purpose; never for direct marketing', async () => {
    const a = await enquirer(1, false);
    const id = await request('objection', 'e1.console@example.com', a);
    const page = await dpo.request({ url: `/console/requests/${id}` });
    assert.match(text(page.body), /Direct marketing: an objection to it is absolute, so no compelling grounds can be recorded/);
    assert.match(page.body, /name="grounds-enquiries"/);
    assert.doesNotMatch(page.body, /name="grounds-product-news"/);

    // Grounds for marketing (not offered, but sent) are refused by the rules, shown with what was typed.
    const refused = await step(dpo, id, 'object', { 'object-product-news': '1', 'grounds-product-news': 'We would like to keep sending it' });
    assert.equal(refused.statusCode, 409);
    assert.match(text(refused.body), /is direct marketing: an objection to it is absolute/);

    const nothing = await step(dpo, id, 'object', { 'grounds-enquiries': 'unticked' });
    assert.equal(nothing.statusCode, 400);
    assert.match(text(nothing.body), /tick at least one purpose/);
    assert.match(nothing.body, />unticked<\/textarea>/);

    const body = text(
      await follow(
        dpo,
        await step(dpo, id, 'object', {
          'object-enquiries': '1',
          'object-product-news': '1',
          'grounds-enquiries': 'An open warranty claim about this enquiry',
        }),
      ),
    );
    assert.match(body, /Stopped: [^(]+\(0 records held for nothing else erased\)\./);
    assert.match(body, /Goes on, on the compelling grounds recorded: [^.]+\./);
    const records = await t.db.kysely.selectFrom('record').select('state').where('subject_id', '=', a).execute();
    assert.ok(records.every((r) => r.state === 'active'));
  });

  test('withdrawal: every consent given is withdrawn; nobody linked is refused', async () => {
    const lone = await request('withdraw-consent', 'nobody.withdraw@example.com');
    const refused = await step(dpo, lone, 'withdraw-consent');
    assert.equal(refused.statusCode, 409);
    assert.match(text(refused.body), /link the people this request is about first/);

    const c = await enquirer(2, true);
    const id = await request('withdraw-consent', 'e2.console@example.com', c);
    const body = text(await follow(dpo, await step(dpo, id, 'withdraw-consent')));
    assert.match(body, /1 consent withdrawn; 0 records held for nothing else erased\./);
    const ledger = await t.db.kysely.selectFrom('consent_event').select('state').where('subject_id', '=', c).orderBy('at').execute();
    // Ticked on the public form, the email consent was still awaiting confirmation from the mailbox: withdrawn all the same.
    assert.deepEqual(
      ledger.map((e) => e.state),
      ['pending', 'withdrawn'],
    );
  });
});

describe('complaint', () => {
  test('acknowledged from the page, with the date it is due by', async () => {
    const id = await request('complaint', 'unhappy.console@example.com');
    const page = text((await dpo.request({ url: `/console/requests/${id}` })).body);
    assert.match(page, /Not acknowledged yet\. Acknowledge it by 2027-03-02/);
    const body = text(await follow(dpo, await step(dpo, id, 'acknowledge')));
    assert.match(body, /The complaint is acknowledged/);
    assert.match(body, /Acknowledged on 2027-02-01 \(due by 2027-03-02\)/);
    const again = await step(dpo, id, 'acknowledge');
    assert.equal(again.statusCode, 409);
    assert.match(text(again.body), /acknowledged on 2027-02-01/);
  });
});
