// ISO 8601 durations from the register (P8Y, P14M, PT30M) in words, and compared by length.
import { DURATION_PATTERN, type Language } from '../register/schema.ts';
import { joinList } from './describe-terms.ts';
import { stringsFor } from './strings.ts';

export interface DurationParts {
  readonly years: number;
  readonly months: number;
  readonly weeks: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
}

const UNITS = ['years', 'months', 'weeks', 'days', 'hours', 'minutes', 'seconds'] as const;

export function parseDuration(iso: string): DurationParts | undefined {
  const m = DURATION_PATTERN.exec(iso);
  if (!m) return undefined;
  const n = (s: string | undefined) => (s ? Number.parseInt(s, 10) : 0);
  return { years: n(m[1]), months: n(m[2]), weeks: n(m[3]), days: n(m[4]), hours: n(m[6]), minutes: n(m[7]), seconds: n(m[8]) };
}

export function isDuration(value: string): boolean {
  return DURATION_PATTERN.test(value);
}

/** P0D, PT0S…: kept only until the event itself. */
export function isZeroDuration(iso: string): boolean {
  const parts = parseDuration(iso);
  return parts !== undefined && UNITS.every((u) => parts[u] === 0);
}

/** "8 years", "1 year and 6 months", "30 minutes"; German "8 Jahre", "1 Jahr und 6 Monate". */
export function describeDuration(iso: string, lang: Language): string {
  const parts = parseDuration(iso);
  if (!parts) return iso;
  const s = stringsFor(lang).duration;
  const words = UNITS.filter((u) => parts[u] > 0).map((u) => {
    const n = parts[u];
    const [one, many] = s[u];
    return `${n} ${n === 1 ? one : many}`;
  });
  if (words.length === 0) return s.none;
  return joinList(words, lang);
}

/**
 * Orders two durations by length: negative when a is shorter. Calendar parts compare exactly where they can
 * (P12M equals P1Y, P2W equals P14D); months against days use the mean Gregorian month.
 */
export function compareDurations(a: string, b: string): number {
  const pa = parseDuration(a);
  const pb = parseDuration(b);
  if (!pa || !pb) throw new Error(`not a duration: ${pa ? b : a}`);
  const months = (p: DurationParts) => p.years * 12 + p.months;
  const seconds = (p: DurationParts) => ((p.weeks * 7 + p.days) * 24 + p.hours) * 3600 + p.minutes * 60 + p.seconds;
  const dm = months(pa) - months(pb);
  const ds = seconds(pa) - seconds(pb);
  if (dm === 0 || ds === 0 || Math.sign(dm) === Math.sign(ds)) return Math.sign(dm) || Math.sign(ds);
  const MEAN_MONTH_SECONDS = (365.2425 / 12) * 86400;
  return Math.sign(dm * MEAN_MONTH_SECONDS + ds);
}
