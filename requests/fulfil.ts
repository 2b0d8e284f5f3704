// Fulfilling a request, decided per record from the register, each decision kept as evidence with the request:
// - access: the health professional's opinion (where the gate applies), the answer issued (records disclosed or
//   withheld, with reasons), delivered by an expiring link the requester is emailed; only a hash of the link's token
//   is stored, never a copy of the answer: each download rebuilds it from the records decided then, and is audited;
// - erasure: each record erased (its value deleted, plain or sealed) or, where the register's purposes keep it under
//   a legal obligation (clinical records: Art. 17(3)(b)/(c)) or for legal claims (17(3)(e)), kept and restricted
//   instead; a person with nothing left kept has their data key destroyed and identifiers retired.
import { createHash, randomBytes } from 'node:crypto';
import type { AppContext } from '../app/app-context.ts';
import { addDuration } from '../core/duration.ts';
import { suppressRefusedMarketing } from '../consent/marketing.ts';
import { CustodianError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import type { Register } from '../register/load-register.ts';
import { keepUntil } from '../retention/keep-until.ts';
import { birthDateOf } from '../subjects/birth-date.ts';
import { shredSubject } from '../subjects/erase-subject.ts';
import { subjectPeople } from '../subjects/people.ts';
import { eraseRecords, liveRecordsOf, setRecordsRestricted, type RecordRow } from '../subjects/subjects-store.ts';
import { type AccessAnswer, buildAccessAnswer } from './access-answer.ts';
import { noticeRecipients } from './fulfil-rights.ts';
import { rightName } from './request-mail.ts';
import { type Decision, getRequest, insertDecisions, lockRequest, requestByAnswerToken, subjectsOfRequest, updateRequest } from './requests-store.ts';
import { localDate } from './statutory-clock.ts';
import { rulesOf } from './request-service.ts';
import type { HealthOpinion, RequestType } from './tables.ts';

export type FulfilDeps = Pick<AppContext, 'db' | 'register' | 'subjectKeys' | 'auditor' | 'clock' | 'mailer'>;

/** How long the emailed link to an access answer works. */
const ANSWER_LINK_DAYS = 30;
const DAY_MS = 86_400_000;

function answerTokenHash(token: string): Uint8Array {
  return createHash('sha256').update(`custodian-answer:${token}`).digest();
}

async function openRequest(deps: FulfilDeps, id: string, types: readonly string[]) {
  if (!isUuid(id)) throw new CustodianError('not_found', 'no such request');
  const row = await getRequest(deps.db.kysely, id.toLowerCase());
  if (!row) throw new CustodianError('not_found', 'no such request');
  if (!types.includes(row.type)) throw new CustodianError('conflict', `this is a ${row.type} request`);
  if (row.status !== 'open') throw new CustodianError('conflict', `this request is ${row.status}`);
  if (!row.verification) throw new CustodianError('conflict', 'verify who is asking before acting on the request');
  return row;
}

/** Records an appropriate health professional's opinion on releasing health data (UK DPA 2018 Sch. 3 Part 2). */
export async function recordHealthOpinion(
  deps: FulfilDeps,
  id: string,
  input: { professional: string; givenOn: string; decision: HealthOpinion['decision']; actor: string },
): Promise<void> {
  const row = await openRequest(deps, id, ['access', 'portability']);
  const professional = input.professional.trim();
  if (professional.length < 3 || professional.length > 200)
    throw new CustodianError('invalid_body', 'name the health professional and their profession (3 to 200 characters)');
  const today = localDate(rulesOf(deps.register), deps.clock.now());
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.givenOn) || input.givenOn > today)
    throw new CustodianError('invalid_body', 'givenOn must be a date, not in the future');
  const opinion: HealthOpinion = { professional, givenOn: input.givenOn, decision: input.decision, recordedBy: input.actor };
  await deps.db.kysely
    .transaction()
    .execute((trx) =>
      updateRequest(
        trx,
        deps.auditor,
        row.id,
        { health_opinion: JSON.stringify(opinion) },
        { action: 'request.health-opinion', actor: input.actor, detail: { decision: input.decision } },
      ),
    );
}

export interface IssuedAnswer {
  readonly answer: AccessAnswer;
  /** Where the requester downloads it (emailed to them; shown once). */
  readonly link: string;
  readonly expiresAt: string;
}

