// The statutory clock of a rights request: when the answer is due, in the controller's calendar.
// Pure: calendar dates ('YYYY-MM-DD') in and out; "today" is always passed in, never read from the system clock.
import Holidays from 'date-holidays';

export type Jurisdiction = 'uk' | 'eu';

export interface CalendarRules {
  readonly jurisdiction: Jurisdiction;
  /** date-holidays region: 'GB-ENG' (England and Wales), 'GB-SCT', 'GB-NIR', 'DE', 'DE-BY', 'IE', ... */
  readonly holidays: string;
  /** IANA zone of the controller's calendar, e.g. 'Europe/London', 'Europe/Berlin'. */
  readonly timeZone: string;
}

interface Pause {
  readonly from: string;
  /** null while the controller still waits for the answer. */
  readonly to: string | null;
}

export interface DueInput {
  /** The "relevant time" (UK: the latest of receipt, of identity information reasonably asked for, of a fee); EU: receipt. */
  readonly relevantDate: string;
  /** UK access requests only: clarification pauses; the days from asking to the answer, both included, do not count. */
  readonly pauses?: readonly Pause[];
  /** Extension by up to two further months (Art. 12(3)). */
  readonly extensionMonths?: 0 | 1 | 2;
}

export interface Due {
  /** The deadline, a working day. */
  readonly due: string;
  /** Before moving off a weekend or holiday. */
  readonly unadjusted: string;
  /** Days the clock stood still for clarification (only pauses that began before the clock ran out count). */
  readonly pausedDays: number;
  /** The latest date by which the requester must be told of an extension: the un-extended deadline. */
  readonly extensionNoticeBy: string;
}

type DueFlag = 'overdue' | 'due-soon' | 'on-time';

const DAY_MS = 86_400_000;
const DUE_SOON_DAYS = 7;
/** DUAA 2025 brought the clarification pause into force on this date; no pause can start earlier. */
const PAUSES_FROM = '2026-02-05';

/** The calendar of each EU/EEA country's capital: a controller elsewhere (Canaries, Azores...) names its zone. */
const EU_EEA_TIME_ZONES: Readonly<Record<string, string>> = Object.freeze({
  AT: 'Europe/Vienna',
  BE: 'Europe/Brussels',
  BG: 'Europe/Sofia',
  CY: 'Asia/Nicosia',
  CZ: 'Europe/Prague',
  DE: 'Europe/Berlin',
  DK: 'Europe/Copenhagen',
  EE: 'Europe/Tallinn',
  ES: 'Europe/Madrid',
  FI: 'Europe/Helsinki',
  FR: 'Europe/Paris',
  GR: 'Europe/Athens',
  HR: 'Europe/Zagreb',
  HU: 'Europe/Budapest',
  IE: 'Europe/Dublin',
  IS: 'Atlantic/Reykjavik',
  IT: 'Europe/Rome',
  LI: 'Europe/Vaduz',
  LT: 'Europe/Vilnius',
  LU: 'Europe/Luxembourg',
  LV: 'Europe/Riga',
  MT: 'Europe/Malta',
  NL: 'Europe/Amsterdam',
  NO: 'Europe/Oslo',
  PL: 'Europe/Warsaw',
  PT: 'Europe/Lisbon',
  RO: 'Europe/Bucharest',
  SE: 'Europe/Stockholm',
  SI: 'Europe/Ljubljana',
  SK: 'Europe/Bratislava',
});

/**
 * The controller's calendar. UK: England and Wales bank holidays and London time unless the register says otherwise
 * (the ICO's default). EU: the holidays and zone of the controller's country. Explicit values win.
 */
export function calendarRules(input: { jurisdiction: Jurisdiction; country?: string; holidays?: string; timeZone?: string }): CalendarRules {
  const { jurisdiction } = input;
  if (jurisdiction !== 'uk' && jurisdiction !== 'eu') throw new Error(`Unknown jurisdiction ${JSON.stringify(jurisdiction)}: use 'uk' or 'eu'`);
  let holidays = input.holidays;
  let timeZone = input.timeZone;
  if (jurisdiction === 'uk') {
    holidays ??= 'GB-ENG';
    timeZone ??= 'Europe/London';
  } else if (holidays === undefined || timeZone === undefined) {
    const country = input.country?.toUpperCase();
    if (!country) {
      throw new Error(
        "An EU controller's deadlines follow the holidays and time zone of its country: set controller.country (e.g. DE), " +
          'or both rights.holidays and rights.time-zone',
      );
    }
    holidays ??= country;
    if (timeZone === undefined) {
      const zone = EU_EEA_TIME_ZONES[country];
      if (zone === undefined) throw new Error(`No default time zone for country ${country}: set rights.time-zone (e.g. Europe/Berlin)`);
      timeZone = zone;
    }
  }
  checkHolidayRegion(holidays);
  checkTimeZone(timeZone);
  return Object.freeze({ jurisdiction, holidays, timeZone });
}

