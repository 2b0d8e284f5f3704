// Deadlines written from the law and the published calendars (gov.uk bank holidays, German Feiertagsgesetze), not
// from what the holiday library happens to return: a wrong deadline is a breach of the rights it times.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addDays, addMonths, differenceInCalendarDays, format, isWeekend } from 'date-fns';
import fc from 'fast-check';
import { type CalendarRules, calendarRules, dueDate, dueStatus, isWorkingDay, localDate, nextWorkingDay } from './statutory-clock.ts';

const england = calendarRules({ jurisdiction: 'uk' });
const scotland = calendarRules({ jurisdiction: 'uk', holidays: 'GB-SCT' });
const germany = calendarRules({ jurisdiction: 'eu', country: 'DE' });
const bavaria = calendarRules({ jurisdiction: 'eu', country: 'DE', holidays: 'DE-BY' });
const berlin = calendarRules({ jurisdiction: 'eu', country: 'DE', holidays: 'DE-BE' });
const ireland = calendarRules({ jurisdiction: 'eu', country: 'IE' });

const due = (rules: CalendarRules, relevantDate: string, extensionMonths: 0 | 1 | 2 = 0): string => dueDate(rules, { relevantDate, extensionMonths }).due;

test('calendarRules: UK defaults to England and Wales in London time, EU to the country, explicit values win', () => {
  assert.deepEqual({ ...england }, { jurisdiction: 'uk', holidays: 'GB-ENG', timeZone: 'Europe/London' });
  assert.deepEqual({ ...germany }, { jurisdiction: 'eu', holidays: 'DE', timeZone: 'Europe/Berlin' });
  assert.deepEqual({ ...ireland }, { jurisdiction: 'eu', holidays: 'IE', timeZone: 'Europe/Dublin' });
  assert.deepEqual({ ...calendarRules({ jurisdiction: 'eu', country: 'fr' }) }, { jurisdiction: 'eu', holidays: 'FR', timeZone: 'Europe/Paris' });
  assert.deepEqual({ ...bavaria }, { jurisdiction: 'eu', holidays: 'DE-BY', timeZone: 'Europe/Berlin' });
  assert.deepEqual(
    { ...calendarRules({ jurisdiction: 'eu', holidays: 'ES', timeZone: 'Atlantic/Canary' }) },
    { jurisdiction: 'eu', holidays: 'ES', timeZone: 'Atlantic/Canary' },
  );
  assert.equal(Object.isFrozen(england), true);
});

test('calendarRules: refuses an EU calendar without a country, an unknown region or an unknown zone', () => {
  assert.throws(() => calendarRules({ jurisdiction: 'eu' }), /set controller\.country/);
  assert.throws(() => calendarRules({ jurisdiction: 'eu', country: 'US' }), /No default time zone for country US/);
  assert.throws(() => calendarRules({ jurisdiction: 'uk', holidays: 'GB-XYZ' }), /GB has no state "XYZ"/);
  assert.throws(() => calendarRules({ jurisdiction: 'uk', holidays: 'QQ' }), /Unknown holiday region "QQ"/);
  assert.throws(() => calendarRules({ jurisdiction: 'uk', timeZone: 'Europe/Londn' }), /Unknown time zone "Europe\/Londn"/);
});

test('an ordinary request is due on the same date next month', () => {
  assert.deepEqual(dueDate(england, { relevantDate: '2025-09-03' }), {
    due: '2025-10-03',
    unadjusted: '2025-10-03',
    pausedDays: 0,
    extensionNoticeBy: '2025-10-03',
  });
});

test('a date the next month lacks falls back to its last day', () => {
  const jan31 = dueDate(england, { relevantDate: '2027-01-31' });
  assert.equal(jan31.unadjusted, '2027-02-28');
  assert.equal(jan31.due, '2027-03-01'); // 28 Feb 2027 is a Sunday
  assert.equal(due(england, '2028-01-31'), '2028-02-29'); // leap year, a Tuesday
  assert.equal(due(england, '2026-03-31'), '2026-04-30');
  assert.equal(due(england, '2025-01-30'), '2025-02-28'); // not 2 March
});

