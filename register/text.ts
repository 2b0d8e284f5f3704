// Register text is a string or { en, de? }: pick the reader's language, falling back to English.
import type { Language, Text } from './schema.ts';

export function pickText(text: Text, lang: Language): string;
export function pickText(text: Text | undefined, lang: Language): string | undefined;
export function pickText(text: Text | undefined, lang: Language): string | undefined {
  if (text === undefined) return undefined;
  if (typeof text === 'string') return text;
  return (lang === 'de' ? text.de : undefined) ?? text.en;
}
