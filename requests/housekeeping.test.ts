// The queue's housekeeping at fixed dates: unconfirmed requests expire with their link, staff get a digest of what is
// due soon or overdue (nothing about the requester in it), a closed request's record of who asked goes when its
// evidence period ends, and the evidence of a closed request is tied to a signed checkpoint of the trail.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FileWitness } from '../audit/witness.ts';
import type { Browser } from '../test/helpers/staff-client.ts';
import { testApp, type TestApp } from '../test/helpers/test-app.ts';
import { expireUnconfirmed, purgeClosedRequestContacts, remindStaff } from './housekeeping.ts';
import { confirmRequest } from './request-service.ts';
import { staffApi } from '../test/helpers/staff-api.ts';

let t: TestApp;
let dpo: Browser;
const dir = mkdtempSync(join(tmpdir(), 'custodian-requests-witness-'));

before(async () => {
  t = await testApp('image-diagnostic-technology', { now: '2027-02-01T10:00:00Z', witness: new FileWitness(join(dir, 'witness.jsonl')) });
  dpo = await t.signedIn('dpo');
});
after(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

const call = (method: 'GET' | 'POST', url: string, json?: unknown) => staffApi(dpo, method, url, json);

async function held(): Promise<{ to: string; subjectLine: string; text: string }[]> {
  const rows = await t.db.kysely.selectFrom('mail_outbox').select(['to_address', 'subject_line', 'body_text']).orderBy('created_at').execute();
  return rows.map((r) => ({ to: r.to_address ?? '', subjectLine: r.subject_line ?? '', text: r.body_text ?? '' }));
}

test('an unconfirmed web request expires with its link: closed as expired, the address deleted, the link dead', async () => {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/requests', payload: { type: 'access', email: 'late@example.com', name: 'Late Larry' } });
  assert.equal(res.statusCode, 201);
  const token = /token=([A-Za-z0-9_-]{43})/.exec((await held()).at(-1)!.text)![1]!;
  t.clock.set('2027-02-14T10:00:00Z');
  assert.equal(await expireUnconfirmed(t.ctx), 0, 'the link still works on day 13');
  t.clock.set('2027-02-16T10:00:00Z');
  assert.equal(await expireUnconfirmed(t.ctx), 1);
  const row = await t.db.kysely.selectFrom('rights_request').selectAll().where('id', '=', res.json().id).executeTakeFirstOrThrow();
  assert.equal(row.status, 'expired');
  assert.equal(row.contact_email, null);
  assert.equal(row.contact_name, null);
  assert.equal(row.email_hash, null);
  await assert.rejects(confirmRequest(t.ctx, token), { code: 'not_found' });
  t.clock.set('2027-02-01T10:00:00Z');
  dpo = await t.signedIn('dpo');
});

test('owners and DPOs get one digest of requests due soon or overdue, with ids and dates only', async () => {
  const soon = await call('POST', '/api/v1/staff/requests', {
    type: 'erasure',
    channel: 'post',
    receivedAt: '2027-01-04',
    name: 'Olive Overdue',
    email: 'olive@example.com',
  });
  assert.equal(soon.json().dueAt, '2027-02-04');
  const before = (await held()).length;
  const sent = await remindStaff(t.ctx, { consoleUrl: 'https://privacy.idt.example' });
  assert.ok(sent >= 1);
  const digests = (await held()).slice(before);
  assert.equal(digests.length, sent);
  const mail = digests[0]!;
  assert.match(mail.to, /^dpo\d+@staff\.example$/);
  assert.match(mail.subjectLine, /due within a week/);
  assert.match(mail.text, new RegExp(`erasure, due 2027-02-04 \\(3 days left\\): https://privacy\\.idt\\.example/console/requests/${soon.json().id}`));
  assert.doesNotMatch(mail.text, /Olive|olive@example\.com/);
});

test('a closed request keeps its evidence, tied to a signed checkpoint; its record of who asked goes after six years', async () => {
  const res = await call('POST', '/api/v1/staff/requests', {
    type: 'access',
    channel: 'email',
    receivedAt: '2027-01-20',
    email: 'kept@example.com',
    verified: { method: 'known-to-staff' },
  });
  const id = res.json().id as string;
  assert.equal((await call('POST', `/api/v1/staff/requests/${id}/close`, { outcome: 'nothing-held' })).statusCode, 200);
  assert.ok(await t.ctx.auditor.checkpoint(t.db.kysely, { always: true }));
  const evidence = (await call('GET', `/api/v1/staff/requests/${id}/evidence`)).json();
  assert.deepEqual(
    evidence.trail.map((e: { action: string }) => e.action),
    ['request.receive', 'request.close'],
  );
  assert.ok(evidence.checkpoint, 'a checkpoint after closing covers the trail');
  const body = JSON.parse(evidence.checkpoint.body) as { heads: [string, number, string][] | Record<string, unknown> };
  assert.ok(JSON.stringify(body).includes(evidence.trail[1].partition), 'the checkpoint names the partition of the closing event');
  assert.match(evidence.checkpoint.signature, /^[0-9a-f]{128}$/);

  t.clock.set('2033-01-19T10:00:00Z');
  assert.equal(await purgeClosedRequestContacts(t.ctx), 0, 'kept for six years');
  t.clock.set('2033-02-02T10:00:00Z');
  assert.ok((await purgeClosedRequestContacts(t.ctx)) >= 1);
  const row = await t.db.kysely.selectFrom('rights_request').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  assert.equal(row.contact_email, null);
  assert.equal(row.verification, null);
  assert.equal(row.outcome, 'nothing-held', 'what was done stays');
  t.clock.set('2027-02-01T10:00:00Z');
});