/** The calendar date of an instant in the controller's zone: 23:30 UTC on 30 June is 1 July in London (BST). */
export function localDate(rules: CalendarRules, instant: Date): string {
  if (Number.isNaN(instant.getTime())) throw new RangeError('localDate: the instant is not a valid date');
  const parts = dateFormatter(rules.timeZone).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year').padStart(4, '0')}-${part('month')}-${part('day')}`;
}

export function isWorkingDay(rules: CalendarRules, date: string): boolean {
  return isWorking(rules, parseDate(date, 'date'));
}

/** The date itself if it is a working day, else the first working day after it. */
export function nextWorkingDay(rules: CalendarRules, date: string): string {
  return formatDate(nextWorking(rules, parseDate(date, 'date')));
}

/**
 * When the answer to a rights request is due.
 *
 * Throws RangeError for a malformed date, an extension outside 0..2 months, any pause under EU rules, an open pause,
 * a pause ending before it starts, starting before the relevant date or before 5 Feb 2026, or overlapping another.
 */
export function dueDate(rules: CalendarRules, input: DueInput): Due {
  const start = parseDate(input.relevantDate, 'relevantDate');
  const extension = input.extensionMonths ?? 0;
  if (extension !== 0 && extension !== 1 && extension !== 2) {
    throw new RangeError(`extensionMonths must be 0, 1 or 2 (Art. 12(3): up to two further months), not ${String(extension)}`);
  }
  const pauses = checkPauses(rules, start, input.pauses ?? []);
  // ICO "Time limits for responding" / Reg. 1182/71 Art. 3(1), 3(2)(c): the day of receipt is day 1 and the period
  // ends on the same date of the following month, or on that month's last day when the date does not exist. An
  // extension (Art. 12(3)) counts its months from the relevant date too: 31 Jan + 3 months is 30 Apr, not 28 Apr.
  const extended = runClock(addMonths(start, 1 + extension), pauses);
  const first = runClock(addMonths(start, 1), pauses);
  return {
    due: formatDate(nextWorking(rules, extended.end)),
    unadjusted: formatDate(extended.end),
    pausedDays: extended.pausedDays,
    // Art. 12(3): the requester is told of an extension, with reasons, within the first month.
    extensionNoticeBy: formatDate(nextWorking(rules, first.end)),
  };
}

/** Calendar days from `today` to the due date (negative when overdue); the due date itself is still in time. */
export function dueStatus(due: string, today: string): { daysLeft: number; flag: DueFlag } {
  const daysLeft = parseDate(due, 'due') - parseDate(today, 'today');
  const flag: DueFlag = daysLeft < 0 ? 'overdue' : daysLeft <= DUE_SOON_DAYS ? 'due-soon' : 'on-time';
  return { daysLeft, flag };
}

// ---- pauses ----

interface Span {
  readonly from: number;
  readonly to: number;
}

// DUAA 2025 (UK GDPR Art. 12A): for access requests, the days from asking for clarification to receiving it, both
// included, do not count. The EU GDPR has no such pause.
function checkPauses(rules: CalendarRules, start: number, pauses: readonly Pause[]): Span[] {
  if (pauses.length === 0) return [];
  if (rules.jurisdiction === 'eu') throw new RangeError('EU GDPR requests have no clarification pause: the clock runs from receipt');
  const pausesFrom = parseDate(PAUSES_FROM, 'PAUSES_FROM');
  const spans = pauses.map((pause, i): Span => {
    const from = parseDate(pause.from, `pauses[${i}].from`);
    if (pause.to === null) throw new RangeError(`pauses[${i}] is still open: the deadline is not known until the clarification arrives`);
    const to = parseDate(pause.to, `pauses[${i}].to`);
    if (to < from) throw new RangeError(`pauses[${i}] ends (${pause.to}) before it starts (${pause.from})`);
    if (from < start) throw new RangeError(`pauses[${i}] starts (${pause.from}) before the relevant date: the clock had not started`);
    if (from < pausesFrom) throw new RangeError(`pauses[${i}] starts (${pause.from}) before the DUAA pause came into force (${PAUSES_FROM})`);
    return { from, to };
  });
  spans.sort((a, b) => a.from - b.from);
  for (let i = 1; i < spans.length; i++) {
    const previous = spans[i - 1] as Span;
    const span = spans[i] as Span;
    if (span.from <= previous.to)
      throw new RangeError(`pauses overlap: ${formatDate(span.from)} falls in the pause ${formatDate(previous.from)}..${formatDate(previous.to)}`);
  }
  return spans;
}

/**
 * The clock stops for each pause and the end moves by its days. A pause asked for after the period (as moved by
 * earlier pauses) had already run out cannot revive it, so it adds nothing: the earlier deadline is the safe one.
 */
