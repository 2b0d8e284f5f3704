// "No path can forget to audit", held by structure: every store function that writes (or is handed the auditor) is
// listed here, and each one that changes personal data or a staff account is called on the real database and must
// append its event. A write the list does not know fails the first test, so a new store function has to say which
// it is. Only stores (and the auditor itself) call the auditor.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { insertAccessLines, purgeAccessLines } from '../access-log/access-log-store.ts';
import type { AuditAction } from '../audit/actions.ts';
import { recordKeyRotation } from '../crypto/subject-keys-store.ts';
import * as mail from '../mail/mail-store.ts';
import { recordDisclosure } from '../disclosures/record-disclosure.ts';
import { closeRequest, linkRequestSubject, receiveRequest } from '../requests/request-service.ts';
import {
  completeRecipientNotice,
  expireUnconfirmedRequests,
  insertDecisions,
  insertRecipientNotices,
  purgeRequestContacts,
  recordReminder,
} from '../requests/requests-store.ts';
import { insertConfirmation, purgeLapsedConfirmations } from '../consent/confirmation-store.ts';
import { insertLedgerRows, insertLedgerRowsGuarded, recordConsentEvents } from '../consent/consent-store.ts';
import * as newsletter from '../consent/newsletter-store.ts';
import { insertSuppressions } from '../consent/suppression-store.ts';
import { recordServedVersion } from '../register/notice-versions-store.ts';
import { newSession } from '../staff/sessions.ts';
import { recordSignOut } from '../staff/sessions-store.ts';
import * as users from '../staff/users-store.ts';
import { writeBatchStatement } from '../subjects/collect/batch-store.ts';
import { sql } from 'kysely';
import { readSealedFile } from '../subjects/files-store.ts';
import { decideReviewItem } from '../subjects/identity-store.ts';
import { mergeSubjects } from '../subjects/merge-subjects.ts';
import {
  confirmMergeRow,
  emptyRecordColumns,
  eraseRecords,
  rectifyRecordValue,
  setRecordsRestricted,
  recordSubjectShred,
  mergesOf,
  mergeSubjectRows,
  readSealedValues,
  searchPeople,
  unmergeSubjectRows,
  type MergeRow,
} from '../subjects/subjects-store.ts';
import { purgeVisitorSessions, saveVisitorSession } from '../visitors/visitor-session-store.ts';
import { insertTestSubjects } from './helpers/insert-test-subjects.ts';
import { scanRequest } from './helpers/scan-request.ts';
import { functionsOf, productionFiles, sourceOf } from './helpers/source-files.ts';
import { testApp, type TestApp } from './helpers/test-app.ts';

const WRITES = /\b(insertInto|updateTable|deleteFrom)\(|\bINSERT INTO\b|\bUPDATE\s+\w+(\s+(AS\s+)?\w+)?\s+SET\b|\bDELETE FROM\b/;

let t: TestApp;
before(async () => {
  t = await testApp();
});
after(async () => t?.close());

const origin = { userAgent: 'Firefox' };
const now = () => t.clock.now();
async function newUser(): Promise<string> {
  const id = randomUUID();
  await users.insertUser(
    t.db.kysely,
    t.ctx.auditor,
    { id, email: `${id}@staff.example`, role: 'staff', passwordHash: '$argon2id$v=19$not-a-real-hash', mustChangePassword: false, now: now() },
    'system:test',
  );
  return id;
}
async function collected(n: number): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('audited', n) });
  assert.equal(res.statusCode, 201, res.body);
  return res.json().subjectId as string;
}

const requestIdForAudit = randomUUID();

/** An Art. 19 notice (to send) about a new person's request, stored through the audited store function. */
async function newNotice(n: number) {
  const row = {
    id: randomUUID(),
    request_id: await newRequest(),
    subject_id: await collected(n),
    recipient: 'imaging-centres',
    change: 'erasure' as const,
    record_ids: [],
    state: 'to-send' as const,
    mail_id: null,
    created_at: now(),
    completed_at: null,
    completed_by: null,
    reason: null,
  };
  await t.db.kysely.transaction().execute((trx) => insertRecipientNotices(trx, t.ctx.auditor, [row], 'system:test'));
  return row;
}

