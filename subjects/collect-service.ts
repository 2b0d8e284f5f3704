// Collecting personal data through a declared collection point: the register decides which fields are accepted,
// which purposes and bases each value serves, and which values are sealed. Records, consents and their audit
// events are written in one transaction, so a 201 always means everything is stored.
import { randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import { appendAuditEvents } from '../audit/append-audit-event.ts';
import type { AuditInput } from '../audit/append-audit-event.ts';
import type { Clock } from '../core/clock.ts';
import { CustodianError } from '../core/errors.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { sealValue } from '../crypto/seal.ts';
import { getOrCreateSubjectKey } from '../crypto/subject-keys.ts';
import type { Db } from '../db/connect.ts';
import type { Register } from '../register/load-register.ts';
import { CHANNELS, type IDENTIFIER_KINDS } from '../register/schema.ts';
import { normaliseIdentifier, defaultPhoneRegion } from './normalise-identifier.ts';
import { parseSubmission } from './submission-schema.ts';
import { consentedPurposes, findOrCreateSubject, insertConsentEvents, insertRecords, type IdentifierInput } from './subjects-store.ts';
import type { RecordTable } from './tables.ts';

export type Channel = (typeof CHANNELS)[number];

export interface CollectDeps {
  readonly db: Db;
  readonly register: Register;
  readonly clock: Clock;
  readonly keyring: Keyring;
  /** Audit head checkpoint keys, the active one first (audit/checkpoint.ts). */
  readonly checkpointKeys: readonly Uint8Array[];
}

export interface CollectInput {
  readonly point: string;
  readonly body: unknown;
  /** Who submitted: `public:<point>` for the web, `staff:<user id>` when staff record a letter or call. */
  readonly actor: string;
  /** Staff-recorded submissions say how the data arrived and when. */
  readonly channel?: Channel;
  readonly receivedAt?: Date;
}

export interface CollectResult {
  readonly subjectId: string;
  readonly recordIds: string[];
  readonly createdSubject: boolean;
}

/** Whether values of a category are stored sealed. */
export function isSealed(register: Register, category: string): boolean {
  const c = register.data[category];
  return Boolean(c && (c.special || c.encrypt));
}

export async function collect(deps: CollectDeps, input: CollectInput): Promise<CollectResult> {
  const { register } = deps;
  const point = Object.hasOwn(register.collection, input.point) ? register.collection[input.point] : undefined;
  if (!point) throw new CustodianError('not_found', `there is no collection point "${input.point}"`);

  const parsed = parseSubmission(register, input.point, input.body);
  if (!parsed.ok) throw new CustodianError('invalid_fields', 'some fields are not accepted', { problems: parsed.problems });
  const { values, consents } = parsed.submission;

  const region = defaultPhoneRegion(register.controller);
  const identifiers: IdentifierInput[] = [];
  for (const [name, field] of Object.entries(point.fields)) {
    const value = values.get(name);
    if (!field.identifier || value === undefined) continue;
    const n = normaliseIdentifier(field.identifier as (typeof IDENTIFIER_KINDS)[number], String(value), region);
    if (!n.ok) throw new CustodianError('invalid_fields', 'some fields are not accepted', { problems: [{ field: name, problem: n.problem }] });
    identifiers.push({ kind: field.identifier, value: n.value });
  }

  const now = deps.clock.now();
  const consentPurposes = point.purposes.filter((p) => register.purposes[p]?.basis === 'consent');
  const retentionEvent = point.starts ?? 'collected';
  const channel = input.channel ?? point.channel;
  const actorCtx = { clock: deps.clock, fingerprint: register.fingerprint, checkpointKey: deps.checkpointKeys };

  return deps.db.kysely.transaction().execute(async (trx) => {
    const { subjectId, created } = await findOrCreateSubject(trx, point.subject, identifiers, now);
    const audit: AuditInput[] = [];
    if (created) audit.push({ actor: input.actor, action: 'subject.create', subjectId, detail: { kind: point.subject, point: input.point } });

    const consentIds = await insertConsentEvents(
      trx,
      consents.map(({ purpose, channel: consentChannel }) => ({
        subject_id: subjectId,
        visitor_id: null,
        purpose,
        channel: consentChannel,
        state: 'given' as const,
        method: input.actor.startsWith('staff:') ? ('staff' as const) : ('form' as const),
        collection_point: input.point,
        notice_fingerprint: register.fingerprint,
        at: now,
      })),
    );
    for (const [i, { purpose, channel: consentChannel }] of consents.entries()) {
      audit.push({ actor: input.actor, action: 'consent.record', subjectId, purpose, detail: { state: 'given', channel: consentChannel, consent: consentIds[i] ?? null } });
    }
    const consented = consentPurposes.length > 0 ? await consentedPurposes(trx, subjectId, consentPurposes) : new Set<string>();

    let dek: Uint8Array | undefined;
    const rows: Insertable<RecordTable>[] = [];
    const refused: { field: string; problem: string }[] = [];
    for (const [name, value] of values) {
      const field = point.fields[name]!;
      const purposes = point.purposes.filter((p) => {
        const purpose = register.purposes[p]!;
        return purpose.data.includes(field.data) && (purpose.basis !== 'consent' || consented.has(p));
      });
      if (purposes.length === 0) {
        refused.push({ field: name, problem: `is only used with your consent to ${consentPurposes.join(', ')}, which this submission does not give` });
        continue;
      }
      const id = randomUUID();
      const text = String(value);
      let sealed: Uint8Array | null = null;
      if (isSealed(register, field.data)) {
        dek ??= await getOrCreateSubjectKey(trx, deps.keyring, subjectId, deps.clock);
        sealed = sealValue(dek, text, id);
      }
      rows.push({
        id,
        subject_id: subjectId,
        collection_point: input.point,
        field: name,
        category: field.data,
        purposes,
        bases: purposes.map((p) => register.purposes[p]!.basis),
        source: point.source,
        channel,
        collected_at: now,
        received_at: input.receivedAt ?? null,
        retention_event: retentionEvent,
        retention_starts_at: retentionEvent === 'collected' ? now : null,
        value_text: sealed ? null : text,
        value_sealed: sealed,
        register_fingerprint: register.fingerprint,
      });
    }
    if (refused.length > 0) throw new CustodianError('consent_required', 'some fields need a consent this submission does not give', { problems: refused });

    await insertRecords(trx, rows);
    const recordIds = rows.map((r) => r.id);
    if (rows.length > 0) {
      const purposes = [...new Set(rows.flatMap((r) => r.purposes))];
      audit.push({
        actor: input.actor,
        action: 'record.create',
        subjectId,
        recordIds,
        purpose: purposes.length === 1 ? purposes[0]! : undefined,
        detail: { point: input.point, channel, purposes: purposes.join(','), sealed: rows.filter((r) => r.value_sealed).length },
      } as AuditInput);
    }
    await appendAuditEvents(trx, audit, actorCtx);
    return { subjectId, recordIds, createdSubject: created };
  });
}