test('a deadline on a Saturday or a Sunday moves to the Monday', () => {
  const saturday = dueDate(england, { relevantDate: '2026-09-03' });
  assert.equal(saturday.unadjusted, '2026-10-03');
  assert.equal(saturday.due, '2026-10-05');
  assert.equal(due(england, '2026-09-04'), '2026-10-05'); // 4 Oct 2026 is a Sunday
});

test('England and Wales: Christmas 2026 and its substitute Boxing Day (Mon 28 Dec) are not working days', () => {
  assert.equal(due(england, '2026-11-25'), '2026-12-29'); // Fri 25 Dec, weekend, Mon 28 Dec substitute
  assert.equal(due(england, '2026-11-28'), '2026-12-29');
  assert.equal(isWorkingDay(england, '2026-12-28'), false);
  assert.equal(isWorkingDay(england, '2026-12-29'), true);
});

test('England and Wales: Good Friday (26 Mar), Easter Monday (29 Mar) and early May (3 May) 2027', () => {
  assert.equal(due(england, '2027-02-26'), '2027-03-30'); // Good Friday, the Easter weekend, Easter Monday
  assert.equal(isWorkingDay(england, '2027-03-29'), false);
  assert.equal(due(england, '2027-01-29', 1), '2027-03-30'); // unadjusted: Easter Monday itself
  assert.equal(due(england, '2027-04-03'), '2027-05-04');
});

test('Scotland: 2 January moves a GB-SCT deadline but not a GB-ENG one, and Easter Monday is not a Scottish holiday', () => {
  assert.equal(due(scotland, '2025-12-02'), '2026-01-05');
  assert.equal(due(england, '2025-12-02'), '2026-01-02');
  assert.equal(due(scotland, '2027-01-29', 1), '2027-03-29');
});

test('Germany: the Day of German Unity (3 Oct) moves a DE deadline', () => {
  assert.equal(due(germany, '2025-09-03'), '2025-10-06'); // Fri 3 Oct 2025, then the weekend
  assert.equal(due(england, '2025-09-03'), '2025-10-03');
});

test('Bavaria: Epiphany (6 Jan) is a holiday in DE-BY, not in Berlin', () => {
  assert.equal(due(bavaria, '2026-12-06'), '2027-01-07');
  assert.equal(due(berlin, '2026-12-06'), '2027-01-06');
  assert.equal(due(germany, '2026-12-06'), '2027-01-06');
});

test('days that are not public holidays in law do not move a deadline', () => {
  // Christmas Eve is a working morning in Germany (a half-day "bank" entry in the library).
  assert.equal(due(germany, '2027-11-24'), '2027-12-24');
  // Good Friday is a bank closure in Ireland, not a public holiday (Organisation of Working Time Act 1997, Sch. 2).
  assert.equal(due(ireland, '2027-02-26'), '2027-03-26');
  // Iceland's Christmas Eve is a holiday from 13:00 only: the morning is a working one.
  assert.equal(due(calendarRules({ jurisdiction: 'eu', country: 'IS' }), '2027-11-24'), '2027-12-24');
  // Mother's Day and other observances are Sundays anyway; Shrove Tuesday is an ordinary working day.
  assert.equal(isWorkingDay(germany, '2027-02-09'), true);
});

test('a holiday of two days: Romania keeps 1 and 2 January (Labour Code, Art. 139)', () => {
  assert.equal(due(calendarRules({ jurisdiction: 'eu', country: 'RO' }), '2025-12-02'), '2026-01-05');
});

test('nextWorkingDay returns a working day itself, else the first one after it', () => {
  assert.equal(nextWorkingDay(england, '2026-12-24'), '2026-12-24');
  assert.equal(nextWorkingDay(england, '2026-12-25'), '2026-12-29');
  assert.equal(nextWorkingDay(germany, '2026-12-25'), '2026-12-28'); // Germany has no substitute days
});

test('UK clarification pause: five paused days, both ends included, move the deadline by five days', () => {
  assert.deepEqual(dueDate(england, { relevantDate: '2026-03-02', pauses: [{ from: '2026-03-10', to: '2026-03-14' }] }), {
    due: '2026-04-07',
    unadjusted: '2026-04-07',
    pausedDays: 5,
    extensionNoticeBy: '2026-04-07',
  });
  // A pause asked for and answered the same day still stops the clock for that day.
  assert.equal(dueDate(england, { relevantDate: '2026-03-02', pauses: [{ from: '2026-03-02', to: '2026-03-02' }] }).unadjusted, '2026-04-03');
});

