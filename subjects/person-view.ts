// Everything held about one person, as staff see it: records grouped by purpose with basis, source, collected
// date and retention date. Sealed values are opened only when asked by a role allowed to, and each such read is
// written to the audit trail in the same transaction as the read.
import { appendAuditEvent } from '../audit/append-audit-event.ts';
import type { Clock } from '../core/clock.ts';
import { addDuration } from '../core/duration.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { openValue } from '../crypto/seal.ts';
import { getSubjectKey } from '../crypto/subject-keys.ts';
import type { Db } from '../db/connect.ts';
import { phraseKeep, phraseRetention } from '../documents/phrase-retention.ts';
import { pickText } from '../documents/pick-text.ts';
import { ordinal } from '../documents/strings-en.ts';
import type { Register } from '../register/load-register.ts';
import { DURATION_PATTERN } from '../register/schema.ts';
import { getSubjectOverview } from './subjects-store.ts';

export interface PersonViewDeps {
  readonly db: Db;
  readonly register: Register;
  readonly clock: Clock;
  readonly keyring: Keyring;
  readonly checkpointKeys: readonly Uint8Array[];
}

export interface RecordLine {
  readonly id: string;
  readonly field: string;
  readonly category: string;
  readonly special: boolean;
  /** The value, or null when sealed and not revealed, or erased. */
  readonly value: string | null;
  readonly sealed: boolean;
  readonly state: string;
  readonly source: string;
  readonly channel: string;
  readonly collectedAt: string;
  readonly receivedAt: string | null;
  /** "2034-11-22 (8 years after the service is completed)" or the rule when the clock has not started. */
  readonly keepUntil: string;
}

export interface PurposeGroup {
  readonly key: string;
  readonly title: string;
  readonly basis: string;
  readonly condition: string | null;
  readonly records: RecordLine[];
}

export interface PersonView {
  readonly id: string;
  readonly kind: string;
  readonly kindTitle: string;
  readonly createdAt: string;
  readonly mergedInto: string | null;
  readonly identifiers: { kind: string; value: string }[];
  readonly purposes: PurposeGroup[];
  readonly sealedCount: number;
  readonly revealed: boolean;
  readonly keyShredded: boolean;
}

export async function personView(
  deps: PersonViewDeps,
  subjectId: string,
  options: { reveal: boolean; actor: string },
): Promise<PersonView | null> {
  const { register } = deps;
  return deps.db.kysely.transaction().execute(async (trx) => {
    const overview = await getSubjectOverview(trx, subjectId);
    if (!overview) return null;
    const sealedRecords = overview.records.filter((r) => r.value_sealed !== null);
    let dek: Uint8Array | null = null;
    let keyShredded = false;
    if (sealedRecords.length > 0) {
      dek = await getSubjectKey(trx, deps.keyring, subjectId);
      keyShredded = dek === null;
    }
    const reveal = options.reveal && dek !== null && sealedRecords.length > 0;
    if (reveal) {
      await appendAuditEvent(
        trx,
        { actor: options.actor, action: 'record.read-sealed', subjectId, recordIds: sealedRecords.map((r) => r.id), detail: { count: sealedRecords.length } },
        { clock: deps.clock, fingerprint: register.fingerprint, checkpointKey: deps.checkpointKeys },
      );
    }

    const birthDate = birthDateOf(register, overview.records, (r) => (r.value_sealed !== null ? (reveal && dek ? openValue(dek, r.value_sealed, r.id) : null) : r.value_text));
    const groups = new Map<string, PurposeGroup>();
    for (const r of overview.records) {
      const sealed = r.value_sealed !== null;
      const value = r.state === 'erased' ? null : sealed ? (reveal && dek ? openValue(dek, r.value_sealed!, r.id) : null) : r.value_text;
      r.purposes.forEach((p, i) => {
        const purpose = register.purposes[p];
        let group = groups.get(p);
        if (!group) {
          group = {
            key: p,
            title: purpose ? pickText(purpose.title, 'en') : `${p} (no longer in the register)`,
            basis: r.bases[i] ?? purpose?.basis ?? 'unknown',
            condition: purpose?.condition ?? null,
            records: [],
          };
          groups.set(p, group);
        }
        group.records.push({
          id: r.id,
          field: r.field,
          category: register.data[r.category] ? pickText(register.data[r.category]!.title, 'en') : r.category,
          special: Boolean(register.data[r.category]?.special),
          value,
          sealed,
          state: r.state,
          source: r.source,
          channel: r.channel,
          collectedAt: isoDay(r.collected_at),
          receivedAt: r.received_at ? isoDay(r.received_at) : null,
          keepUntil: keepUntil(register, p, r.retention_event, r.retention_starts_at, r.collected_at, birthDate),
        });
      });
    }
    const kind = register.subjects[overview.subject.kind];
    return {
      id: overview.subject.id,
      kind: overview.subject.kind,
      kindTitle: kind ? pickText(kind.title, 'en') : overview.subject.kind,
      createdAt: isoDay(overview.subject.createdAt),
      mergedInto: overview.subject.mergedInto,
      identifiers: overview.identifiers,
      purposes: [...groups.values()],
      sealedCount: sealedRecords.length,
      revealed: reveal,
      keyShredded,
    };
  });
}