/** Issues the access answer: decisions per record, an expiring link emailed, the request closed. */
export async function issueAccessAnswer(deps: FulfilDeps, id: string, input: { actor: string; publicUrl: string }): Promise<IssuedAnswer> {
  const row = await openRequest(deps, id, ['access', 'portability']);
  const email = row.contact_email;
  if (!email) throw new CustodianError('conflict', 'the request has no email address to send the answer to: send it by post and close the request');
  const answer = await buildAccessAnswer(deps, row.id, { actor: input.actor });
  const token = randomBytes(32).toString('base64url');
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + ANSWER_LINK_DAYS * DAY_MS);
  const link = `${input.publicUrl.replace(/\/$/, '')}/privacy-center/answer?token=${token}`;
  const withheld = answer.withheldCount > 0;
  await deps.db.kysely.transaction().execute(async (trx) => {
    const locked = await lockRequest(trx, row.id);
    if (locked?.status !== 'open') throw new CustodianError('conflict', 'this request was closed meanwhile');
    const bySubject = new Map<string, Decision[]>();
    for (const r of answer.records) {
      const list = bySubject.get(r.subjectId) ?? [];
      list.push({ recordId: r.id, action: r.withheld ? 'withheld' : 'disclosed', reason: r.withheld });
      bySubject.set(r.subjectId, list);
    }
    for (const [subjectId, decisions] of bySubject)
      await insertDecisions(trx, deps.auditor, { requestId: row.id, subjectId, decisions, actor: input.actor, now });
    await updateRequest(
      trx,
      deps.auditor,
      row.id,
      {
        answer_token_hash: answerTokenHash(token),
        answer_expires_at: expiresAt,
        status: 'completed',
        outcome: withheld ? 'partly-done' : 'done',
        outcome_reasons: withheld ? ['health-data-withheld'] : [],
        closed_at: now,
        closed_by: input.actor,
      },
      {
        action: 'request.answer',
        actor: input.actor,
        detail: { records: answer.records.length, withheld: answer.withheldCount, onTime: localDate(rulesOf(deps.register), now) <= row.due_on },
      },
    );
    const lang = deps.register.notice.language;
    const controller = deps.register.controller.name;
    await deps.mailer.enqueue(trx, deps.auditor, {
      kind: 'request-answer',
      to: email,
      requestId: row.id,
      actor: input.actor,
      subjectLine: lang === 'de' ? `Ihre Auskunft von ${controller}` : `Your copy of your data from ${controller}`,
      text:
        lang === 'de'
          ? `Guten Tag,\n\nIhre Anfrage (${rightName(lang, row.type)}) ist beantwortet. Sie können die Antwort bis zum ${expiresAt.toISOString().slice(0, 10)} hier abrufen:\n\n${link}\n\n${withheld ? 'Einige Gesundheitsdaten sind noch zurückgehalten; die Antwort nennt den Grund.\n\n' : ''}${controller}`
          : `Hello,\n\nWe have answered your request for ${rightName(lang, row.type)}. You can read and download the answer until ${expiresAt.toISOString().slice(0, 10)} here:\n\n${link}\n\n${withheld ? 'Some health records are held back for now; the answer says why.\n\n' : ''}${controller}`,
    });
  });
  return { answer, link, expiresAt: expiresAt.toISOString() };
}

/** The requester opens their link: the answer as decided when it was issued, rebuilt now; each opening audited. */
export async function downloadAnswer(deps: FulfilDeps, token: string): Promise<AccessAnswer> {
  const invalid = () => new CustodianError('not_found', 'this link is not valid or has expired');
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw invalid();
  const row = await requestByAnswerToken(deps.db.kysely, answerTokenHash(token));
  if (!row?.answer_expires_at || row.answer_expires_at.getTime() < deps.clock.now().getTime()) throw invalid();
  await deps.db.kysely
    .transaction()
    .execute((trx) => updateRequest(trx, deps.auditor, row.id, {}, { action: 'request.download', actor: 'subject:answer-link' }));
  return buildAccessAnswer(deps, row.id, { actor: 'subject:answer-link', onlyDecided: true });
}

/** Which request an answer link answers (its type decides the formats offered); not found as downloadAnswer says. */
export async function answerLinkRequest(deps: Pick<FulfilDeps, 'db' | 'clock'>, token: string): Promise<{ id: string; type: RequestType }> {
  const row = /^[A-Za-z0-9_-]{43}$/.test(token) ? await requestByAnswerToken(deps.db.kysely, answerTokenHash(token)) : undefined;
  if (!row?.answer_expires_at || row.answer_expires_at.getTime() < deps.clock.now().getTime())
    throw new CustodianError('not_found', 'this link is not valid or has expired');
  return { id: row.id, type: row.type };
}

/** Why the register keeps a record against an erasure request, or null when it may be erased. */
function keepReason(
  register: Register,
  record: Pick<RecordRow, 'purposes' | 'category' | 'retention_event' | 'retention_starts_at' | 'collected_at' | 'received_at'>,
  birthDate: Date | null,
  now: Date,
): string | null {
  for (const p of record.purposes) {
    const purpose = Object.hasOwn(register.purposes, p) ? register.purposes[p] : undefined;
    if (!purpose) continue;
    const exempt = purpose.basis === 'legal-obligation' || purpose.condition === 'legal-claims' || purpose.condition === 'public-health';
    if (!exempt) continue;
    const k = keepUntil(register, p, {
      event: record.retention_event,
      startsAt: record.retention_starts_at,
      collectedAt: record.collected_at,
      receivedAt: record.received_at,
      birthDate,
    });
    const keeps = k.kind === 'pending' || (k.kind === 'date' && (k.lowerBound || k.date > now));
    if (!keeps) continue;
    if (purpose.condition === 'legal-claims') return 'legal-claims';
    if (purpose.condition === 'public-health') return 'public-health';
    return register.data[record.category]?.special === 'health' ? 'health-record-retention' : 'legal-obligation';
  }
  return null;
}

