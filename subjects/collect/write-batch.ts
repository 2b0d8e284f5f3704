// The database half of collection: validated submissions written in one transaction, in the same few round trips
// however many submissions the batch holds. Records are tagged from the register, sealed values are encrypted under
// each person's data key, and every change has its audit event in the same statement.
//
// Who a submission is about: two people are never one. A public submission is always a new person; staff attach
// what they record to the person they chose, or to the one owner of a strong identifier they vouch for (a patient
// number within its practice). A new person who shares an identifier with someone known, and is not told apart by
// name or birth date, gets a "possibly the same person" item for staff (same-person.ts); nothing is joined.
//
// Round trips: BEGIN; who holds these identifiers (and, only when someone does, their names and birth dates);
// (staff only: owners of vouched identifiers, the chosen person; returning people: locks, families, consents, keys);
// lock the audit heads; one statement that writes identifiers, subjects, keys, consents, records, review items and
// audit events (batch-store.ts); COMMIT. Everything between is computed here, so the heads stay locked briefly.
import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { AppContext } from '../../app/app-context.ts';
import type { AuditInput } from '../../audit/auditor.ts';
import { gpcOnSubmission } from '../../consent/consent-purposes.ts';
import { consentedPurposes, type GivenConsentRow } from '../../consent/consent-store.ts';
import { confirmWithin, needsMailboxConfirmation, type PendingEmailConsent } from '../../consent/email-consent.ts';
import { contactHashesAmong, objectionChannels } from '../../consent/marketing.ts';
import type { SuppressionEntry } from '../../consent/suppression-store.ts';
import { addDuration } from '../../core/duration.ts';
import { CustodianError } from '../../core/errors.ts';
import { sealFile, sealValue } from '../../crypto/seal.ts';
import type { Tables } from '../../db/tables.ts';
import { isSealedCategory } from '../../register/categories.ts';
import { emptyFileColumns } from '../files-store.ts';
import type { NewReviewItem } from '../identity-store.ts';
import { reviewSignals, SHARED_LINE_LIMIT, traitFields, traitsOf } from '../same-person.ts';
import {
  chosenSubjects,
  emptyRecordColumns,
  findHolders,
  findVerifiedOwners,
  isIdentifierOwnerConflict,
  lockKnownSubjects,
  mergedFamilies,
  type NewIdentifier,
  type SubmittedIdentifier,
} from '../subjects-store.ts';
import { writeBatchStatement } from './batch-store.ts';
import { softOptInsOf } from '../../register/soft-opt-in.ts';
import { pickText } from '../../register/text.ts';
import type { CollectResult, FieldProblem, FileValue, PreparedSubmission } from './prepare-submission.ts';

/** What writing a batch uses of the app (the writer thread builds its own from the same keys). */
export type WriterDeps = Pick<AppContext, 'db' | 'register' | 'clock' | 'subjectKeys' | 'auditor'>;

/** How one submission of a batch ended. */
export type WriteOutcome = { readonly ok: true; readonly result: CollectResult } | { readonly ok: false; readonly error: unknown };

/** Writes batches of prepared submissions: in this thread, or on a writer thread (writer-thread.ts). */
export interface BatchWriter {
  write(batch: readonly PreparedSubmission[], now: Date): Promise<WriteOutcome[]>;
  close(): Promise<void>;
}

/** Another transaction merged a known subject since it was looked up; retry. */
class MergedMeanwhile extends Error {
  constructor() {
    super('a known subject was merged concurrently');
    this.name = 'MergedMeanwhile';
  }
}

/** Writes batches on the event loop that serves the requests (PGlite, which lives in this thread; the staff route). */
export function inThreadWriter(deps: WriterDeps): BatchWriter {
  return { write: (batch, now) => writeBatchOutcomes(deps, batch, now), close: async () => {} };
}

/**
 * One transaction for the batch. When the batch as a whole fails, each submission is written again on its own, so
 * one submission's failure (a consent it lacks, an erased person) is never another's.
 */
