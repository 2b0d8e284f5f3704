// The database half of collection: validated submissions written in one transaction, in the same few round trips
// however many submissions the batch holds. Subjects are found by identifier (within the batch too: two
// submissions for one new person make one subject), records are tagged from the register, sealed values are
// encrypted under each person's data key, and every change has its audit event in the same transaction.
//
// Round trips: BEGIN; who owns these identifiers; (returning people only: their locks, consents and keys); lock the
// audit heads; one statement that writes identifiers, subjects, keys, consents, records and audit events; COMMIT.
// Everything between is computed here, so the audit heads stay locked for as short a time as possible.
import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { prepareAuditAppend, type AuditInput } from '../audit/append-audit-event.ts';
import { CustodianError } from '../core/errors.ts';
import { sealValue } from '../crypto/seal.ts';
import { getOrCreateSubjectKey, makeSubjectKeys } from '../crypto/subject-keys.ts';
import type { Tables } from '../db/tables.ts';
import { isSealed, type CollectDeps, type CollectResult, type PreparedSubmission } from './collect-service.ts';
import { consentedPurposesOf, findIdentifierOwners, lockKnownSubjects } from './subjects-store.ts';

/** Another transaction claimed one of the batch's new identifiers (or merged a known subject) first; retry. */
export class IdentifierRace extends Error {
  constructor() {
    super('an identifier was claimed concurrently');
    this.name = 'IdentifierRace';
  }
}

const idKey = (kind: string, value: string) => `${kind}\u0000${value}`;

/** A PostgreSQL array literal of text, every element quoted: arrays of arrays cannot travel through unnest. */
function textArrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/[\\"]/g, '\\$&')}"`).join(',')}}`;
}

export async function writeSubmissions(deps: CollectDeps, batch: readonly PreparedSubmission[]): Promise<CollectResult[]> {
  return deps.db.kysely.transaction().execute((trx) => writeBatch(trx, deps, batch));
}

