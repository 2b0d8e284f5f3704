// One change between two register versions, told to the people the notice addresses, and the shared helpers
// the comparisons use. Everything here is English, like the notice's change log.
import type { RegisterData, Text } from '../register/schema.ts';
import { countryName, isTransferAbroad } from './describe-terms.ts';
import { pickText } from '../register/text.ts';
import { stringsFor } from './strings.ts';

export interface Change {
  /** What changed, e.g. purpose-added, retention-longer, cookie-added. */
  readonly kind: string;
  /** Where in the register, e.g. purposes.marketing or cookies.ga. */
  readonly key: string;
  /** Material changes are ones a person would want to hear about before they take effect. */
  readonly severity: 'material' | 'minor';
  readonly text: string;
}

export const en = stringsFor('en');
export const t = (text: Text | undefined): string => (text === undefined ? '' : pickText(text, 'en'));
export const quote = (text: string): string => `"${text}"`;

export type Emit = (kind: string, key: string, severity: Change['severity'], text: string) => void;

/** "Name, email…" → "name, email…" inside a sentence; leaves acronyms ("NHS number") alone. */
export function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text.charAt(0).toLowerCase() + text.slice(1) : text;
}

export function categoryTitles(r: RegisterData, keys: Iterable<string>): string {
  return [...keys].map((k) => lowerFirst(t(r.data[k]?.title ?? k))).join('; ');
}

/** "(United States, standard contractual clauses)" for a recipient; just the country when no transfer. */
export function whereAndSafeguard(r: RegisterData, key: string): string {
  const rec = r.recipients[key];
  if (!rec) return '';
  const country = countryName(rec.country, 'en');
  if (!isTransferAbroad(r.controller.jurisdiction, rec.country)) return `(${country})`;
  return `(${country}, ${en.safeguardShort[rec.transfer?.safeguard ?? 'adequacy']})`;
}

/** Keys in both, only in the old, only in the new. */
export function compareKeys<T>(a: Readonly<Record<string, T>>, b: Readonly<Record<string, T>>): { both: string[]; removed: string[]; added: string[] } {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return { both: kb.filter((k) => k in a), removed: ka.filter((k) => !(k in b)), added: kb.filter((k) => !(k in a)) };
}

export function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