async function newRequest(): Promise<string> {
  const { request } = await receiveRequest(t.ctx, { type: 'access', channel: 'post', receivedAt: now(), actor: 'system:test', needsConfirmation: false });
  return request.id;
}

/** A message about a new person, as the mailer stores it: queued (due now) or held, created at `at`. */
async function newMail(state: 'queued' | 'held', at = now()): Promise<{ id: string; subjectId: string }> {
  const [subjectId] = (await insertTestSubjects(t.db, 1)) as [string];
  const id = randomUUID();
  await t.db.kysely.transaction().execute((trx) =>
    mail.insertMail(trx, t.ctx.auditor, {
      id,
      kind: 'request-verification',
      subjectId,
      requestId: null,
      to: 'audited@example.com',
      from: 'dpo@idtscans.example',
      subjectLine: 'Confirm',
      text: 'Confirm it',
      html: null,
      headers: {},
      state,
      now: at,
      actor: 'system:test',
    }),
  );
  return { id, subjectId };
}

/** A queued message taken for an attempt, as a flush takes it. */
async function sendingMail(): Promise<string> {
  const { id } = await newMail('queued', new Date('2020-01-01T00:00:00Z'));
  const claimed = await mail.claimDueMail(t.db.kysely, new Date('2020-01-01T00:00:00Z'), now());
  assert.equal(claimed?.id, id);
  return id;
}

/** A pending newsletter sign-up whose link runs out a day after `at`. */
async function newSubscriber(at = now()): Promise<string> {
  const id = randomUUID();
  await newsletter.insertSubscriber(t.db.kysely, t.ctx.auditor, {
    id,
    email: `${id}@subscriber.example`,
    language: 'en',
    interests: [],
    now: at,
    confirmBy: new Date(at.getTime() + 86_400_000),
    fingerprint: t.register.fingerprint,
    actor: 'system:test',
  });
  return id;
}

async function pendingMerge(): Promise<MergeRow> {
  const [from, into] = (await insertTestSubjects(t.db, 2)) as [string, string];
  await mergeSubjects(t.ctx, { from, into, actor: 'system:test' });
  return (await mergesOf(t.db.kysely, into))[0]!;
}