export async function writeBatchOutcomes(deps: WriterDeps, batch: readonly PreparedSubmission[], now: Date): Promise<WriteOutcome[]> {
  try {
    return (await writeWithRetry(deps, batch, now)).map((result) => ({ ok: true, result }));
  } catch (error) {
    if (batch.length === 1) return [{ ok: false, error }];
    const outcomes: WriteOutcome[] = [];
    for (const p of batch) {
      outcomes.push(
        await writeWithRetry(deps, [p], now).then(
          (r): WriteOutcome => ({ ok: true, result: r[0]! }),
          (e: unknown): WriteOutcome => ({ ok: false, error: e }),
        ),
      );
    }
    return outcomes;
  }
}

/** Writes prepared submissions in one transaction, retrying when another transaction merged someone or claimed a verified identifier first. */
async function writeWithRetry(deps: WriterDeps, batch: readonly PreparedSubmission[], now: Date): Promise<CollectResult[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.db.kysely.transaction().execute((trx) => writeBatch(trx, deps, batch, now));
    } catch (e) {
      // The other transaction has committed by the time the unique index reports it: a retry finds its subject.
      if ((e instanceof MergedMeanwhile || isIdentifierOwnerConflict(e)) && attempt < 3) continue;
      throw e;
    }
  }
}

const idKey = (i: { kind: string; scope: string; value: string }) => `${i.kind}\u0000${i.scope}\u0000${i.value}`;
const defined = <T>(x: T | undefined): x is T => x !== undefined;

/** A PostgreSQL array literal of text, every element quoted: arrays of arrays cannot travel through unnest. */
function textArrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}

