// The database half of collection: validated submissions written in one transaction, as a few multi-row
// statements however many submissions the batch holds. Subjects are found by identifier (within the batch too:
// two submissions for one new person make one subject), records are tagged from the register, sealed values are
// encrypted under each person's data key, and every change has its audit event in the same transaction.
import { randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import { appendAuditEvents, type AuditInput } from '../audit/append-audit-event.ts';
import { CustodianError } from '../core/errors.ts';
import { sealValue } from '../crypto/seal.ts';
import { createSubjectKeys, getOrCreateSubjectKey } from '../crypto/subject-keys.ts';
import { isSealed, type CollectDeps, type CollectResult, type PreparedSubmission } from './collect-service.ts';
import { consentedPurposesOf, findIdentifierOwners, insertConsentEvents, insertRecords } from './subjects-store.ts';
import type { RecordTable } from './tables.ts';

/** Another transaction claimed one of the batch's new identifiers first; retrying finds its subject. */
export class IdentifierRace extends Error {
  constructor() {
    super('an identifier was claimed concurrently');
    this.name = 'IdentifierRace';
  }
}

const idKey = (kind: string, value: string) => `${kind}\u0000${value}`;

export async function writeSubmissions(deps: CollectDeps, batch: readonly PreparedSubmission[]): Promise<CollectResult[]> {
  const { register } = deps;
  const now = deps.clock.now();
  const audit: AuditInput[] = [];

  return deps.db.kysely.transaction().execute(async (trx) => {
    // 1. Who are they? Known identifiers (followed through merges), then the batch's own new people.
    const owners = await findIdentifierOwners(trx, batch.flatMap((s) => s.identifiers));
    const known = new Map(owners.map((o) => [idKey(o.kind, o.value), o.subjectId]));
    const subjects: { subjectId: string; created: boolean }[] = [];
    const newSubjects: { id: string; kind: string; created_at: Date; merged_into: null; erased_at: null }[] = [];
    const claims: { kind: string; value: string; subject_id: string; created_at: Date }[] = [];
    for (const s of batch) {
      let subjectId = s.identifiers.map((i) => known.get(idKey(i.kind, i.value))).find((id) => id !== undefined);
      const created = subjectId === undefined;
      if (subjectId === undefined) {
        subjectId = randomUUID();
        newSubjects.push({ id: subjectId, kind: s.subjectKind, created_at: now, merged_into: null, erased_at: null });
        audit.push({ actor: s.actor, action: 'subject.create', subjectId, detail: { kind: s.subjectKind, point: s.point } });
      }
      for (const i of s.identifiers) {
        const k = idKey(i.kind, i.value);
        if (known.has(k)) continue;
        known.set(k, subjectId);
        claims.push({ kind: i.kind, value: i.value, subject_id: subjectId, created_at: now });
      }
      subjects.push({ subjectId, created });
    }

    // 2. Claim new identifiers first: whoever claims first owns the identifier (the subject reference is checked
    // at commit). A lost claim means another transaction just created that person: retry to join them.
    if (claims.length > 0) {
      const won = await trx.insertInto('subject_identifier').values(claims).onConflict((oc) => oc.columns(['kind', 'value']).doNothing()).returning('kind').execute();
      if (won.length < claims.length) throw new IdentifierRace();
    }
    if (newSubjects.length > 0) await trx.insertInto('subject').values(newSubjects).execute();

    // 3. Consents given on the forms, then the consent state every submission's purposes depend on.
    const consentRows = batch.flatMap((s, i) =>
      s.consents.map((c) => ({
        subject_id: subjects[i]!.subjectId,
        visitor_id: null,
        purpose: c.purpose,
        channel: c.channel,
        state: 'given' as const,
        method: s.actor.startsWith('staff:') ? ('staff' as const) : ('form' as const),
        collection_point: s.point,
        notice_fingerprint: register.fingerprint,
        at: now,
      })),
    );
    const consentIds = await insertConsentEvents(trx, consentRows);
    consentRows.forEach((c, i) => {
      const actor = batch[subjects.findIndex((x) => x.subjectId === c.subject_id)]!.actor;
      audit.push({ actor, action: 'consent.record', subjectId: c.subject_id, purpose: c.purpose, detail: { state: 'given', channel: c.channel, consent: consentIds[i] ?? null } });
    });
    const consentPurposes = (point: string) => register.collection[point]!.purposes.filter((p) => register.purposes[p]!.basis === 'consent');
    const needConsentState = [...new Set(batch.flatMap((s, i) => (consentPurposes(s.point).length > 0 ? [subjects[i]!.subjectId] : [])))];
    const consented = await consentedPurposesOf(trx, needConsentState, [...new Set(batch.flatMap((s) => consentPurposes(s.point)))]);

    // 4. Which purposes each value serves; which people need a data key.
    const plans = batch.map((s, i) => {
      const point = register.collection[s.point]!;
      const subjectId = subjects[i]!.subjectId;
      const given = consented.get(subjectId) ?? new Set<string>();
      const refused: { field: string; problem: string }[] = [];
      const values = [...s.values].flatMap(([name, value]) => {
        const field = point.fields[name]!;
        const purposes = point.purposes.filter((p) => {
          const purpose = register.purposes[p]!;
          return purpose.data.includes(field.data) && (purpose.basis !== 'consent' || given.has(p));
        });
        if (purposes.length === 0) {
          refused.push({ field: name, problem: `is only used with your consent to ${consentPurposes(s.point).join(', ')}, which this submission does not give` });
          return [];
        }
        return [{ name, value: String(value), category: field.data, purposes, sealed: isSealed(register, field.data) }];
      });
      if (refused.length > 0) throw new CustodianError('consent_required', 'some fields need a consent this submission does not give', { problems: refused });
      return { s, subjectId, values };
    });
    const needKey = new Set(plans.filter((p) => p.values.some((v) => v.sealed)).map((p) => p.subjectId));
    const createdIds = new Set(newSubjects.map((n) => n.id));
    const keys = await createSubjectKeys(trx, deps.keyring, [...needKey].filter((id) => createdIds.has(id)), deps.clock);
    for (const id of needKey) if (!keys.has(id)) keys.set(id, await getOrCreateSubjectKey(trx, deps.keyring, id, deps.clock));

    // 5. Records, one statement for the batch.
    const rows: Insertable<RecordTable>[] = [];
    const results: CollectResult[] = plans.map(({ s, subjectId, values }, i) => {
      const point = register.collection[s.point]!;
      const retentionEvent = point.starts ?? 'collected';
      const recordIds: string[] = [];
      for (const v of values) {
        const id = randomUUID();
        recordIds.push(id);
        const sealed = v.sealed ? sealValue(keys.get(subjectId)!, v.value, id) : null;
        rows.push({
          id,
          subject_id: subjectId,
          collection_point: s.point,
          field: v.name,
          category: v.category,
          purposes: v.purposes,
          bases: v.purposes.map((p) => register.purposes[p]!.basis),
          source: point.source,
          channel: s.channel,
          collected_at: now,
          received_at: s.receivedAt,
          retention_event: retentionEvent,
          retention_starts_at: retentionEvent === 'collected' ? now : null,
          value_text: sealed ? null : v.value,
          value_sealed: sealed,
          register_fingerprint: register.fingerprint,
        });
      }
      if (recordIds.length > 0) {
        const purposes = [...new Set(values.flatMap((v) => v.purposes))];
        audit.push({
          actor: s.actor,
          action: 'record.create',
          subjectId,
          recordIds,
          ...(purposes.length === 1 ? { purpose: purposes[0]! } : {}),
          detail: { point: s.point, channel: s.channel, purposes: purposes.join(','), sealed: values.filter((v) => v.sealed).length },
        });
      }
      return { subjectId, recordIds, createdSubject: subjects[i]!.created };
    });
    await insertRecords(trx, rows);
    await appendAuditEvents(trx, audit, { clock: deps.clock, fingerprint: register.fingerprint, checkpointKey: deps.checkpointKeys });
    return results;
  });
}