/** Store functions that change personal data or a staff account: each is made to run, and must append `action`. */
const AUDITED: Record<string, { action: AuditAction; run: () => Promise<unknown> }> = {
  'disclosures/disclosures-store.ts:insertDisclosure': {
    action: 'disclosure',
    run: async () => recordDisclosure(t.ctx, { subjectId: await collected(901), recipient: 'imaging-centres', purpose: 'provide-scan', actor: 'system:test' }),
  },
  'requests/requests-store.ts:insertRequest': { action: 'request.receive', run: newRequest },
  'requests/requests-store.ts:expireUnconfirmedRequests': {
    action: 'request.expire',
    run: async () => {
      await receiveRequest(t.ctx, {
        type: 'access',
        channel: 'web',
        receivedAt: now(),
        email: 'expiring@example.com',
        actor: 'public:test',
        needsConfirmation: true,
      });
      return t.db.kysely.transaction().execute((trx) => expireUnconfirmedRequests(trx, t.ctx.auditor, new Date(now().getTime() + 30 * 86_400_000)));
    },
  },
  'requests/requests-store.ts:purgeRequestContacts': {
    action: 'request.purge',
    run: async () => {
      await closeRequest(t.ctx, await newRequest(), { outcome: 'nothing-held', reasons: [], actor: 'system:test' });
      const later = new Date(now().getTime() + 1000);
      return t.db.kysely.transaction().execute((trx) => purgeRequestContacts(trx, t.ctx.auditor, later, later));
    },
  },
  'requests/requests-store.ts:recordReminder': {
    action: 'request.remind',
    run: () => t.db.kysely.transaction().execute((trx) => recordReminder(trx, t.ctx.auditor, { requests: 1, overdue: 0, staff: 1 })),
  },
  'requests/requests-store.ts:insertRecipientNotices': { action: 'request.recipient-notice', run: () => newNotice(906) },
  'requests/requests-store.ts:completeRecipientNotice': {
    action: 'request.recipient-notice',
    run: async () => {
      const row = await newNotice(907);
      return t.db.kysely.transaction().execute((trx) =>
        completeRecipientNotice(trx, t.ctx.auditor, {
          requestId: row.request_id,
          noticeId: row.id,
          state: 'done',
          reason: null,
          actor: 'system:test',
          now: now(),
        }),
      );
    },
  },
  'subjects/subjects-store.ts:rectifyRecordValue': {
    action: 'record.update',
    run: async () => {
      const { subjectId, recordIds } = (
        await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('audited', 908) })
      ).json() as {
        subjectId: string;
        recordIds: string[];
      };
      return t.db.kysely.transaction().execute((trx) =>
        rectifyRecordValue(trx, t.ctx.auditor, {
          subjectId,
          recordId: recordIds[0]!,
          value: { text: 'Corrected' },
          beforeHash: 'a'.repeat(32),
          afterHash: 'b'.repeat(32),
          actor: 'system:test',
          request: requestIdForAudit,
        }),
      );
    },
  },
  'consent/consent-store.ts:recordConsentEvents': {
    action: 'consent.record',
    run: async () => {
      const subjectId = await collected(909);
      return t.db.kysely
        .transaction()
        .execute((trx) =>
          recordConsentEvents(
            trx,
            t.ctx.auditor,
            [{ subjectId, purpose: 'marketing-consent', channel: null, state: 'withdrawn', method: 'staff', actor: 'system:test' }],
            t.register.fingerprint,
            now(),
          ),
        );
    },
  },
  'consent/consent-store.ts:insertLedgerRows': {
    action: 'consent.record',
    run: () =>
      t.db.kysely.transaction().execute((trx) => {
        const receiptId = randomUUID();
        const row = { id: randomUUID(), receiptId, subjectId: null, visitorId: 'audited-visitor-0001', purpose: 'marketing-consent' };
        return insertLedgerRows(
          trx,
          t.ctx.auditor,
          [{ ...row, channel: null, state: 'refused', method: 'banner', point: null, expiresAt: null, language: null, context: null }],
          [{ actor: 'system:test', action: 'consent.record', detail: { receipt: receiptId } }],
          t.register.fingerprint,
          now(),
        );
      }),
  },
  'consent/consent-store.ts:insertLedgerRowsGuarded': {
    action: 'consent.record',
    run: async () => {
      // The one-statement way builds on a head this auditor wrote: the locking way first, then the guarded one.
      const batch = (n: number) => {
        const receiptId = randomUUID();
        const row = { id: randomUUID(), receiptId, subjectId: null, visitorId: `guarded-visitor-000${n}`, purpose: 'marketing-consent' };
        return {
          rows: [{ ...row, channel: null, state: 'refused' as const, method: 'banner' as const, point: null, expiresAt: null, language: null, context: null }],
          audit: [{ actor: 'system:guarded-test', action: 'consent.record' as const, detail: { receipt: receiptId } }],
        };
      };
      const first = batch(1);
      await t.db.kysely.transaction().execute((trx) => insertLedgerRows(trx, t.ctx.auditor, first.rows, first.audit, t.register.fingerprint, now()));
      const second = batch(2);
      assert.equal(await insertLedgerRowsGuarded(t.db.kysely, t.ctx.auditor, second.rows, second.audit, t.register.fingerprint, now()), true);
    },
  },
  'consent/confirmation-store.ts:purgeLapsedConfirmations': {
    action: 'consent.record',
    run: async () => {
      const subjectId = await collected(910);
      await insertConfirmation(t.db.kysely, {
        eventId: randomUUID(),
        subjectId,
        purpose: 'marketing-consent',
        channel: 'email',
        addressHash: Buffer.alloc(32, 9),
        sentAt: new Date('2020-01-01T00:00:00Z'),
        confirmBy: new Date('2020-01-08T00:00:00Z'),
      });
      return purgeLapsedConfirmations(t.db.kysely, t.ctx.auditor, now());
    },
  },
  'consent/suppression-store.ts:insertSuppressions': {
    action: 'marketing.suppress',
    run: () =>
      insertSuppressions(t.db.kysely, t.ctx.auditor, {
        entries: [{ hash: Buffer.alloc(32, 7), channel: 'email' }],
        reason: 'unsubscribed',
        subjectId: null,
        actor: 'system:test',
        now: now(),
      }),
  },
  'consent/newsletter-store.ts:insertSubscriber': { action: 'newsletter.subscribe', run: () => newSubscriber() },
  'consent/newsletter-store.ts:confirmSubscriber': {
    action: 'newsletter.confirm',
    run: async () => newsletter.confirmSubscriber(t.db.kysely, t.ctx.auditor, { id: await newSubscriber(), now: now(), actor: 'system:test' }),
  },
  'consent/newsletter-store.ts:deleteSubscriber': {
    action: 'newsletter.unsubscribe',
    run: async () => newsletter.deleteSubscriber(t.db.kysely, t.ctx.auditor, { id: await newSubscriber(), actor: 'system:test' }),
  },
  'consent/newsletter-store.ts:purgeUnconfirmedSubscribers': {
    action: 'newsletter.purge',
    run: async () => {
      await newSubscriber(new Date('2020-01-01T00:00:00Z'));
      return newsletter.purgeUnconfirmedSubscribers(t.db.kysely, t.ctx.auditor, now());
    },
  },
  'subjects/subjects-store.ts:eraseRecords': {
    action: 'record.delete',
    run: async () => {
      const { subjectId, recordIds } = (
        await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('audited', 904) })
      ).json() as {
        subjectId: string;
        recordIds: string[];
      };
      return t.db.kysely
        .transaction()
        .execute((trx) => eraseRecords(trx, t.ctx.auditor, { subjectId, recordIds: recordIds.slice(0, 1), actor: 'system:test', reason: 'test' }));
    },
  },
  'subjects/subjects-store.ts:setRecordsRestricted': {
    action: 'record.restrict',
    run: async () => {
      const { subjectId, recordIds } = (
        await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('audited', 905) })
      ).json() as {
        subjectId: string;
        recordIds: string[];
      };
      return t.db.kysely
        .transaction()
        .execute((trx) => setRecordsRestricted(trx, t.ctx.auditor, { subjectId, recordIds, restricted: true, actor: 'system:test', reason: 'test' }));
    },
  },
  'requests/requests-store.ts:updateRequest': {
    action: 'request.close',
    run: async () => closeRequest(t.ctx, await newRequest(), { outcome: 'nothing-held', reasons: [], actor: 'system:test' }),
  },
  'requests/requests-store.ts:linkSubject': {
    action: 'request.link',
    run: async () => linkRequestSubject(t.ctx, await newRequest(), { subjectId: await collected(902), actor: 'system:test' }),
  },
  'requests/requests-store.ts:insertDecisions': {
    action: 'request.decide',
    run: async () => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/collect/scan-request', payload: scanRequest('audited', 903) });
      const { subjectId, recordIds } = res.json() as { subjectId: string; recordIds: string[] };
      const requestId = await newRequest();
      return t.db.kysely.transaction().execute((trx) =>
        insertDecisions(trx, t.ctx.auditor, {
          requestId,
          subjectId,
          decisions: [{ recordId: recordIds[0]!, action: 'disclosed', reason: null }],
          actor: 'system:test',
          now: now(),
        }),
      );
    },
  },
  'access-log/access-log-store.ts:purgeAccessLines': {
    action: 'access-log.purge',
    run: async () => {
      await insertAccessLines(t.db, [
        { at: new Date('2020-01-01T00:00:00Z'), method: 'GET', route: '/privacy', status: 200, duration_ms: 1, ip_prefix: null, browser: null },
      ]);
      return purgeAccessLines(t.db, t.ctx.auditor, new Date('2021-01-01T00:00:00Z'), now());
    },
  },
  'crypto/subject-keys-store.ts:recordKeyRotation': {
    action: 'keys.rotate',
    run: () => recordKeyRotation(t.db.kysely, t.ctx.auditor, 'system:test', { rewrapped: 0 }),
  },
  'register/notice-versions-store.ts:recordServedVersion': {
    action: 'register.activate',
    run: () => recordServedVersion(t.db, t.ctx.auditor, t.register, 'yaml', now()),
  },
  'staff/sessions-store.ts:recordSignOut': {
    action: 'auth.sign-out',
    run: async () => {
      const { row } = newSession(await newUser(), now(), { ip: undefined, userAgent: undefined });
      await users.recordSignIn(t.db.kysely, t.ctx.auditor, { userId: row.userId, session: row, origin });
      return recordSignOut(t.db.kysely, t.ctx.auditor, row.idHash);
    },
  },
  'staff/users-store.ts:insertUser': { action: 'staff.create', run: newUser },
  'staff/users-store.ts:setRole': {
    action: 'staff.role-change',
    run: async () => users.setRole(t.db.kysely, t.ctx.auditor, { userId: await newUser(), from: 'staff', to: 'dpo' }, 'system:test'),
  },
  'staff/users-store.ts:disableUser': {
    action: 'staff.disable',
    run: async () => users.disableUser(t.db.kysely, t.ctx.auditor, await newUser(), now(), 'system:test'),
  },
  'staff/users-store.ts:recordAuthFailure': {
    action: 'auth.sign-in-failed',
    run: () =>
      users.recordAuthFailure(t.db.kysely, t.ctx.auditor, {
        action: 'auth.sign-in-failed',
        rateKeys: ['network:192.0.2.0/24'],
        at: now(),
        forgetBefore: new Date(0),
        actor: 'anonymous',
        reason: 'unknown-account',
        origin,
        throttles: null,
      }),
  },
  'staff/users-store.ts:unthrottleAccount': {
    action: 'staff.unlock',
    run: async () => users.unthrottleAccount(t.db.kysely, t.ctx.auditor, { userId: await newUser(), keyPrefix: 'account:none:' }, 'system:test'),
  },
  'staff/users-store.ts:recordSignIn': {
    action: 'auth.sign-in',
    run: async () => {
      const { row } = newSession(await newUser(), now(), { ip: '192.0.2.1', userAgent: undefined });
      return users.recordSignIn(t.db.kysely, t.ctx.auditor, { userId: row.userId, session: row, origin });
    },
  },
  'staff/users-store.ts:recordPasswordChange': {
    action: 'auth.password-change',
    run: async () => {
      const { row } = newSession(await newUser(), now(), { ip: undefined, userAgent: undefined });
      return users.recordPasswordChange(t.db.kysely, t.ctx.auditor, { userId: row.userId, passwordHash: '$argon2id$v=19$another', now: now(), session: row });
    },
  },
  'subjects/collect/batch-store.ts:writeBatchStatement': {
    action: 'subject.create',
    run: () =>
      t.db.kysely.transaction().execute(async (trx) => {
        const id = randomUUID();
        return writeBatchStatement(trx, t.ctx.auditor, {
          now: now(),
          fingerprint: t.register.fingerprint,
          claims: [],
          newSubjects: [{ id, kind: 'patient' }],
          reviewItems: [],
          newKeys: [],
          consents: [],
          records: emptyRecordColumns(),
          audit: [{ actor: 'system:test', action: 'subject.create', subjectId: id }],
        });
      }),
  },
  'subjects/subjects-store.ts:readSealedValues': {
    action: 'record.read-sealed',
    run: async () => readSealedValues(t.db.kysely, t.ctx.auditor, await collected(1), 'system:test'),
  },
  'subjects/subjects-store.ts:searchPeople': {
    action: 'subject.search',
    run: () => searchPeople(t.db.kysely, t.ctx.auditor, { identifiers: [{ kind: 'email', value: 'nobody@example.com' }], subjectId: null }, 'system:test'),
  },
  'subjects/subjects-store.ts:mergeSubjectRows': {
    action: 'subject.merge',
    run: async () => {
      const [from, into] = (await insertTestSubjects(t.db, 2)) as [string, string];
      return t.db.kysely
        .transaction()
        .execute((trx) => mergeSubjectRows(trx, t.ctx.auditor, { id: randomUUID(), from, into, resealed: [], actor: 'system:test', now: now() }));
    },
  },
  'subjects/subjects-store.ts:unmergeSubjectRows': {
    action: 'subject.unmerge',
    run: async () => {
      const merge = await pendingMerge();
      return t.db.kysely.transaction().execute((trx) => unmergeSubjectRows(trx, t.ctx.auditor, { merge, resealed: [], actor: 'system:test', now: now() }));
    },
  },
  'subjects/subjects-store.ts:confirmMergeRow': {
    action: 'subject.merge-confirm',
    run: async () => {
      const merge = await pendingMerge();
      return t.db.kysely.transaction().execute((trx) => confirmMergeRow(trx, t.ctx.auditor, { merge, actor: 'system:test', now: now() }));
    },
  },
  'subjects/identity-store.ts:decideReviewItem': {
    action: 'identity.review-decide',
    run: async () => {
      const [subjectId, candidateId] = (await insertTestSubjects(t.db, 2)) as [string, string];
      return t.db.kysely.transaction().execute(async (trx) => {
        const item = {
          id: randomUUID(),
          subjectId,
          candidateId,
          kind: 'patient',
          signals: ['shares:phone'],
          state: 'open' as const,
          openedAt: now(),
          mergeId: null,
        };
        await sql`INSERT INTO identity_review (id, subject_id, candidate_id, signals, opened_at) VALUES (${item.id}, ${subjectId}, ${candidateId}, '{shares:phone}', now())`.execute(
          trx,
        );
        return decideReviewItem(trx, t.ctx.auditor, { item, state: 'rejected', mergeId: null, actor: 'system:test', now: now() });
      });
    },
  },
  'subjects/subjects-store.ts:recordSubjectShred': {
    action: 'subject.key-shred',
    run: async () => {
      const subjectId = await collected(2);
      return t.db.kysely.transaction().execute((trx) => recordSubjectShred(trx, t.ctx.auditor, { subjectId, actor: 'system:test', now: now() }));
    },
  },
  'visitors/visitor-session-store.ts:saveVisitorSession': {
    action: 'visitor.draft',
    run: () =>
      saveVisitorSession(t.db, t.ctx.auditor, {
        token: 'a'.repeat(43),
        data: { 'draft:scan-request': { 'patient.name': 'x' } },
        config: { cookieName: 'c', idle: 'PT30M' },
        now: now(),
        draft: { point: 'scan-request', fields: 1 },
      }),
  },
  'visitors/visitor-session-store.ts:purgeVisitorSessions': {
    action: 'visitor.purge',
    run: async () => {
      await saveVisitorSession(t.db, t.ctx.auditor, {
        token: 'b'.repeat(43),
        data: {},
        config: { cookieName: 'c', idle: 'PT1M' },
        now: new Date('2020-01-01T00:00:00Z'),
        draft: { point: 'scan-request', fields: 0 },
      });
      return purgeVisitorSessions(t.db, t.ctx.auditor, now());
    },
  },
  'mail/mail-store.ts:insertMail': { action: 'mail.queue', run: () => newMail('held') },
  'mail/mail-store.ts:recordMailSent': {
    action: 'mail.send',
    run: async () =>
      mail.recordMailSent(t.db.kysely, t.ctx.auditor, { id: await sendingMail(), messageId: '<m@idtscans.example>', now: now(), actor: 'system:test' }),
  },
  'mail/mail-store.ts:recordMailFailure': {
    action: 'mail.fail',
    run: async () =>
      mail.recordMailFailure(t.db.kysely, t.ctx.auditor, {
        id: await sendingMail(),
        code: 'EENVELOPE',
        reply: 550,
        retryAt: null,
        now: now(),
        actor: 'system:test',
      }),
  },
  'mail/mail-store.ts:eraseMailOfSubject': {
    action: 'mail.erase',
    run: async () => {
      const { subjectId } = await newMail('held');
      return t.db.kysely.transaction().execute((trx) => mail.eraseMailOfSubject(trx, t.ctx.auditor, { subjectId, actor: 'system:test', now: now() }));
    },
  },
  'mail/mail-store.ts:purgeMailContent': {
    action: 'mail.purge',
    run: async () => {
      await newMail('held', new Date('2020-01-01T00:00:00Z'));
      return mail.purgeMailContent(t.db.kysely, t.ctx.auditor, new Date('2021-01-01T00:00:00Z'), now());
    },
  },
  'mail/mail-store.ts:readMailMessage': {
    action: 'mail.read',
    run: async () => mail.readMailMessage(t.db.kysely, t.ctx.auditor, (await newMail('held')).id, 'system:test'),
  },
  'subjects/files-store.ts:readSealedFile': {
    action: 'record.read-sealed',
    run: async () => {
      const subjectId = await collected(909);
      const sealed = await t.db.kysely
        .selectFrom('record')
        .select('id')
        .where('subject_id', '=', subjectId)
        .where('value_sealed', 'is not', null)
        .executeTakeFirstOrThrow();
      await sql`INSERT INTO record_file (record_id, media_type, size_bytes, content) VALUES (${sealed.id}, 'application/pdf', 1, ${Buffer.from([0])})`.execute(
        t.db.kysely,
      );
      return readSealedFile(t.db.kysely, t.ctx.auditor, { subjectId, recordId: sealed.id, actor: 'system:test' });
    },
  },
  'mail/mail-store.ts:markMailSentByHand': {
    action: 'mail.send',
    run: async () => mail.markMailSentByHand(t.db.kysely, t.ctx.auditor, { id: (await newMail('held')).id, actor: 'system:test', now: now() }),
  },
  'mail/mail-store.ts:requeueMail': {
    action: 'mail.retry',
    run: async () => mail.requeueMail(t.db.kysely, t.ctx.auditor, { id: (await newMail('held')).id, from: ['held'], actor: 'system:test', now: now() }),
  },
};

