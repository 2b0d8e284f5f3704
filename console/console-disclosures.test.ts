// Console: staff record a disclosure on the person's page; only the register's recipient-purpose pairs are offered,
// a refusal of the ledger (a restricted record, a person erased) shows on the page and records nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { scanRequest } from '../test/helpers/scan-request.ts';
import { type Browser, hiddenFields } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';

let t: TestApp;
let staff: Browser;
before(async () => {
  t = await testApp();
  staff = await t.signedIn('staff');
});
after(async () => t?.close());

const count = async () =>
  Number(
    (
      await t.db.kysely
        .selectFrom('disclosure')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

test('a disclosure recorded from the console is listed there, audited, and only register pairs are offered', async () => {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('console-disclose', 1) });
  const subjectId = res.json().subjectId as string;
  const person = await staff.request({ url: `/console/people/${subjectId}` });
  assert.match(person.body, new RegExp(`/console/people/${subjectId}/disclose`));
  const page = await staff.request({ url: `/console/people/${subjectId}/disclose` });
  assert.equal(page.statusCode, 200);
  assert.match(page.body, /<option value="provide-scan\|imaging-centres">/);
  assert.doesNotMatch(page.body, /provide-scan\|paypal/, 'a recipient the purpose does not name is not offered');
  const sent = await staff.request({
    method: 'POST',
    url: `/console/people/${subjectId}/disclose`,
    form: { ...hiddenFields(page.body), choice: 'provide-scan|imaging-centres', on: '2026-11-20', reference: 'ORDER-7' },
  });
  assert.equal(sent.statusCode, 303, sent.body.slice(0, 300));
  const listed = await staff.request({ url: String(sent.headers.location) });
  assert.match(listed.body, /Recorded\./);
  assert.match(listed.body, /2026-11-20/);
  assert.match(listed.body, /ORDER-7/);
  assert.equal(await count(), 1);
  assert.ok((await t.audits()).some((e) => e.action === 'disclosure' && e.subjectId === subjectId));

  const forged = await staff.request({
    method: 'POST',
    url: `/console/people/${subjectId}/disclose`,
    form: { ...hiddenFields(page.body), choice: 'provide-scan|paypal' },
  });
  assert.equal(forged.statusCode, 400);
  assert.match(forged.body, /choose the recipient and purpose/);
  assert.equal(await count(), 1);
});

test('a refusal from the ledger shows on the page: an auditor cannot record at all', async () => {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('console-disclose', 2) });
  const auditor = await t.signedIn('auditor');
  assert.equal((await auditor.request({ url: `/console/people/${res.json().subjectId}/disclose` })).statusCode, 403);
  const page = await staff.request({ url: `/console/people/00000000-0000-4000-8000-000000000000/disclose` });
  const none = await staff.request({
    method: 'POST',
    url: '/console/people/00000000-0000-4000-8000-000000000000/disclose',
    form: { ...hiddenFields(page.body), choice: 'provide-scan|imaging-centres' },
  });
  assert.equal(none.statusCode, 404);
  assert.match(none.body, /no such person/);
});