export interface ErasureOutcome {
  readonly erased: number;
  readonly kept: readonly { recordId: string; reason: string }[];
  /** People with nothing left: their data key destroyed and identifiers deleted. */
  readonly shredded: readonly string[];
  /** The request itself (who asked, how to reach them) is kept as evidence of how it was handled until this date. */
  readonly requestKeptUntil: string;
}

/**
 * Erasure, per record: erased, or kept and restricted with its reason. Staff may keep more records for a reason the
 * register cannot know (a dispute in progress): `keep`.
 */
export async function fulfilErasure(
  deps: FulfilDeps,
  id: string,
  input: { actor: string; keep?: readonly { recordId: string; reason: 'legal-claims' | 'dispute' }[] },
): Promise<ErasureOutcome> {
  const row = await openRequest(deps, id, ['erasure']);
  const linked = await subjectsOfRequest(deps.db.kysely, row.id);
  if (linked.length === 0) throw new CustodianError('conflict', 'link the people this request is about first (or close it as nothing held)');
  const staffKeeps = new Map((input.keep ?? []).map((k) => [k.recordId.toLowerCase(), k.reason]));
  const now = deps.clock.now();
  let erased = 0;
  const kept: { recordId: string; reason: string }[] = [];
  const shredded: string[] = [];
  for (const { subject_id } of linked) {
    const done = await deps.db.kysely.transaction().execute(async (trx) => {
      const records = await liveRecordsOf(trx, subject_id);
      const birthDate = birthDateOf(deps.register, records, (r) => (r.sealed ? null : r.value_text));
      const decisions: Decision[] = [];
      const toErase: string[] = [];
      const toRestrict: string[] = [];
      for (const r of records) {
        const reason = staffKeeps.get(r.id) ?? keepReason(deps.register, r, birthDate, now);
        if (reason) {
          toRestrict.push(r.id);
          decisions.push({ recordId: r.id, action: 'kept', reason });
          kept.push({ recordId: r.id, reason });
        } else {
          toErase.push(r.id);
          decisions.push({ recordId: r.id, action: 'erased', reason: null });
        }
      }
      const n = await eraseRecords(trx, deps.auditor, { subjectId: subject_id, recordIds: toErase, actor: input.actor, reason: 'erasure-request' });
      await setRecordsRestricted(trx, deps.auditor, {
        subjectId: subject_id,
        recordIds: toRestrict,
        restricted: true,
        actor: input.actor,
        reason: 'kept-against-erasure',
      });
      await insertDecisions(trx, deps.auditor, { requestId: row.id, subjectId: subject_id, decisions, actor: input.actor, now });
      await noticeRecipients(deps, trx, { requestId: row.id, subjectId: subject_id, change: 'erasure', recordIds: toErase, actor: input.actor, now });
      await noticeRecipients(deps, trx, { requestId: row.id, subjectId: subject_id, change: 'restriction', recordIds: toRestrict, actor: input.actor, now });
      // Before the identifiers go: someone who was on a marketing list is never contacted again (keyed hashes).
      await suppressRefusedMarketing(deps, subjectPeople, trx, { subjectId: subject_id, reason: 'erased', actor: input.actor });
      await deps.mailer.eraseMailOf(trx, subject_id, input.actor);
      return { n, nothingKept: toRestrict.length === 0 };
    });
    erased += done.n;
    if (done.nothingKept) {
      const shred = await shredSubject(deps, { subjectId: subject_id, actor: input.actor });
      if (shred.shredded) shredded.push(subject_id);
    }
  }
  await deps.db.kysely.transaction().execute(async (trx) => {
    await updateRequest(
      trx,
      deps.auditor,
      row.id,
      {
        status: 'completed',
        outcome: kept.length > 0 ? 'partly-done' : 'done',
        outcome_reasons: [...new Set(kept.map((k) => k.reason))].sort(),
        closed_at: now,
        closed_by: input.actor,
      },
      { action: 'request.close', actor: input.actor, detail: { outcome: kept.length > 0 ? 'partly-done' : 'done', erased, kept: kept.length } },
    );
  });
  return { erased, kept, shredded, requestKeptUntil: addDuration(now, deps.register.rights['evidence-kept']).toISOString().slice(0, 10) };
}