/** Store functions that write but change no personal data or account of their own, and why. */
const NOT_AUDITED: Record<string, string> = {
  'requests/requests-store.ts:insertPause': 'called only by pauseRequest, which audits the pause with updateRequest in the same transaction',
  'requests/requests-store.ts:closePause': 'called only by resumeRequest, which audits the resumption with updateRequest in the same transaction',
  'access-log/access-log-store.ts:insertAccessLines':
    'the access log is itself a log of requests: auditing each line would double every request; its purge is audited',
  'mail/mail-store.ts:claimDueMail':
    "takes a message for one attempt (state 'sending', the attempt counted); the attempt's outcome is audited (recordMailSent, recordMailFailure)",
  'subjects/files-store.ts:storeResealedFiles':
    'called only by subjects/merge-subjects.ts while a merge or its undoing moves the records, which mergeSubjectRows and unmergeSubjectRows audit in the same transaction',
  'consent/confirmation-store.ts:insertConfirmation':
    'called only by consent/email-consent.ts as it queues the confirmation mail, which the mailer audits (mail.queue) in the same transaction',
  'consent/confirmation-store.ts:takeConfirmation':
    'called only by consent/email-consent.ts as the link confirms, which records the consent it gives (consent.record) in the same transaction',
  'crypto/hash-keys-store.ts:insertHashKey': 'key material (the secret of keyed hashes, wrapped), not personal data',
  'crypto/hash-keys-store.ts:storeRewrappedHashKey': 're-wrapping changes no key and no value; the rotation is audited once (recordKeyRotation)',
  'crypto/subject-keys-store.ts:insertKeyRow': 'key material, not personal data: the records sealed with the key are audited in the same transaction',
  'crypto/subject-keys-store.ts:shredKeyRow': 'called only by subjects/erase-subject.ts, whose recordSubjectShred records the shred in the same transaction',
  'crypto/subject-keys-store.ts:storeRewrapped': 're-wrapping changes no data key and no value; the rotation is audited once (recordKeyRotation)',
  'staff/sessions-store.ts:insertSession': 'called only by recordSignIn and recordPasswordChange, which audit the change that opens the session',
  'staff/sessions-store.ts:touchSession': 'restarts the idle timer of a live session; no account changes',
  'staff/sessions-store.ts:dropEndedSession': 'removes a session already ended by its expiry or a disabled account (both audited when they happened)',
  'staff/sessions-store.ts:deleteUserSessions': 'called only by the audited lock, disable and password change',
};

