// The rights besides access and erasure, each decided per record and kept as evidence with the request:
// - rectification (Art. 16): staff approve each corrected value; the trail holds keyed hashes, never values;
// - restriction (Art. 18): records only stored, blocked from disclosure (the disclosure check refuses them); lifting
//   a restriction tells the person first (the message is queued in the same transaction, before the records change);
// - objection (Art. 21): legitimate-interest processing stops unless staff record compelling grounds per purpose;
//   direct marketing stops at once, recorded in the consent ledger as refused;
// - withdrawal of consent (Art. 7(3)): a ledger event per consent given; records held for nothing else are erased;
// - complaints (UK DPA 2018 s.164A): acknowledged within 30 days, the outcome told with the right to go to the ICO.
// Every rectification, erasure or restriction is told to each recipient the data was actually disclosed to (Art. 19).
import { createHmac } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { AppContext } from '../app/app-context.ts';
import { heldConsentsOf, recordConsentEvents } from '../consent/consent-store.ts';
import { suppressRefusedMarketing } from '../consent/marketing.ts';
import { CustodianError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import { openValue, sealValue } from '../crypto/seal.ts';
import type { Tables } from '../db/tables.ts';
import { disclosuresOf } from '../disclosures/disclosures-store.ts';
import { isSealedCategory } from '../register/categories.ts';
import { pickText } from '../register/text.ts';
import { subjectPeople } from '../subjects/people.ts';
import { eraseRecords, liveRecordsOf, recordForUpdate, rectifyRecordValue, setRecordsRestricted } from '../subjects/subjects-store.ts';
import { acknowledgeBy, rulesOf } from './request-service.ts';
import {
  completeRecipientNotice,
  type Decision,
  decisionsOf,
  getRequest,
  insertDecisions,
  insertRecipientNotices,
  lockRequest,
  type RecipientNoticeRow,
  subjectsOfRequest,
  updateRequest,
} from './requests-store.ts';
import { localDate } from './statutory-clock.ts';
import type { RequestType } from './tables.ts';

export type RightsDeps = Pick<AppContext, 'db' | 'register' | 'subjectKeys' | 'auditor' | 'clock' | 'mailer'>;

async function openRequest(deps: RightsDeps, trx: Transaction<Tables>, id: string, types: readonly RequestType[]) {
  if (!isUuid(id)) throw new CustodianError('not_found', 'no such request');
  const row = await lockRequest(trx, id.toLowerCase());
  if (!row) throw new CustodianError('not_found', 'no such request');
  if (!types.includes(row.type)) throw new CustodianError('conflict', `this is a ${row.type} request`);
  if (row.status !== 'open') throw new CustodianError('conflict', `this request is ${row.status}`);
  if (!row.verification) throw new CustodianError('conflict', 'verify who is asking before acting on the request');
  const subjects = (await subjectsOfRequest(trx, row.id)).map((s) => s.subject_id);
  if (row.type !== 'complaint' && subjects.length === 0)
    throw new CustodianError('conflict', 'link the people this request is about first (or close it as nothing held)');
  return { row, subjects, now: deps.clock.now() };
}

/** Art. 19: a notice per recipient the changed records were disclosed to; emailed where the register gives an address. */
export async function noticeRecipients(
  deps: RightsDeps,
  trx: Transaction<Tables>,
  input: { requestId: string; subjectId: string; change: RecipientNoticeRow['change']; recordIds: readonly string[]; actor: string; now: Date },
): Promise<number> {
  if (input.recordIds.length === 0) return 0;
  const changed = new Set(input.recordIds);
  const byRecipient = new Map<string, Set<string>>();
  for (const d of await disclosuresOf(trx, [input.subjectId])) {
    for (const r of d.record_ids) {
      if (!changed.has(r)) continue;
      const set = byRecipient.get(d.recipient) ?? new Set<string>();
      set.add(r);
      byRecipient.set(d.recipient, set);
    }
  }
  const lang = deps.register.notice.language;
  const controller = deps.register.controller.name;
  const rows: RecipientNoticeRow[] = [];
  for (const [recipient, records] of byRecipient) {
    const id = crypto.randomUUID();
    const email = deps.register.recipients[recipient]?.notify?.email;
    let mailId: string | null = null;
    if (email) {
      const what = {
        rectification: lang === 'de' ? 'berichtigt' : 'rectified',
        erasure: lang === 'de' ? 'gelöscht' : 'erased',
        restriction: lang === 'de' ? 'eingeschränkt' : 'restricted',
      }[input.change];
      mailId = await deps.mailer.enqueue(trx, deps.auditor, {
        kind: 'recipient-notice',
        to: email,
        subjectId: input.subjectId,
        requestId: input.requestId,
        actor: input.actor,
        subjectLine:
          lang === 'de'
            ? `Mitteilung nach Art. 19 DSGVO von ${controller} (${id.slice(0, 8)})`
            : `Notice under Article 19 GDPR from ${controller} (${id.slice(0, 8)})`,
        text:
          lang === 'de'
            ? `Guten Tag,\n\nPersonenbezogene Daten, die wir Ihnen übermittelt haben, wurden auf Antrag der betroffenen Person ${what} (${records.size} Angaben). Bitte verfahren Sie mit Ihrer Kopie ebenso und bestätigen Sie dies unter Angabe unseres Zeichens ${id}.\n\n${controller}`
            : `Hello,\n\nPersonal data we disclosed to you has been ${what} at the request of the person it is about (${records.size} item${records.size === 1 ? '' : 's'}). Please do the same with your copy and confirm, quoting our reference ${id}.\n\n${controller}`,
      });
    }
    rows.push({
      id,
      request_id: input.requestId,
      subject_id: input.subjectId,
      recipient,
      change: input.change,
      record_ids: [...records].sort(),
      state: mailId ? 'sent' : 'to-send',
      mail_id: mailId,
      created_at: input.now,
      completed_at: null,
      completed_by: null,
      reason: null,
    });
  }
  await insertRecipientNotices(trx, deps.auditor, rows, input.actor);
  return rows.length;
}

function valueHash(dek: Uint8Array, recordId: string, value: string): string {
  return createHmac('sha256', dek).update(`${recordId}\u0000${value}`).digest('hex').slice(0, 32);
}

/** Rectification, approved by staff record by record. */
export async function rectifyRecord(deps: RightsDeps, id: string, input: { recordId: string; value: string; actor: string }): Promise<void> {
  const value = input.value.trim();
  if (value.length === 0 || value.length > 5000) throw new CustodianError('invalid_body', 'the corrected value must be 1 to 5000 characters');
  if (!isUuid(input.recordId)) throw new CustodianError('invalid_body', 'record must be a record id');
  await deps.db.kysely.transaction().execute(async (trx) => {
    const { row, subjects, now } = await openRequest(deps, trx, id, ['rectification']);
    const recordId = input.recordId.toLowerCase();
    let found: { subjectId: string; record: NonNullable<Awaited<ReturnType<typeof recordForUpdate>>> } | null = null;
    for (const s of subjects) {
      const record = await recordForUpdate(trx, s, recordId);
      if (record) found = { subjectId: s, record };
    }
    if (!found || found.record.state === 'erased') throw new CustodianError('not_found', 'no such record of the people this request is about');
    const { subjectId, record } = found;
    const dek = await deps.subjectKeys.getOrCreate(trx, subjectId, now);
    const before = record.value_sealed ? openValue(dek, record.value_sealed, record.id) : (record.value_text ?? '');
    const sealed = isSealedCategory(deps.register, record.category);
    await rectifyRecordValue(trx, deps.auditor, {
      subjectId,
      recordId,
      value: sealed ? { sealed: sealValue(dek, value, recordId) } : { text: value },
      beforeHash: valueHash(dek, recordId, before),
      afterHash: valueHash(dek, recordId, value),
      actor: input.actor,
      request: row.id,
    });
    await insertDecisions(trx, deps.auditor, {
      requestId: row.id,
      subjectId,
      decisions: [{ recordId, action: 'rectified', reason: null }],
      actor: input.actor,
      now,
    });
    await noticeRecipients(deps, trx, { requestId: row.id, subjectId, change: 'rectification', recordIds: [recordId], actor: input.actor, now });
  });
}

/** Restriction of the records named (all of the people's live records when none are named). */
export async function restrictForRequest(deps: RightsDeps, id: string, input: { recordIds?: readonly string[]; actor: string }): Promise<number> {
  return deps.db.kysely.transaction().execute(async (trx) => {
    const { row, subjects, now } = await openRequest(deps, trx, id, ['restriction']);
    const wanted = input.recordIds ? new Set(input.recordIds.map((r) => r.toLowerCase())) : null;
    let n = 0;
    for (const s of subjects) {
      const ids = (await liveRecordsOf(trx, s)).filter((r) => r.state === 'active' && (!wanted || wanted.has(r.id))).map((r) => r.id);
      n += await setRecordsRestricted(trx, deps.auditor, { subjectId: s, recordIds: ids, restricted: true, actor: input.actor, reason: 'restriction-request' });
      await insertDecisions(trx, deps.auditor, {
        requestId: row.id,
        subjectId: s,
        decisions: ids.map((r) => ({ recordId: r, action: 'restricted', reason: null })),
        actor: input.actor,
        now,
      });
      await noticeRecipients(deps, trx, { requestId: row.id, subjectId: s, change: 'restriction', recordIds: ids, actor: input.actor, now });
    }
    return n;
  });
}

/**
 * Lifts a restriction made for this request. The person is told first (Art. 18(3)): the message is queued before the
 * records change, in the same transaction, and the request must have an address to tell them at.
 */
export async function liftRestriction(deps: RightsDeps, id: string, input: { reason: string; actor: string }): Promise<number> {
  const reason = input.reason.trim();
  if (reason.length < 10 || reason.length > 1000)
    throw new CustodianError('invalid_body', 'say why the restriction is lifted (10 to 1000 characters): the person is told');
  return deps.db.kysely.transaction().execute(async (trx) => {
    if (!isUuid(id)) throw new CustodianError('not_found', 'no such request');
    const row = await lockRequest(trx, id.toLowerCase());
    if (!row || row.type !== 'restriction') throw new CustodianError('not_found', 'no such restriction request');
    if (!row.contact_email)
      throw new CustodianError(
        'conflict',
        'the person must be told before the restriction is lifted: the request has no email address (write to them, then record it by email)',
      );
    const restricted = (await decisionsOf(trx, row.id)).filter((d) => d.action === 'restricted').map((d) => d.record_id);
    const unrestricted = new Set((await decisionsOf(trx, row.id)).filter((d) => d.action === 'unrestricted').map((d) => d.record_id));
    const toLift = restricted.filter((r) => !unrestricted.has(r));
    if (toLift.length === 0) throw new CustodianError('conflict', 'nothing restricted by this request is left to lift');
    const now = deps.clock.now();
    const lang = deps.register.notice.language;
    await deps.mailer.enqueue(trx, deps.auditor, {
      kind: 'request-answer',
      to: row.contact_email,
      requestId: row.id,
      actor: input.actor,
      subjectLine: lang === 'de' ? 'Die Einschränkung der Verarbeitung Ihrer Daten wird aufgehoben' : 'We are lifting the restriction on your data',
      text:
        lang === 'de'
          ? `Guten Tag,\n\nwir heben die Einschränkung der Verarbeitung auf, die Sie verlangt hatten. Grund: ${reason}\n\nSie können sich jederzeit bei einer Aufsichtsbehörde beschweren.\n\n${deps.register.controller.name}`
          : `Hello,\n\nWe are lifting the restriction on the use of your data that you asked for. Why: ${reason}\n\nYou can complain to the supervisory authority at any time.\n\n${deps.register.controller.name}`,
    });
    let n = 0;
    for (const { subject_id } of await subjectsOfRequest(trx, row.id)) {
      const mine = (await liveRecordsOf(trx, subject_id)).filter((r) => toLift.includes(r.id)).map((r) => r.id);
      n += await setRecordsRestricted(trx, deps.auditor, {
        subjectId: subject_id,
        recordIds: mine,
        restricted: false,
        actor: input.actor,
        reason: 'restriction-lifted',
      });
      await insertDecisions(trx, deps.auditor, {
        requestId: row.id,
        subjectId: subject_id,
        decisions: mine.map((r) => ({ recordId: r, action: 'unrestricted', reason: null })),
        actor: input.actor,
        now,
      });
    }
    return n;
  });
}

/**
 * Objection (Art. 21): records held only for purposes objected to are erased; direct marketing is refused in the
 * consent ledger at once; legitimate-interest purposes go on only where staff record compelling grounds.
 */
export async function objectForRequest(
  deps: RightsDeps,
  id: string,
  input: { purposes?: readonly string[]; compellingGrounds?: readonly { purpose: string; reason: string }[]; actor: string },
): Promise<{ erased: number; stopped: string[]; continued: string[] }> {
  const { register } = deps;
  const grounds = new Map((input.compellingGrounds ?? []).map((g) => [g.purpose, g.reason.trim()]));
  for (const [p, reason] of grounds) {
    if (register.purposes[p]?.channels) throw new CustodianError('conflict', `"${p}" is direct marketing: an objection to it is absolute`);
    if (reason.length < 10) throw new CustodianError('invalid_body', 'compelling grounds need their reasons (at least 10 characters)');
  }
  return deps.db.kysely.transaction().execute(async (trx) => {
    const { row, subjects, now } = await openRequest(deps, trx, id, ['objection']);
    const objectable = Object.entries(register.purposes)
      .filter(([, p]) => p.basis === 'legitimate-interests' || p.basis === 'public-task' || p.channels !== undefined)
      .map(([k]) => k);
    const named = input.purposes ? input.purposes.filter((p) => objectable.includes(p)) : objectable;
    const stopped = named.filter((p) => !grounds.has(p));
    let erased = 0;
    for (const s of subjects) {
      const records = await liveRecordsOf(trx, s);
      const marketing = stopped.filter((p) => register.purposes[p]?.channels);
      await recordConsentEvents(
        trx,
        deps.auditor,
        marketing.map((p) => ({ subjectId: s, purpose: p, channel: null, state: 'refused' as const, method: 'privacy-centre' as const, actor: input.actor })),
        register.fingerprint,
        now,
      );
      // Their addresses go on the suppression list (keyed hashes), which outlives any later erasure.
      await suppressRefusedMarketing(deps, subjectPeople, trx, { subjectId: s, reason: 'objected', actor: input.actor, purposes: marketing });
      const gone = records.filter((r) => r.purposes.length > 0 && r.purposes.every((p) => stopped.includes(p))).map((r) => r.id);
      erased += await eraseRecords(trx, deps.auditor, { subjectId: s, recordIds: gone, actor: input.actor, reason: 'objection' });
      const decisions: Decision[] = gone.map((r) => ({ recordId: r, action: 'erased', reason: 'objection-upheld' }));
      for (const r of records.filter((x) => !gone.includes(x.id) && x.purposes.some((p) => grounds.has(p))))
        decisions.push({ recordId: r.id, action: 'kept', reason: 'compelling-grounds' });
      await insertDecisions(trx, deps.auditor, { requestId: row.id, subjectId: s, decisions, actor: input.actor, now });
      await noticeRecipients(deps, trx, { requestId: row.id, subjectId: s, change: 'erasure', recordIds: gone, actor: input.actor, now });
    }
    return { erased, stopped, continued: [...grounds.keys()] };
  });
}

/**
 * Withdrawal of consent (Art. 7(3)): a ledger event per consent given or awaiting confirmation; what was held for
 * nothing else is erased.
 */
export async function withdrawConsentForRequest(
  deps: RightsDeps,
  id: string,
  input: { purposes?: readonly string[]; actor: string },
): Promise<{ withdrawn: number; erased: number }> {
  const { register } = deps;
  return deps.db.kysely.transaction().execute(async (trx) => {
    const { row, subjects, now } = await openRequest(deps, trx, id, ['withdraw-consent']);
    const given = (await heldConsentsOf(trx, subjects)).filter((g) => !input.purposes || input.purposes.includes(g.purpose));
    await recordConsentEvents(
      trx,
      deps.auditor,
      given.map((g) => ({
        subjectId: g.subjectId,
        purpose: g.purpose,
        channel: g.channel,
        state: 'withdrawn' as const,
        method: 'privacy-centre' as const,
        actor: input.actor,
      })),
      register.fingerprint,
      now,
    );
    const withdrawn = new Set(given.map((g) => g.purpose));
    let erased = 0;
    for (const s of subjects) {
      const gone = (await liveRecordsOf(trx, s)).filter((r) => r.purposes.length > 0 && r.purposes.every((p) => withdrawn.has(p))).map((r) => r.id);
      erased += await eraseRecords(trx, deps.auditor, { subjectId: s, recordIds: gone, actor: input.actor, reason: 'consent-withdrawn' });
      await insertDecisions(trx, deps.auditor, {
        requestId: row.id,
        subjectId: s,
        decisions: gone.map((r) => ({ recordId: r, action: 'erased', reason: 'consent-withdrawn' })),
        actor: input.actor,
        now,
      });
      await noticeRecipients(deps, trx, { requestId: row.id, subjectId: s, change: 'erasure', recordIds: gone, actor: input.actor, now });
    }
    return { withdrawn: given.length, erased };
  });
}

/** Acknowledges a complaint: the complainant is emailed (where they gave an address), the date recorded. */
export async function acknowledgeComplaint(deps: RightsDeps, id: string, input: { actor: string }): Promise<string> {
  return deps.db.kysely.transaction().execute(async (trx) => {
    const { row, now } = await openRequest(deps, trx, id, ['complaint']);
    if (row.acknowledged_on) throw new CustodianError('conflict', `acknowledged on ${row.acknowledged_on}`);
    const today = localDate(rulesOf(deps.register), now);
    const lang = deps.register.notice.language;
    const authority =
      deps.register.controller.jurisdiction === 'uk'
        ? "the Information Commissioner's Office (ico.org.uk)"
        : (pickText(deps.register.controller.authority?.name, lang) ?? 'a supervisory authority');
    if (row.contact_email) {
      await deps.mailer.enqueue(trx, deps.auditor, {
        kind: 'request-answer',
        to: row.contact_email,
        requestId: row.id,
        actor: input.actor,
        subjectLine:
          lang === 'de'
            ? `Ihre Beschwerde an ${deps.register.controller.name}: Eingangsbestätigung`
            : `We have received your complaint to ${deps.register.controller.name}`,
        text:
          lang === 'de'
            ? `Guten Tag,\n\nwir bestätigen den Eingang Ihrer Beschwerde vom ${row.received_on}. Wir prüfen sie und teilen Ihnen das Ergebnis mit. Sie können sich außerdem jederzeit an ${authority} wenden.\n\n${deps.register.controller.name}`
            : `Hello,\n\nWe acknowledge your complaint received on ${row.received_on}. We are looking into it and will tell you the outcome. You can also complain to ${authority} at any time.\n\n${deps.register.controller.name}`,
      });
    }
    await updateRequest(
      trx,
      deps.auditor,
      row.id,
      { acknowledged_on: today },
      { action: 'request.acknowledge', actor: input.actor, detail: { onTime: today <= acknowledgeBy(row.received_on) } },
    );
    return today;
  });
}

/** Staff record an Art. 19 notice done (the recipient confirmed) or impossible (with the reason). */
export async function completeNotice(
  deps: RightsDeps,
  id: string,
  input: { noticeId: string; state: 'done' | 'impossible'; reason?: string; actor: string },
): Promise<void> {
  if (!isUuid(id) || !isUuid(input.noticeId)) throw new CustodianError('not_found', 'no such notice');
  const reason = input.reason?.trim() || null;
  if (input.state === 'impossible' && (!reason || reason.length < 10))
    throw new CustodianError('invalid_body', 'say why telling this recipient is impossible or disproportionate');
  const request = await getRequest(deps.db.kysely, id.toLowerCase());
  if (!request) throw new CustodianError('not_found', 'no such notice');
  const ok = await deps.db.kysely.transaction().execute((trx) =>
    completeRecipientNotice(trx, deps.auditor, {
      requestId: request.id,
      noticeId: input.noticeId.toLowerCase(),
      state: input.state,
      reason,
      actor: input.actor,
      now: deps.clock.now(),
    }),
  );
  if (!ok) throw new CustodianError('conflict', 'no open notice with that id on this request');
}