/**
 * The person's date of birth: the latest value of a field the register marks `birth-date`, when it can be read
 * (a sealed one only when the values are revealed). What "until-age" retention counts from.
 */
function birthDateOf<R extends { collection_point: string | null; field: string; collected_at: Date | string; state: string }>(
  register: Register,
  records: readonly R[],
  valueOf: (r: R) => string | null,
): Date | null {
  const marked = records
    .filter((r) => r.state !== 'erased' && r.collection_point !== null && register.collection[r.collection_point]?.fields[r.field]?.['birth-date'])
    .sort((a, b) => new Date(b.collected_at).getTime() - new Date(a.collected_at).getTime());
  for (const r of marked) {
    const value = valueOf(r);
    if (value && /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`))) return new Date(`${value}T00:00:00Z`);
  }
  return null;
}

/**
 * When a record's retention for one purpose runs out, from the register's rule, the record's dates and (for rules
 * that keep data until an age) the person's date of birth.
 */
export function keepUntil(
  register: Register,
  purposeKey: string,
  recordEvent: string,
  startsAt: Date | string | null,
  collectedAt: Date | string,
  birthDate: Date | null = null,
): string {
  const purpose = register.purposes[purposeKey];
  if (!purpose) return 'no rule: the purpose is no longer in the register';
  const rule = purpose.retention;
  const phrase = phraseRetention(register, rule, 'en');
  if (!DURATION_PATTERN.test(rule.keep)) return phrase;
  const age = rule['until-age'];
  const birthday = age && birthDate ? addDuration(birthDate, { years: age, months: 0, weeks: 0, days: 0, hours: 0, minutes: 0, seconds: 0 }) : null;
  const after = rule.after ?? 'collected';
  const start = after === 'collected' ? collectedAt : after === recordEvent ? startsAt : null;
  if (!start) {
    const pending = `${phraseKeep(register, rule, 'en')} (that event has not happened yet)`;
    // A birthday already behind the person when the data came in sets no bound worth showing.
    return birthday && birthday > new Date(collectedAt) ? `not before ${isoDay(birthday)}, the ${ordinal(age!)} birthday; ${pending}` : pending;
  }
  const until = addDuration(new Date(start), rule.keep);
  if (!age) return `${isoDay(until)} (${phrase})`;
  if (!birthday) return `${isoDay(until)} at the earliest (${phrase}; the date of birth is not known here)`;
  return `${isoDay(birthday > until ? birthday : until)} (${phrase})`;
}

function isoDay(d: Date | string): string {
  return new Date(d).toISOString().slice(0, 10);
}
