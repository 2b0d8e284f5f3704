// "Kept until" in words, as the person page shows it: the date and the register's rule, or why there is no date yet.
import type { KeepUntil } from '../retention/keep-until.ts';
import type { Language, RegisterData } from '../register/schema.ts';
import { phraseKeep, phraseRetention } from './phrase-retention.ts';
import { stringsFor } from './strings.ts';

/** "2034-11-22 (8 years after your scan is completed, then deleted)", or the rule when the clock has not started. */
export function phraseKeepUntil(register: Pick<RegisterData, 'events' | 'purposes'>, purposeKey: string, k: KeepUntil, lang: Language): string {
  const s = stringsFor(lang).keepUntil;
  const purpose = Object.hasOwn(register.purposes, purposeKey) ? register.purposes[purposeKey] : undefined;
  if (k.kind === 'no-rule' || !purpose) return s.noRule;
  const rule = purpose.retention;
  const phrase = phraseRetention(register, rule, lang);
  switch (k.kind) {
    case 'open-ended':
      return phrase;
    case 'pending': {
      const pending = s.pending(phraseKeep(register, rule, lang));
      return k.notBefore && rule['until-age'] ? s.notBefore(isoDay(k.notBefore), rule['until-age'], pending) : pending;
    }
    case 'date':
      return k.lowerBound ? s.atTheEarliest(isoDay(k.date), phrase) : `${isoDay(k.date)} (${phrase})`;
  }
}

function isoDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}