async function writeBatch(trx: Transaction<Tables>, deps: WriterDeps, batch: readonly PreparedSubmission[], now: Date): Promise<CollectResult[]> {
  const { register } = deps;
  const audit: AuditInput[] = [];

  // 1. Who are they? Staff's chosen people and the owners of the strong identifiers they vouch for; the rest are new.
  const owners = await findVerifiedOwners(
    trx,
    batch.filter((s) => s.vouched).flatMap((s) => s.identifiers),
  );
  const ownerOf = new Map(owners.map((o) => [idKey(o), o.subjectId]));
  const chosen = await chosenSubjects(trx, [...new Set(batch.flatMap((s) => (s.attachTo ? [s.attachTo] : [])))]);
  const subjects: { subjectId: string; created: boolean }[] = [];
  const newSubjects: { id: string; kind: string }[] = [];
  const claims = new Map<string, NewIdentifier>();
  for (const s of batch) {
    let subjectId: string | undefined;
    if (s.attachTo) {
      const c = chosen.get(s.attachTo);
      if (!c) throw new CustodianError('not_found', 'nobody with that Custodian id');
      if (c.kind !== s.subjectKind) throw new CustodianError('conflict', `this form is about a ${s.subjectKind}; that person is a ${c.kind}`);
      if (c.erased) throw new CustodianError('conflict', 'that person was erased: record this as a new person');
      subjectId = c.holder;
    } else if (s.vouched) {
      // Two owners: the submission names two people. It is neither of them; the review items say why.
      const found = new Set(s.identifiers.map((i) => ownerOf.get(idKey(i))).filter(defined));
      if (found.size === 1) subjectId = [...found][0];
    }
    const created = subjectId === undefined;
    if (subjectId === undefined) {
      subjectId = randomUUID();
      newSubjects.push({ id: subjectId, kind: s.subjectKind });
      audit.push({ actor: s.actor, action: 'subject.create', subjectId, detail: { kind: s.subjectKind, point: s.point } });
    }
    for (const i of s.identifiers) {
      const verified = s.vouched && i.strong && i.scope !== '';
      if (verified && !ownerOf.has(idKey(i))) ownerOf.set(idKey(i), subjectId);
      const key = `${subjectId}\u0000${idKey(i)}`;
      const prev = claims.get(key);
      claims.set(key, { ...i, subjectId, verified: verified || (prev?.verified ?? false) });
    }
    subjects.push({ subjectId, created });
  }
  const reviewItems = await reviewItemsFor(trx, register, batch, subjects);
  const actorOf = new Map(subjects.map((x, i) => [x.subjectId, batch[i]!.actor]));
  for (const item of reviewItems) {
    audit.push({
      actor: actorOf.get(item.subjectId)!,
      action: 'identity.review-open',
      subjectId: item.subjectId,
      detail: { item: item.id, candidate: item.candidateId, signals: item.signals.join(',') },
    });
  }
  const createdIds = new Set(newSubjects.map((n) => n.id));
  const returning = [...new Set(subjects.filter((x) => !x.created).map((x) => x.subjectId))];

  // 2. Returning people: hold them against a concurrent merge (before the audit heads, in the order a merge takes
  // its locks), then read their consents, their own and those of people merged into them.
  if (returning.length > 0 && !(await lockKnownSubjects(trx, returning))) throw new MergedMeanwhile();
  const consentPurposes = (point: string) => register.collection[point]!.purposes.filter((p) => register.purposes[p]!.basis === 'consent');
  const returningWithConsent = returning.filter((id) => batch.some((s, i) => subjects[i]!.subjectId === id && consentPurposes(s.point).length > 0));
  const consented =
    returningWithConsent.length === 0
      ? new Map<string, Set<string>>()
      : await consentedPurposes(trx, await mergedFamilies(trx, returningWithConsent), [...new Set(batch.flatMap((s) => consentPurposes(s.point)))]);

  // 3. Consents ticked on the forms: the newest events for their purposes. Email consent ticked on a public form is
  // pending until confirmed from that mailbox (consent/email-consent.ts: the collector mails the link once this
  // commits), lapsing unconfirmed after the register's period; the rest count at once. A pending consent still lets
  // its purpose receive the submission's data: the address is what the confirmation is sent to.
  const confirmBy = addDuration(now, confirmWithin(register));
  const pendingOf = new Map<number, PendingEmailConsent[]>();
  const consentRows: (GivenConsentRow & { actor: string })[] = batch.flatMap((s, i) =>
    s.consents.map((c) => {
      const id = randomUUID();
      const pending = !s.vouched && needsMailboxConfirmation(register, c.purpose, c.channel);
      if (pending) pendingOf.set(i, [...(pendingOf.get(i) ?? []), { eventId: id, purpose: c.purpose, channel: c.channel, expiresAt: confirmBy.toISOString() }]);
      return {
        id,
        subjectId: subjects[i]!.subjectId,
        purpose: c.purpose,
        channel: c.channel,
        method: s.vouched ? ('staff' as const) : ('form' as const),
        point: s.point,
        state: pending ? ('pending' as const) : ('given' as const),
        expiresAt: pending ? confirmBy : null,
        actor: s.actor,
      };
    }),
  );
  for (const c of consentRows) {
    let set = consented.get(c.subjectId);
    if (!set) consented.set(c.subjectId, (set = new Set()));
    set.add(c.purpose);
    audit.push({
      actor: c.actor,
      action: 'consent.record',
      subjectId: c.subjectId,
      purpose: c.purpose,
      detail: { state: c.state ?? 'given', channel: c.channel, consent: c.id },
    });
  }

  // 3b. Objections ticked on the form (a boolean field with `objects:`, such as "no news by post"): recorded in the
  // ledger with the values, so that marketing stops at once (consent/marketing.ts reads the ledger).
  const objectionsOf = new Map<number, { purpose: string; channel: string | null }[]>();
  for (const [i, s] of batch.entries()) {
    const fields = register.collection[s.point]!.fields;
    for (const [name, value] of s.values) {
      const objects = fields[name]?.objects;
      if (!objects || value !== true) continue;
      const id = randomUUID();
      const row = { id, subjectId: subjects[i]!.subjectId, purpose: objects, channel: fields[name]!.channel ?? null, point: s.point, context: `field:${name}` };
      consentRows.push({ ...row, method: s.vouched ? ('staff' as const) : ('form' as const), state: 'objected', actor: s.actor });
      objectionsOf.set(i, [...(objectionsOf.get(i) ?? []), { purpose: objects, channel: row.channel }]);
      audit.push({
        actor: s.actor,
        action: 'consent.record',
        subjectId: row.subjectId,
        purpose: objects,
        detail: { state: 'objected', channel: row.channel, consent: id },
      });
    }
  }

  // 3c. Global Privacy Control sent with a public submission (`Sec-GPC: 1`): objections to legitimate-interest
  // marketing and profiling, refusals of every consent purpose the form does not tick (consent-purposes.ts), method
  // gpc. Boxes ticked on the form stay consents: the tick is the person's specific act, GPC a general signal.
  const gpcObjected = new Map<number, Set<string>>();
  for (const [i, s] of batch.entries()) {
    if (!s.gpc) continue;
    const subjectId = subjects[i]!.subjectId;
    const choices = gpcOnSubmission(register, s.consents);
    gpcObjected.set(i, new Set(choices.filter((c) => c.state === 'objected').map((c) => c.purpose)));
    // One receipt for the signal's rows, named by their audit event.
    const receiptId = randomUUID();
    for (const c of choices) {
      consentRows.push({
        id: randomUUID(),
        receiptId,
        subjectId,
        purpose: c.purpose,
        channel: c.channel,
        method: 'gpc',
        point: s.point,
        state: c.state,
        actor: s.actor,
      });
      if (c.state === 'objected') objectionsOf.set(i, [...(objectionsOf.get(i) ?? []), { purpose: c.purpose, channel: c.channel }]);
    }
    const count = (state: string) => choices.filter((c) => c.state === state).length;
    audit.push({
      actor: s.actor,
      action: 'consent.record',
      subjectId,
      detail: { method: 'gpc', objected: count('objected'), refused: count('refused'), receipt: receiptId },
    });
  }

  // 3d. An objection to marketing also puts the person's email and phone on the suppression list (keyed hashes) for
  // the channels objected to, as an objection request does: they are not contacted again on those channels, even as
  // a new person with the same address. Never for a channel the same submission ticks a consent box for.
  const suppressions = new Map<string, SuppressionEntry>();
  for (const [i, objections] of objectionsOf) {
    const s = batch[i]!;
    const channels = objectionChannels(register, objections, s.consents);
    const hashes = channels.length === 0 ? [] : await contactHashesAmong(deps, trx, s.identifiers);
    if (hashes.length === 0) continue;
    for (const hash of hashes) for (const channel of channels) suppressions.set(`${hash.toString('hex')}:${channel}`, { hash, channel });
    audit.push({
      actor: s.actor,
      action: 'marketing.suppress',
      subjectId: subjects[i]!.subjectId,
      detail: { reason: 'objected', entries: hashes.length * channels.length, channels: channels.join(',') },
    });
  }

  // 3e. The soft opt-in (PECR reg. 22(3)): a submission of a point the register names as a sale, carrying the person's
  // contact and with every box refusing that marketing unticked, is recorded with its sale (register/soft-opt-in.ts);
  // without such a record nobody is sent soft opt-in marketing (consent/marketing.ts).
  for (const [i, s] of batch.entries()) {
    for (const o of softOptInsOf(register, s.point, (name) => s.values.get(name))) {
      // A Global Privacy Control signal sent with the sale objects to that marketing: no soft opt-in beside it.
      if (gpcObjected.get(i)?.has(o.purpose)) continue;
      const id = randomUUID();
      const subjectId = subjects[i]!.subjectId;
      const method = s.vouched ? ('staff' as const) : ('form' as const);
      consentRows.push({
        id,
        subjectId,
        purpose: o.purpose,
        channel: o.channel,
        method,
        point: s.point,
        state: 'soft-opt-in',
        context: o.context,
        actor: s.actor,
      });
      audit.push({
        actor: s.actor,
        action: 'consent.record',
        subjectId,
        purpose: o.purpose,
        detail: { state: 'soft-opt-in', channel: o.channel, consent: id },
      });
    }
  }

  // 4. Which purposes each value serves; which people need a data key.
  const plans = batch.map((s, i) => {
    const point = register.collection[s.point]!;
    const subjectId = subjects[i]!.subjectId;
    const given = consented.get(subjectId) ?? new Set<string>();
    const refused: FieldProblem[] = [];
    const entries: [string, string | number | boolean | FileValue][] = [...s.values, ...s.files];
    const values = entries.flatMap(([name, value]) => {
      const field = point.fields[name]!;
      const purposes = point.purposes.filter((p) => {
        const purpose = register.purposes[p]!;
        return purpose.data.includes(field.data) && (purpose.basis !== 'consent' || given.has(p));
      });
      if (purposes.length === 0) {
        // Named by the consent's title and its checkbox, never by internal keys.
        const wanted = consentPurposes(s.point);
        const boxes = Object.keys(point.fields).filter((n) => wanted.includes(point.fields[n]!.consent ?? ''));
        const titles = wanted.map((p) => `"${pickText(register.purposes[p]!.title, 'en')}"`).join(' or ');
        refused.push({
          field: name,
          code: 'consent-needed',
          problem: `is only used with your consent to ${titles}${boxes.length > 0 ? ` (tick ${boxes.join(' or ')})` : ''}, which this submission does not give`,
          params: { consent: boxes },
        });
        return [];
      }
      // A file is always sealed, whatever its category: the record's value is its name, the bytes go beside it.
      const file = typeof value === 'object' ? value : null;
      return [
        {
          name,
          value: file ? file.name : String(value),
          file,
          category: field.data,
          purposes,
          sealed: file !== null || isSealedCategory(register, field.data),
        },
      ];
    });
    if (refused.length > 0) throw new CustodianError('consent_required', 'some fields need a consent this submission does not give', { problems: refused });
    return { s, subjectId, values };
  });
  const needKey = [...new Set(plans.filter((p) => p.values.some((v) => v.sealed)).map((p) => p.subjectId))];
  const made = deps.subjectKeys.makeNew(
    needKey.filter((id) => createdIds.has(id)),
    now,
  );
  const keys = made.keys;
  for (const id of needKey) if (!keys.has(id)) keys.set(id, await deps.subjectKeys.getOrCreate(trx, id, now));

  // 5. Records, sealed here, so nothing but writing is left once the audit heads are locked.
  const records = emptyRecordColumns();
  const files = emptyFileColumns();
  const results: CollectResult[] = plans.map(({ s, subjectId, values }, i) => {
    const point = register.collection[s.point]!;
    const retentionEvent = point.starts ?? 'collected';
    const recordIds: string[] = [];
    for (const v of values) {
      const id = randomUUID();
      recordIds.push(id);
      records.id.push(id);
      records.subjectId.push(subjectId);
      records.point.push(s.point);
      records.field.push(v.name);
      records.category.push(v.category);
      records.purposes.push(textArrayLiteral(v.purposes));
      records.bases.push(textArrayLiteral(v.purposes.map((p) => register.purposes[p]!.basis)));
      records.source.push(point.source);
      records.channel.push(s.channel);
      records.receivedAt.push(s.receivedAt);
      records.retentionEvent.push(retentionEvent);
      records.retentionStartsAt.push(retentionEvent === 'collected' ? now : null);
      records.text.push(v.sealed ? null : v.value);
      records.sealed.push(v.sealed ? Buffer.from(sealValue(keys.get(subjectId)!, v.value, id)).toString('hex') : null);
      if (v.file) {
        files.recordId.push(id);
        files.mediaType.push(v.file.mediaType);
        files.size.push(v.file.bytes.length);
        files.content.push(Buffer.from(sealFile(keys.get(subjectId)!, v.file.bytes, id)).toString('hex'));
      }
    }
    if (recordIds.length > 0) {
      const purposes = [...new Set(values.flatMap((v) => v.purposes))];
      audit.push({
        actor: s.actor,
        action: 'record.create',
        subjectId,
        recordIds,
        ...(purposes.length === 1 ? { purpose: purposes[0]! } : {}),
        detail: {
          point: s.point,
          channel: s.channel,
          purposes: purposes.join(','),
          sealed: values.filter((v) => v.sealed).length,
          ...(values.some((v) => v.file) ? { files: values.filter((v) => v.file).length } : {}),
        },
      });
    }
    return {
      subjectId,
      recordIds,
      createdSubject: subjects[i]!.created,
      reviewItems: reviewItems.filter((r) => r.subjectId === subjectId).length,
      pendingConsents: pendingOf.get(i) ?? [],
      confirmationsSent: 0,
    };
  });

  // 6. Lock the audit heads and chain the events; then one statement writes everything. Whoever claims an
  // identifier first owns it (the subject reference is checked at commit): a lost claim means another transaction
  // just created that person, and a retry joins them.
  await writeBatchStatement(trx, deps.auditor, {
    now,
    fingerprint: register.fingerprint,
    claims: [...claims.values()],
    newSubjects,
    reviewItems,
    newKeys: made.rows,
    consents: consentRows,
    suppressions: [...suppressions.values()],
    records,
    files,
    audit,
  });
  return results;
}