test('UK clarification pause: two pauses add up, in any order', () => {
  const pauses = [
    { from: '2026-03-20', to: '2026-03-21' },
    { from: '2026-03-10', to: '2026-03-14' },
  ];
  const result = dueDate(england, { relevantDate: '2026-03-02', pauses });
  assert.equal(result.pausedDays, 7);
  assert.equal(result.due, '2026-04-09');
});

test('UK clarification pause: a pause after the first one moved the deadline counts, one after the deadline does not', () => {
  const later = dueDate(england, {
    relevantDate: '2026-03-02',
    pauses: [
      { from: '2026-03-10', to: '2026-03-14' },
      { from: '2026-04-06', to: '2026-04-08' }, // after 2 Apr, but before the moved deadline of 7 Apr
    ],
  });
  assert.equal(later.pausedDays, 8);
  assert.equal(later.due, '2026-04-10');
  const tooLate = dueDate(england, { relevantDate: '2026-03-02', pauses: [{ from: '2026-04-20', to: '2026-04-21' }] });
  assert.equal(tooLate.pausedDays, 0);
  assert.equal(tooLate.due, '2026-04-02');
});

test('pauses that cannot be counted are refused', () => {
  const refused = (rules: CalendarRules, pauses: { from: string; to: string | null }[], message: RegExp): void => {
    assert.throws(
      () => dueDate(rules, { relevantDate: '2026-03-02', pauses }),
      (error: unknown) => error instanceof RangeError && message.test(error.message),
    );
  };
  refused(germany, [{ from: '2026-03-10', to: '2026-03-14' }], /EU GDPR requests have no clarification pause/);
  refused(england, [{ from: '2026-03-01', to: '2026-03-05' }], /before the relevant date/);
  refused(england, [{ from: '2026-03-10', to: null }], /still open/);
  refused(england, [{ from: '2026-03-10', to: '2026-03-09' }], /ends \(2026-03-09\) before it starts/);
  refused(
    england,
    [
      { from: '2026-03-10', to: '2026-03-14' },
      { from: '2026-03-14', to: '2026-03-16' },
    ],
    /pauses overlap/,
  );
  assert.throws(
    () => dueDate(england, { relevantDate: '2026-01-20', pauses: [{ from: '2026-02-04', to: '2026-02-06' }] }),
    /before the DUAA pause came into force/,
  );
  // An EU request with no pauses recorded is fine.
  assert.equal(dueDate(germany, { relevantDate: '2026-03-02', pauses: [] }).due, '2026-04-02');
});

test('malformed dates and extensions are refused', () => {
  for (const relevantDate of ['2026-02-30', '2026-2-3', '03/02/2026', '2026-13-01', '']) {
    assert.throws(() => dueDate(england, { relevantDate }), RangeError, relevantDate);
  }
  assert.throws(() => dueDate(england, { relevantDate: '2026-03-02', extensionMonths: 3 as number as 2 }), /extensionMonths must be 0, 1 or 2/);
  assert.throws(() => isWorkingDay(england, '2026-06-31'), RangeError);
  assert.throws(() => dueStatus('2026-04-02', 'yesterday'), RangeError);
});

test('an extension by two months counts three months from the relevant date, with the month-end rule', () => {
  const result = dueDate(england, { relevantDate: '2027-01-31', extensionMonths: 2 });
  assert.equal(result.unadjusted, '2027-04-30'); // not 28 Apr (28 Feb + 2 months)
  assert.equal(result.due, '2027-04-30');
  assert.equal(result.extensionNoticeBy, '2027-03-01'); // 28 Feb 2027 is a Sunday
  assert.equal(due(england, '2026-11-30', 2), '2027-03-01'); // 28 Feb 2027, a Sunday
  assert.equal(due(england, '2026-03-02', 1), '2026-05-05'); // Sat 2 May, Mon 4 May early May bank holiday
});

