// ISO 8601 durations as the register writes them (P8Y, P3M, PT30M), and calendar arithmetic on them. The one parser:
// the register's schema, retention, the documents and the forms all read durations here.
// Subpath imports: the package root loads all ~250 date-fns modules, which costs over a second at every start.
import type { Duration as DateFnsDuration } from 'date-fns';
import { add } from 'date-fns/add';
import { sub } from 'date-fns/sub';

/** Years, months, weeks, days, hours, minutes, seconds (P8Y, P3M, P2W, P14D, PT30M). */
export const DURATION_PATTERN = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/;

export type Duration = Required<Pick<DateFnsDuration, 'years' | 'months' | 'weeks' | 'days' | 'hours' | 'minutes' | 'seconds'>>;

export const DURATION_UNITS = ['years', 'months', 'weeks', 'days', 'hours', 'minutes', 'seconds'] as const;

export function isDuration(text: string): boolean {
  return DURATION_PATTERN.test(text);
}

/** The parts of a duration, or undefined when `text` is not one. */
export function tryParseDuration(text: string): Duration | undefined {
  const m = DURATION_PATTERN.exec(text);
  if (!m) return undefined;
  const n = (s: string | undefined) => (s ? Number.parseInt(s, 10) : 0);
  return { years: n(m[1]), months: n(m[2]), weeks: n(m[3]), days: n(m[4]), hours: n(m[6]), minutes: n(m[7]), seconds: n(m[8]) };
}

export function parseDuration(text: string): Duration {
  const parts = tryParseDuration(text);
  if (!parts) throw new RangeError(`not an ISO 8601 duration: ${text}`);
  return parts;
}

/** P0D, PT0S…: no time at all. */
export function isZeroDuration(text: string): boolean {
  const parts = tryParseDuration(text);
  return parts !== undefined && DURATION_UNITS.every((u) => parts[u] === 0);
}

/** Calendar-aware: P1M after 31 January is the last day of February. */
export function addDuration(date: Date, duration: string | Duration): Date {
  return add(date, typeof duration === 'string' ? parseDuration(duration) : duration);
}

export function subtractDuration(date: Date, duration: string | Duration): Date {
  return sub(date, typeof duration === 'string' ? parseDuration(duration) : duration);
}

/** Whole years as a duration, for rules that keep data until an age. */
export function years(n: number): Duration {
  return { years: n, months: 0, weeks: 0, days: 0, hours: 0, minutes: 0, seconds: 0 };
}

/** Seconds in a duration with 365-day years and 30-day months: for cookie Max-Age, where a calendar is not needed. */
export function approximateSeconds(text: string): number {
  const d = parseDuration(text);
  return ((d.years * 365 + d.months * 30 + d.weeks * 7 + d.days) * 24 + d.hours) * 3600 + d.minutes * 60 + d.seconds;
}

/**
 * Orders two durations by length: negative when a is shorter. Calendar parts compare exactly where they can
 * (P12M equals P1Y, P2W equals P14D); months against days use the mean Gregorian month.
 */
export function compareDurations(a: string, b: string): number {
  const pa = parseDuration(a);
  const pb = parseDuration(b);
  const months = (p: Duration) => p.years * 12 + p.months;
  const seconds = (p: Duration) => ((p.weeks * 7 + p.days) * 24 + p.hours) * 3600 + p.minutes * 60 + p.seconds;
  const dm = months(pa) - months(pb);
  const ds = seconds(pa) - seconds(pb);
  if (dm === 0 || ds === 0 || Math.sign(dm) === Math.sign(ds)) return Math.sign(dm) || Math.sign(ds);
  const MEAN_MONTH_SECONDS = (365.2425 / 12) * 86400;
  return Math.sign(dm * MEAN_MONTH_SECONDS + ds);
}
