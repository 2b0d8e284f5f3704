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
          keepUntil: keepUntil(register, p, r.retention_event, r.retention_starts_at, r.collected_at),
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

/** When a record's retention for one purpose runs out, from the register's rule and the record's dates. */
export function keepUntil(register: Register, purposeKey: string, recordEvent: string, startsAt: Date | string | null, collectedAt: Date | string): string {
  const purpose = register.purposes[purposeKey];
  if (!purpose) return 'no rule: the purpose is no longer in the register';
  const rule = purpose.retention;
  const phrase = phraseRetention(register, rule, 'en');
  if (!DURATION_PATTERN.test(rule.keep)) return phrase;
  const after = rule.after ?? 'collected';
  const start = after === 'collected' ? collectedAt : after === recordEvent ? startsAt : null;
  if (!start) return `${phraseKeep(register, rule, 'en')} (that event has not happened yet)`;
  const until = addDuration(new Date(start), rule.keep);
  return `${isoDay(until)}${rule['until-age'] ? ` at the earliest (${phrase})` : ` (${phrase})`}`;
}

function isoDay(d: Date | string): string {
  return new Date(d).toISOString().slice(0, 10);
}