test('extensionNoticeBy: the un-extended deadline, moved by pauses within the first month only', () => {
  const inFirstMonth = dueDate(england, { relevantDate: '2026-03-02', extensionMonths: 1, pauses: [{ from: '2026-03-10', to: '2026-03-14' }] });
  assert.equal(inFirstMonth.due, '2026-05-07');
  assert.equal(inFirstMonth.extensionNoticeBy, '2026-04-07');
  const inExtension = dueDate(england, { relevantDate: '2026-03-02', extensionMonths: 1, pauses: [{ from: '2026-04-20', to: '2026-04-24' }] });
  assert.equal(inExtension.due, '2026-05-07');
  assert.equal(inExtension.pausedDays, 5);
  assert.equal(inExtension.extensionNoticeBy, '2026-04-02');
});

test('localDate: the calendar date in the controller zone, across midnight in summer and winter', () => {
  assert.equal(localDate(england, new Date('2026-06-30T23:30:00Z')), '2026-07-01'); // BST, UTC+1
  assert.equal(localDate(england, new Date('2026-06-30T22:59:59Z')), '2026-06-30');
  assert.equal(localDate(england, new Date('2026-12-31T23:30:00Z')), '2026-12-31'); // GMT
  assert.equal(localDate(germany, new Date('2026-06-30T22:30:00Z')), '2026-07-01'); // CEST, UTC+2
  assert.equal(localDate(germany, new Date('2026-06-30T21:59:59Z')), '2026-06-30');
  assert.equal(localDate(germany, new Date('2026-12-31T23:30:00Z')), '2027-01-01'); // CET, UTC+1
  assert.throws(() => localDate(england, new Date('not a date')), RangeError);
});

test('dueStatus: calendar days left and the flag', () => {
  assert.deepEqual(dueStatus('2026-04-02', '2026-04-03'), { daysLeft: -1, flag: 'overdue' });
  assert.deepEqual(dueStatus('2026-04-02', '2026-04-02'), { daysLeft: 0, flag: 'due-soon' });
  assert.deepEqual(dueStatus('2026-04-02', '2026-03-26'), { daysLeft: 7, flag: 'due-soon' });
  assert.deepEqual(dueStatus('2026-04-02', '2026-03-25'), { daysLeft: 8, flag: 'on-time' });
  assert.deepEqual(dueStatus('2026-03-30', '2026-03-28'), { daysLeft: 2, flag: 'due-soon' }); // across the clocks going forward
  assert.deepEqual(dueStatus('2027-01-04', '2026-11-20'), { daysLeft: 45, flag: 'on-time' });
});

// date-fns is the oracle for month arithmetic here: an independent implementation of the same month-end rule.
const iso = (date: Date): string => format(date, 'yyyy-MM-dd');
const fromIso = (date: string): Date => new Date(Number(date.slice(0, 4)), Number(date.slice(5, 7)) - 1, Number(date.slice(8, 10)));

test('property: from 2025 to 2035, the due date is the first working day on or after the month(s) later', () => {
  const regions = [
    england,
    scotland,
    calendarRules({ jurisdiction: 'uk', holidays: 'GB-NIR' }),
    germany,
    bavaria,
    ireland,
    calendarRules({ jurisdiction: 'eu', country: 'FR' }),
  ];
  const first = new Date(2025, 0, 1);
  const span = differenceInCalendarDays(new Date(2035, 11, 31), first);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: span }),
      fc.constantFrom(0 as const, 1 as const, 2 as const),
      fc.constantFrom(...regions),
      (offset, extension, rules) => {
        const relevantDate = iso(addDays(first, offset));
        const result = dueDate(rules, { relevantDate, extensionMonths: extension });
        const monthsLater = addMonths(fromIso(relevantDate), 1 + extension);
        assert.equal(result.unadjusted, iso(monthsLater));
        const dueDay = fromIso(result.due);
        assert.equal(isWeekend(dueDay), false);
        assert.equal(isWorkingDay(rules, result.due), true);
        assert.ok(differenceInCalendarDays(dueDay, fromIso(relevantDate)) > 0);
        const moved = differenceInCalendarDays(dueDay, monthsLater);
        assert.ok(moved >= 0 && moved <= 10, `${relevantDate} +${1 + extension} months moved ${moved} days`);
        for (let day = 0; day < moved; day++) assert.equal(isWorkingDay(rules, iso(addDays(monthsLater, day))), false);
        assert.equal(result.extensionNoticeBy <= result.due, true);
      },
    ),
    { numRuns: 500 },
  );
});
