// When a record's retention for one purpose runs out: pure date arithmetic from the register's rule, the record's
// dates and, for rules that keep data until an age (children's health records), the person's date of birth. The
// words for it are documents/' (phrase-keep-until.ts).
import { addDuration, isDuration, years } from '../core/duration.ts';
import type { RegisterData } from '../register/schema.ts';

export type KeepUntil =
  /** The purpose is no longer in the register. */
  | { readonly kind: 'no-rule' }
  /** Kept until something the person does (withdraws, objects...): no date. */
  | { readonly kind: 'open-ended' }
  /** The event that starts the clock has not happened yet; a birthday may already bound it from below. */
  | { readonly kind: 'pending'; readonly notBefore: Date | null }
  /** The date; `lowerBound` when the rule keeps data until an age and the date of birth is not known. */
  | { readonly kind: 'date'; readonly date: Date; readonly lowerBound: boolean };

export interface RecordDates {
  /** The event that starts this record's clock, and when it happened (null: not yet). */
  readonly event: string;
  readonly startsAt: Date | string | null;
  readonly collectedAt: Date | string;
  /** When a letter, call or email that staff entered later was received: a period counted from collection starts here. */
  readonly receivedAt?: Date | string | null;
  readonly birthDate?: Date | null;
}

export function keepUntil(register: Pick<RegisterData, 'purposes'>, purposeKey: string, record: RecordDates): KeepUntil {
  const purpose = Object.hasOwn(register.purposes, purposeKey) ? register.purposes[purposeKey] : undefined;
  if (!purpose) return { kind: 'no-rule' };
  const rule = purpose.retention;
  if (!isDuration(rule.keep)) return { kind: 'open-ended' };
  const age = rule['until-age'];
  const birthDate = record.birthDate ?? null;
  const birthday = age && birthDate ? addDuration(birthDate, years(age)) : null;
  const after = rule.after ?? 'collected';
  const start = after === 'collected' ? (record.receivedAt ?? record.collectedAt) : after === record.event ? record.startsAt : null;
  if (!start) {
    // A birthday already behind the person when the data came in sets no bound worth showing.
    return { kind: 'pending', notBefore: birthday && birthday > new Date(record.collectedAt) ? birthday : null };
  }
  const until = addDuration(new Date(start), rule.keep);
  if (!age) return { kind: 'date', date: until, lowerBound: false };
  if (!birthday) return { kind: 'date', date: until, lowerBound: true };
  return { kind: 'date', date: birthday > until ? birthday : until, lowerBound: false };
}