/**
 * "Possibly the same person" items for the batch's new people: everyone (known, or earlier in the batch) of the same
 * kind who holds one of their identifiers in its scope, unless name or birth date tells them apart. One indexed
 * query; a second only when somebody holds one.
 */
async function reviewItemsFor(
  trx: Transaction<Tables>,
  register: WriterDeps['register'],
  batch: readonly PreparedSubmission[],
  subjects: readonly { subjectId: string; created: boolean }[],
): Promise<NewReviewItem[]> {
  const asked: (SubmittedIdentifier & { subjectKind: string; submission: number })[] = batch.flatMap((s, n) =>
    subjects[n]!.created ? s.identifiers.map((i) => ({ ...i, subjectKind: s.subjectKind, submission: n })) : [],
  );
  if (asked.length === 0) return [];
  const fields = traitFields(register);
  const { holders, values } = await findHolders(trx, asked, SHARED_LINE_LIMIT, fields);
  // Who shares what with whom: known holders, then earlier new people of the batch.
  const shared = new Map<string, { submission: number; candidate: string; ids: SubmittedIdentifier[] }>();
  const share = (submission: number, candidate: string, id: SubmittedIdentifier) => {
    const key = `${submission}\u0000${candidate}`;
    const entry = shared.get(key) ?? { submission, candidate, ids: [] };
    entry.ids.push(id);
    shared.set(key, entry);
  };
  for (const h of holders) share(asked[h.identifier]!.submission, h.subjectId, asked[h.identifier]!);
  const firstNew = new Map<string, number>();
  for (const a of asked) {
    if (a.scope === '') continue;
    const key = `${a.subjectKind}\u0000${idKey(a)}`;
    const earlier = firstNew.get(key);
    if (earlier === undefined) firstNew.set(key, a.submission);
    else if (earlier !== a.submission) share(a.submission, subjects[earlier]!.subjectId, a);
  }
  if (shared.size === 0) return [];
  const known = traitsOf(fields, values);
  const inBatch = new Map(
    subjects.map((x, n) => [
      x.subjectId,
      {
        names: new Set(batch[n]!.traits.name ? [batch[n]!.traits.name] : []),
        birthDates: new Set(batch[n]!.traits.birthDate ? [batch[n]!.traits.birthDate] : []),
      },
    ]),
  );
  const items: NewReviewItem[] = [];
  for (const { submission, candidate, ids } of shared.values()) {
    const theirs = known.get(candidate) ?? inBatch.get(candidate) ?? { names: new Set<string>(), birthDates: new Set<string>() };
    const signals = reviewSignals(ids, batch[submission]!.traits, theirs);
    if (signals) items.push({ id: randomUUID(), subjectId: subjects[submission]!.subjectId, candidateId: candidate, signals });
  }
  return items;
}