async function writeBatch(trx: Transaction<Tables>, deps: CollectDeps, batch: readonly PreparedSubmission[]): Promise<CollectResult[]> {
  const { register } = deps;
  const now = deps.clock.now();
  const audit: AuditInput[] = [];

  // 1. Who are they? Known identifiers (followed through merges), then the batch's own new people.
  const owners = await findIdentifierOwners(trx, batch.flatMap((s) => s.identifiers));
  const known = new Map(owners.map((o) => [idKey(o.kind, o.value), o.subjectId]));
  const subjects: { subjectId: string; created: boolean }[] = [];
  const newSubjects: { id: string; kind: string }[] = [];
  const claims: { kind: string; value: string; subjectId: string }[] = [];
  for (const s of batch) {
    let subjectId = s.identifiers.map((i) => known.get(idKey(i.kind, i.value))).find((id) => id !== undefined);
    const created = subjectId === undefined;
    if (subjectId === undefined) {
      subjectId = randomUUID();
      newSubjects.push({ id: subjectId, kind: s.subjectKind });
      audit.push({ actor: s.actor, action: 'subject.create', subjectId, detail: { kind: s.subjectKind, point: s.point } });
    }
    for (const i of s.identifiers) {
      const k = idKey(i.kind, i.value);
      if (known.has(k)) continue;
      known.set(k, subjectId);
      claims.push({ kind: i.kind, value: i.value, subjectId });
    }
    subjects.push({ subjectId, created });
  }
  const createdIds = new Set(newSubjects.map((n) => n.id));
  const returning = [...new Set(subjects.filter((x) => !x.created).map((x) => x.subjectId))];

  // 2. Returning people: hold them against a concurrent merge (before the audit heads, in the order a merge takes
  // its locks), then read their consents.
  if (returning.length > 0 && !(await lockKnownSubjects(trx, returning))) throw new IdentifierRace();
  const consentPurposes = (point: string) => register.collection[point]!.purposes.filter((p) => register.purposes[p]!.basis === 'consent');
  const returningWithConsent = returning.filter((id) => batch.some((s, i) => subjects[i]!.subjectId === id && consentPurposes(s.point).length > 0));
  const consented = await consentedPurposesOf(trx, returningWithConsent, [...new Set(batch.flatMap((s) => consentPurposes(s.point)))]);

  // 3. Consents given on the forms count at once: they are the newest events for their purposes.
  const consentRows = batch.flatMap((s, i) =>
    s.consents.map((c) => ({
      id: randomUUID(),
      subjectId: subjects[i]!.subjectId,
      purpose: c.purpose,
      channel: c.channel,
      method: s.actor.startsWith('staff:') ? 'staff' : 'form',
      point: s.point,
      actor: s.actor,
    })),
  );
  for (const c of consentRows) {
    let set = consented.get(c.subjectId);
    if (!set) consented.set(c.subjectId, (set = new Set()));
    set.add(c.purpose);
    audit.push({ actor: c.actor, action: 'consent.record', subjectId: c.subjectId, purpose: c.purpose, detail: { state: 'given', channel: c.channel, consent: c.id } });
  }

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
  const needKey = [...new Set(plans.filter((p) => p.values.some((v) => v.sealed)).map((p) => p.subjectId))];
  const made = makeSubjectKeys(deps.keyring, needKey.filter((id) => createdIds.has(id)), now);
  const keys = made.keys;
  for (const id of needKey) if (!keys.has(id)) keys.set(id, await getOrCreateSubjectKey(trx, deps.keyring, id, deps.clock));

  // 5. Records, sealed here, so nothing but writing is left once the audit heads are locked.
  const records = {
    id: [] as string[], subjectId: [] as string[], point: [] as string[], field: [] as string[], category: [] as string[],
    purposes: [] as string[], bases: [] as string[], source: [] as string[], channel: [] as string[], receivedAt: [] as (Date | null)[],
    retentionEvent: [] as string[], retentionStartsAt: [] as (Date | null)[], text: [] as (string | null)[], sealed: [] as (string | null)[],
  };
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

  // 6. Lock the audit heads and chain the events; then one statement writes everything. Whoever claims an
  // identifier first owns it (the subject reference is checked at commit): a lost claim means another transaction
  // just created that person, and a retry joins them.
  const chained = await prepareAuditAppend(trx, audit, { clock: deps.clock, fingerprint: register.fingerprint, checkpointKey: deps.checkpointKeys });
  const { rows } = await sql<{ won: number }>`
    WITH claimed AS (
      INSERT INTO subject_identifier (kind, value, subject_id, created_at)
      SELECT u.kind, u.value, u.subject_id, ${now}::timestamptz
      FROM unnest(${claims.map((c) => c.kind)}::text[], ${claims.map((c) => c.value)}::text[], ${claims.map((c) => c.subjectId)}::uuid[])
           AS u(kind, value, subject_id)
      ON CONFLICT (kind, value) DO NOTHING
      RETURNING 1
    ), subjects AS (
      INSERT INTO subject (id, kind, created_at)
      SELECT u.id, u.kind, ${now}::timestamptz FROM unnest(${newSubjects.map((n) => n.id)}::uuid[], ${newSubjects.map((n) => n.kind)}::text[]) AS u(id, kind)
    ), subject_keys AS (
      INSERT INTO subject_key (subject_id, master_key_id, wrapped_key, created_at)
      SELECT u.subject_id, u.master_key_id, decode(u.wrapped, 'hex'), ${now}::timestamptz
      FROM unnest(${made.rows.map((r) => r.subject_id)}::uuid[], ${made.rows.map((r) => r.master_key_id)}::text[],
                  ${made.rows.map((r) => Buffer.from(r.wrapped_key).toString('hex'))}::text[]) AS u(subject_id, master_key_id, wrapped)
    ), consents AS (
      INSERT INTO consent_event (id, subject_id, purpose, channel, state, method, collection_point, notice_fingerprint, at)
      SELECT u.id, u.subject_id, u.purpose, u.channel, 'given', u.method, u.point, ${register.fingerprint}, ${now}::timestamptz
      FROM unnest(${consentRows.map((c) => c.id)}::uuid[], ${consentRows.map((c) => c.subjectId)}::uuid[], ${consentRows.map((c) => c.purpose)}::text[],
                  ${consentRows.map((c) => c.channel)}::text[], ${consentRows.map((c) => c.method)}::text[], ${consentRows.map((c) => c.point)}::text[])
           AS u(id, subject_id, purpose, channel, method, point)
    ), records AS (
      INSERT INTO record (id, subject_id, collection_point, field, category, purposes, bases, source, channel, collected_at, received_at,
                          retention_event, retention_starts_at, value_text, value_sealed, register_fingerprint)
      SELECT u.id, u.subject_id, u.point, u.field, u.category, u.purposes::text[], u.bases::text[], u.source, u.channel, ${now}::timestamptz,
             u.received_at, u.retention_event, u.retention_starts_at, u.value_text, decode(u.sealed, 'hex'), ${register.fingerprint}
      FROM unnest(${records.id}::uuid[], ${records.subjectId}::uuid[], ${records.point}::text[], ${records.field}::text[], ${records.category}::text[],
                  ${records.purposes}::text[], ${records.bases}::text[], ${records.source}::text[], ${records.channel}::text[],
                  ${records.receivedAt}::timestamptz[], ${records.retentionEvent}::text[], ${records.retentionStartsAt}::timestamptz[],
                  ${records.text}::text[], ${records.sealed}::text[])
           AS u(id, subject_id, point, field, category, purposes, bases, source, channel, received_at, retention_event, retention_starts_at, value_text, sealed)
    ), audit_events AS (${chained.insertEvents}), audit_heads AS (${chained.advanceHeads})
    SELECT count(*)::int AS won FROM claimed`.execute(trx);
  if (rows[0]!.won < claims.length) throw new IdentifierRace();
  return results;
}