const stores = () => productionFiles().filter((f) => f.endsWith('-store.ts') && !f.startsWith('audit/'));

function writersAndFragments(): { writers: string[]; fragments: { file: string; name: string }[] } {
  const writers: string[] = [];
  const fragments: { file: string; name: string }[] = [];
  for (const file of stores()) {
    const fns = functionsOf(file);
    const writes = (body: string, depth = 0): boolean =>
      WRITES.test(body) || (depth < 3 && fns.some((f) => !f.exported && new RegExp(`\\b${f.name}\\(`).test(body) && writes(f.body, depth + 1)));
    for (const f of fns.filter((x) => x.exported)) {
      if (f.returns.includes('RawBuilder')) fragments.push({ file, name: f.name });
      else if (writes(f.body) || f.params.includes('auditor')) writers.push(`${file}:${f.name}`);
    }
  }
  return { writers: writers.sort(), fragments };
}

test('every store function that writes is known: audited, or not with a reason', () => {
  const { writers } = writersAndFragments();
  assert.ok(writers.length >= 20, `writers found: ${writers.length}`);
  assert.deepEqual(writers, [...Object.keys(AUDITED), ...Object.keys(NOT_AUDITED)].sort());
});

test('each audited store function appends its event when it runs', async () => {
  for (const [name, { action, run }] of Object.entries(AUDITED)) {
    const before = (await t.audits()).filter((e) => e.action === action).length;
    await run();
    const after = (await t.audits()).filter((e) => e.action === action).length;
    assert.ok(after > before, `${name} appended no ${action} event`);
  }
  assert.equal((await t.ctx.auditor.verify(t.db)).ok, true);
});

test('SQL pieces (data-modifying CTEs, subqueries) are composed by stores only, never run by a service or route', () => {
  const { fragments } = writersAndFragments();
  assert.ok(fragments.length >= 5, `fragments found: ${fragments.map((f) => f.name).join(', ')}`);
  for (const { file, name } of fragments) {
    const users = productionFiles().filter((f) => f !== file && new RegExp(`\\b${name}\\b`).test(sourceOf(f)));
    assert.ok(users.length > 0, `${file}:${name} is used somewhere`);
    assert.deepEqual(
      users.filter((f) => !f.endsWith('-store.ts')),
      [],
      `${file}:${name}`,
    );
  }
});

test('only stores call the auditor: no service, route or command can write an event of its own', () => {
  const calls = /\bauditor\.(append|appendMany|prepare)\(/;
  const callers = productionFiles().filter((f) => calls.test(sourceOf(f)));
  assert.deepEqual(
    callers.filter((f) => !f.endsWith('-store.ts')),
    [],
  );
  const built = productionFiles().filter((f) => /\bnew Auditor\(/.test(sourceOf(f)));
  assert.deepEqual(built, ['app/app-context.ts', 'subjects/collect/writer-worker.ts'], 'one auditor per app, and one per writer thread');
});
