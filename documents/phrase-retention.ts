// A retention rule in plain words: "8 years after your scan is completed, then deleted". The notice, the
// Art. 30 record and the change list all use this one phrasing, so they can never disagree.
import type { Language, RegisterData, Retention } from '../register/schema.ts';
import { BUILT_IN_EVENTS } from '../register/vocabulary.ts';
import { isDuration, isZeroDuration } from '../core/duration.ts';
import { describeDuration } from './describe-duration.ts';
import { joinAlternatives } from './describe-terms.ts';
import { pickText } from '../register/text.ts';
import { stringsFor } from './strings.ts';

/** How an event reads after "after": a declared event's title, or a built-in event's phrase. */
export function eventPhrase(register: Pick<RegisterData, 'events'>, key: string, lang: Language): string {
  const declared = register.events[key];
  if (declared) return pickText(declared.title, lang);
  return BUILT_IN_EVENTS[key]?.[lang] ?? key;
}

/** The period alone, without what happens next: "8 years after your scan is completed", "until you object". */
export function phraseKeep(register: Pick<RegisterData, 'events'>, retention: Retention, lang: Language): string {
  const s = stringsFor(lang).retention;
  if (!isDuration(retention.keep)) return s.open[retention.keep as keyof typeof s.open] ?? retention.keep;
  const duration = describeDuration(retention.keep, lang);
  // A period with no event counts from collection, as retention/keep-until.ts counts it (check asks for "after").
  const event = eventPhrase(register, retention.after ?? 'collected', lang);
  const base = isZeroDuration(retention.keep) ? s.until(event) : s.after(duration, event);
  const withAge = retention['until-age'] ? base + s.untilAge(retention['until-age']) : base;
  const sooner = (retention.or ?? []).map((k) => s.open[k]);
  return sooner.length ? s.or(withAge, joinAlternatives(sooner, lang)) : withAge;
}

export function phraseRetention(register: Pick<RegisterData, 'events'>, retention: Retention, lang: Language): string {
  const s = stringsFor(lang).retention;
  let out = phraseKeep(register, retention, lang) + s.then + s.action[retention.then];
  if (retention.finally) out += s.later(s.action[retention.finally.then], describeDuration(retention.finally.keep, lang));
  return out;
}
