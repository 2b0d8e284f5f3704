// ISO 8601 durations from the register (P8Y, P14M, PT30M) in words.
import { DURATION_UNITS, tryParseDuration } from '../core/duration.ts';
import type { Language } from '../register/schema.ts';
import { joinList } from './describe-terms.ts';
import { stringsFor } from './strings.ts';

/** "8 years", "1 year and 6 months", "30 minutes"; German "8 Jahre", "1 Jahr und 6 Monate". */
export function describeDuration(iso: string, lang: Language): string {
  const parts = tryParseDuration(iso);
  if (!parts) return iso;
  const s = stringsFor(lang).duration;
  const words = DURATION_UNITS.filter((u) => parts[u] > 0).map((u) => {
    const n = parts[u];
    const [one, many] = s[u];
    return `${n} ${n === 1 ? one : many}`;
  });
  if (words.length === 0) return s.none;
  return joinList(words, lang);
}
