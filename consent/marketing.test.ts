// Marketing preferences that are honoured: a form's objection box stops that marketing at once and suppresses the
// person's contact points on its channels; email consent from a public form counts only once confirmed; the
// suppression list (keyed hashes) outlives the person's erasure.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { subjectPeople } from '../subjects/people.ts';
import { contactHash, mayMarket as mayMarketOf, suppressRefusedMarketing } from './marketing.ts';
import { clinicianRegistration } from '../test/helpers/clinician-registration.ts';

const mayMarket = (deps: Parameters<typeof mayMarketOf>[0], input: Parameters<typeof mayMarketOf>[2]) => mayMarketOf(deps, subjectPeople, input);

let idt: TestApp;
let it: TestApp;
before(async () => {
  idt = await testApp('image-diagnostic-technology');
  it = await testApp('i-image-it');
});
after(async () => {
  await idt?.close();
  await it?.close();
});

const clinician = clinicianRegistration;

test('the scan-referral form: "no news" ticked records an objection and stops the product news on every channel at once', async () => {
  const ticked = await idt.app.inject({ method: 'POST', url: '/api/v1/collect/clinician-registration', payload: clinician(1, true) });
  assert.equal(ticked.statusCode, 201, ticked.body);
  const { subjectId } = ticked.json() as { subjectId: string };
  const { rows } = await sql<{ state: string; purpose: string; context: string }>`
    SELECT state, purpose, context FROM consent_event WHERE subject_id = ${subjectId}`.execute(idt.db.kysely);
  assert.deepEqual(rows, [{ state: 'objected', purpose: 'product-news', context: 'field:no-news' }]);
  for (const channel of ['email', 'post'])
    assert.deepEqual(await mayMarket(idt.ctx, { subjectId, purpose: 'product-news', channel }), { allowed: false, reason: 'objected' });

  const unticked = (await idt.app.inject({ method: 'POST', url: '/api/v1/collect/clinician-registration', payload: clinician(2, false) })).json() as {
    subjectId: string;
  };
  assert.deepEqual(await mayMarket(idt.ctx, { subjectId: unticked.subjectId, purpose: 'product-news', channel: 'email' }), {
    allowed: true,
    reason: 'soft-opt-in',
  });
  assert.deepEqual(await mayMarket(idt.ctx, { subjectId: unticked.subjectId, purpose: 'product-news', channel: 'sms' }), {
    allowed: false,
    reason: 'channel-not-declared',
  });
  // The current state says so too.
  const state = (await idt.app.inject({ url: `/api/v1/consent/${subjectId}` })).json();
  assert.equal(state.purposes['product-news'].state, 'objected');
});

test('the IT firm: "no post" objects to post only; email consent ticked on the public form waits for confirmation from the mailbox', async () => {
  const res = await it.app.inject({
    method: 'POST',
    url: '/api/v1/collect/contact-form',
    payload: {
      name: 'Ann Example',
      email: 'ann@example.com',
      message: 'Please call',
      'marketing.email': true,
      'marketing.phone': true,
      'marketing.no-post': true,
    },
  });
  assert.equal(res.statusCode, 201, res.body);
  const { subjectId } = res.json() as { subjectId: string };
  assert.deepEqual(await mayMarket(it.ctx, { subjectId, purpose: 'marketing-post', channel: 'post' }), { allowed: false, reason: 'objected' });
  assert.deepEqual(await mayMarket(it.ctx, { subjectId, purpose: 'marketing-consent', channel: 'email' }), { allowed: false, reason: 'consent-unconfirmed' });
  assert.deepEqual(await mayMarket(it.ctx, { subjectId, purpose: 'marketing-consent', channel: 'phone' }), { allowed: true, reason: 'consent' });
  assert.deepEqual(await mayMarket(it.ctx, { subjectId, purpose: 'marketing-consent', channel: 'sms' }), { allowed: false, reason: 'no-consent' });
});

test('the suppression list: an objector stays suppressed after erasure; a new submission with the same address is never marketed to', async () => {
  const first = (await idt.app.inject({ method: 'POST', url: '/api/v1/collect/clinician-registration', payload: clinician(3, true) })).json() as {
    subjectId: string;
  };
  const added = await idt.db.kysely
    .transaction()
    .execute((trx) => suppressRefusedMarketing(idt.ctx, subjectPeople, trx, { subjectId: first.subjectId, reason: 'erased', actor: 'system:test' }));
  assert.equal(added, 2, 'email and phone, every channel');
  // The list holds keyed hashes only: no address, no subject. The "no news" box put the address on it for the product
  // news' channels (email, post) already; the erasure adds every channel.
  const { rows } = await sql<{ hash: Uint8Array; channel: string; reason: string }>`SELECT hash, channel, reason FROM marketing_suppression`.execute(
    idt.db.kysely,
  );
  const emailHash = await contactHash(idt.ctx, idt.db.kysely, 'email', 'clinician3@practice.example');
  assert.deepEqual(
    rows
      .filter((r) => Buffer.from(r.hash).equals(emailHash))
      .map((r) => `${r.channel}:${r.reason}`)
      .sort(),
    ['*:erased', 'email:objected', 'post:objected'],
  );
  assert.deepEqual(Object.keys(rows[0]!).sort(), ['channel', 'hash', 'reason']);
  assert.ok(!JSON.stringify(rows).includes('clinician3'));
  // Rows cannot be taken off the list.
  await assert.rejects(sql`DELETE FROM marketing_suppression`.execute(idt.db.kysely));
  // Someone new with the same address, who did not object: still never contacted.
  const again = (
    await idt.app.inject({ method: 'POST', url: '/api/v1/collect/clinician-registration', payload: { ...clinician(3, false), phone: '+44 1392 999999' } })
  ).json() as {
    subjectId: string;
  };
  assert.deepEqual(await mayMarket(idt.ctx, { subjectId: again.subjectId, purpose: 'product-news', channel: 'post' }), {
    allowed: false,
    reason: 'suppressed',
  });
  const audit = (await idt.audits()).filter((e) => e.action === 'marketing.suppress' && e.subjectId === first.subjectId);
  assert.deepEqual(audit.map((e) => e.detail.reason).sort(), ['erased', 'objected']);
  assert.ok(!JSON.stringify(audit).includes('clinician3'));
});

test('`check` holds an objection box to a boolean bound to a marketing purpose of its form and a channel that purpose declares', async () => {
  const { readFileSync } = await import('node:fs');
  const { parseRegister } = await import('../register/load-register.ts');
  const yaml = readFileSync(new URL('../examples/image-diagnostic-technology/register.yaml', import.meta.url), 'utf8');
  const problems = (text: string) => {
    const r = parseRegister(text);
    return r.ok ? [] : r.problems.map((p) => `${p.path.join('.')}: ${p.message}`);
  };
  assert.deepEqual(problems(yaml), []);
  const noNews = '        objects: product-news\n';
  assert.ok(yaml.includes(noNews));
  assert.match(problems(yaml.replace(noNews, '        objects: registration\n')).join('\n'), /no-news\.objects: "registration" is not direct marketing/);
  assert.match(
    problems(yaml.replace(noNews, `${noNews}        channel: sms\n`)).join('\n'),
    /no-news\.channel: "product-news" does not declare the sms channel/,
  );
  assert.match(problems(yaml.replace(noNews, `${noNews}        required: true\n`)).join('\n'), /no-news\.required: an objection checkbox cannot be required/);
});