function runClock(end: number, pauses: readonly Span[]): { end: number; pausedDays: number } {
  let moved = end;
  let pausedDays = 0;
  for (const pause of pauses) {
    if (pause.from > moved) break;
    const days = pause.to - pause.from + 1;
    moved += days;
    pausedDays += days;
  }
  return { end: moved, pausedDays };
}

// ---- working days ----

// ICO "Time limits for responding": a deadline on a weekend or bank holiday moves to the next working day.
// Reg. 1182/71 Art. 3(4): a period ending on a public holiday, Sunday or Saturday ends on the following working day.
function nextWorking(rules: CalendarRules, day: number): number {
  let next = day;
  while (!isWorking(rules, next)) next += 1;
  return next;
}

function isWorking(rules: CalendarRules, day: number): boolean {
  const weekday = new Date(day * DAY_MS).getUTCDay();
  if (weekday === 0 || weekday === 6) return false;
  const year = new Date(day * DAY_MS).getUTCFullYear();
  // A holiday spanning several days may begin in the previous year.
  return !daysOff(rules.holidays, year).has(day) && !daysOff(rules.holidays, year - 1).has(day);
}

const daysOffCache = new Map<string, Set<number>>();
const holidaysByRegion = new Map<string, Holidays>();

/**
 * The whole-day public holidays of a region in a year, substitute days included. date-holidays types: only 'public'
 * counts. Its 'bank' entries in Europe are eves and bank closures that are not public holidays in law (German and
 * Austrian Heiliger Abend from 14:00, Irish Good Friday, Dutch Oudejaarsavond...); 'optional', 'school' and
 * 'observance' are not days off. Every UK bank holiday, substitute days included, is typed 'public'.
 */
function daysOff(region: string, year: number): Set<number> {
  const key = `${region}/${year}`;
  const cached = daysOffCache.get(key);
  if (cached) return cached;
  let calendar = holidaysByRegion.get(region);
  if (!calendar) {
    calendar = new Holidays(region); // 'GB-ENG', 'DE-BY-KATH': country, state, region
    holidaysByRegion.set(region, calendar);
  }
  const days = new Set<number>();
  for (const holiday of calendar.getHolidays(year)) {
    // holiday.date is local to the region: 'YYYY-MM-DD hh:mm:ss'; a holiday from 13:00 or 14:00 is a half day.
    if (holiday.type !== 'public' || holiday.date.slice(11, 19) !== '00:00:00') continue;
    const first = parseDate(holiday.date.slice(0, 10), 'holiday');
    const length = Math.max(1, Math.round((holiday.end.getTime() - holiday.start.getTime()) / DAY_MS));
    for (let i = 0; i < length; i++) days.add(first + i);
  }
  daysOffCache.set(key, days);
  return days;
}

function checkHolidayRegion(region: string): void {
  const [country = '', state, local, ...rest] = region.split('-');
  const known = new Holidays();
  const countries = known.getCountries() ?? {};
  const fail = (why: string): never => {
    throw new Error(`Unknown holiday region ${JSON.stringify(region)}: ${why} (use a date-holidays region such as GB-ENG, GB-SCT, DE or DE-BY)`);
  };
  if (rest.length > 0 || !(country in countries)) fail(`no country ${JSON.stringify(country)}`);
  if (state === undefined) return;
  const states = known.getStates(country) ?? {};
  if (!(state in states)) fail(`${country} has no state ${JSON.stringify(state)}; it has ${Object.keys(states).join(', ') || 'none'}`);
  if (local === undefined) return;
  const regions = known.getRegions(country, state) ?? {};
  if (!(local in regions)) fail(`${country}-${state} has no region ${JSON.stringify(local)}`);
}

// ---- dates ----

const formatters = new Map<string, Intl.DateTimeFormat>();

function dateFormatter(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

function checkTimeZone(timeZone: string): void {
  try {
    dateFormatter(timeZone);
  } catch {
    throw new Error(`Unknown time zone ${JSON.stringify(timeZone)}: use an IANA zone such as Europe/London or Europe/Berlin`);
  }
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar date as a day number (days since 1970-01-01), so that arithmetic never meets a time zone. */
function parseDate(date: string, what: string): number {
  const match = typeof date === 'string' ? DATE.exec(date) : null;
  if (!match) throw new RangeError(`${what} must be a date written YYYY-MM-DD, not ${JSON.stringify(date)}`);
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) {
    throw new RangeError(`${what} is not a calendar date: ${date}`);
  }
  return Math.round(d.getTime() / DAY_MS);
}

function formatDate(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The same date `months` later, or that month's last day when the date does not exist there. */
function addMonths(day: number, months: number): number {
  const d = new Date(day * DAY_MS);
  const target = new Date(0);
  target.setUTCFullYear(d.getUTCFullYear(), d.getUTCMonth() + months + 1, 0); // day 0: the last day of the month
  target.setUTCDate(Math.min(d.getUTCDate(), target.getUTCDate()));
  return Math.round(target.getTime() / DAY_MS);
}
