// ISO 8601 durations as the register writes them (P8Y, P3M, PT30M), and calendar arithmetic on them.
// Subpath imports: the package root loads all ~250 date-fns modules, which costs over a second at every start.
import { add } from 'date-fns/add';
import { sub } from 'date-fns/sub';
import type { Duration as DateFnsDuration } from 'date-fns';
import { DURATION_PATTERN } from '../register/schema.ts';

export type Duration = Required<Pick<DateFnsDuration, 'years' | 'months' | 'weeks' | 'days' | 'hours' | 'minutes' | 'seconds'>>;

export function parseDuration(text: string): Duration {
  const m = DURATION_PATTERN.exec(text);
  if (!m) throw new RangeError(`not an ISO 8601 duration: ${text}`);
  const n = (s: string | undefined) => (s ? Number.parseInt(s, 10) : 0);
  return { years: n(m[1]), months: n(m[2]), weeks: n(m[3]), days: n(m[4]), hours: n(m[6]), minutes: n(m[7]), seconds: n(m[8]) };
}

/** Calendar-aware: P1M after 31 January is the last day of February. */
export function addDuration(date: Date, duration: string | Duration): Date {
  return add(date, typeof duration === 'string' ? parseDuration(duration) : duration);
}

export function subtractDuration(date: Date, duration: string | Duration): Date {
  return sub(date, typeof duration === 'string' ? parseDuration(duration) : duration);
}
