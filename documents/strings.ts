// The fixed text of every generated document, per language (English in strings-en.ts, German in strings-de.ts).
import type { Language } from '../register/schema.ts';
import { de } from './strings-de.ts';
import { en, type Strings } from './strings-en.ts';

export type { Strings };

const STRINGS: Readonly<Record<Language, Strings>> = Object.freeze({ en, de });

export function stringsFor(lang: Language): Strings {
  return STRINGS[lang];
}
