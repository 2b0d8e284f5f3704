// Register vocabulary turned into words for people: countries, lists, legal articles, dates, contact lines.
import type { Language, RegisterData } from '../register/schema.ts';
import { UK_EEA } from '../register/vocabulary.ts';
import { stringsFor } from './strings.ts';

export function countryName(code: string, lang: Language): string {
  return new Intl.DisplayNames([lang], { type: 'region', fallback: 'code' }).of(code) ?? code;
}

/** "a, b and c" / "a, b und c" (British English: no serial comma). */
export function joinList(items: readonly string[], lang: Language): string {
  return new Intl.ListFormat(lang === 'en' ? 'en-GB' : 'de-DE', { type: 'conjunction' }).format(items);
}

/** 2026-11-01 → "1 November 2026" / "1. November 2026". */
export function formatDate(iso: string, lang: Language): string {
  return new Intl.DateTimeFormat(lang === 'de' ? 'de-DE' : 'en-GB', { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(`${iso}T00:00:00Z`));
}

export const BASIS_ARTICLE = {
  consent: 'a',
  contract: 'b',
  'legal-obligation': 'c',
  'vital-interests': 'd',
  'public-task': 'e',
  'legitimate-interests': 'f',
} as const;

export const CONDITION_ARTICLE = {
  'explicit-consent': 'a',
  employment: 'b',
  'vital-interests': 'c',
  'not-for-profit': 'd',
  'made-public': 'e',
  'legal-claims': 'f',
  'substantial-public-interest': 'g',
  'health-care': 'h',
  'public-health': 'i',
  'archiving-research': 'j',
} as const;

type Jurisdiction = RegisterData['controller']['jurisdiction'];

export function basisArticle(basis: keyof typeof BASIS_ARTICLE, jurisdiction: Jurisdiction, lang: Language): string {
  const s = stringsFor(lang);
  return s.article(6, 1, BASIS_ARTICLE[basis], s.law[jurisdiction]);
}

export function conditionArticle(condition: keyof typeof CONDITION_ARTICLE, jurisdiction: Jurisdiction, lang: Language): string {
  const s = stringsFor(lang);
  return s.article(9, 2, CONDITION_ARTICLE[condition], s.law[jurisdiction]);
}

/** Up to the first 12 hex characters: enough to tell versions apart when read aloud or compared by eye. */
export function shortFingerprint(fingerprint: string): string {
  return fingerprint.slice(0, 12);
}

export function upperFirst(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** Whether sending data to this country leaves the controller's home area (the UK, or the EEA). */
export function isTransferAbroad(jurisdiction: 'uk' | 'eu', country: string): boolean {
  return jurisdiction === 'uk' ? country !== 'GB' : country === 'GB' || !UK_EEA.has(country);
}

/** The controller's registrations as a list, whether the register gives one or several. */
export function registrationsOf(controller: RegisterData['controller']): readonly { authority: string; number: string }[] {
  const r = controller.registration;
  return r === undefined ? [] : Array.isArray(r) ? r : [r];
}

/** "a, b or c" / "a, b oder c". */
export function joinAlternatives(items: readonly string[], lang: Language): string {
  return new Intl.ListFormat(lang === 'en' ? 'en-GB' : 'de-DE', { type: 'disjunction' }).format(items);
}
