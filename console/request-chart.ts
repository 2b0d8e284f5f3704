// Open rights requests counted by the week they are due (weeks start on Monday), for the console queue's chart.
// Pure date arithmetic on calendar dates (YYYY-MM-DD); the page draws it as a table with CSS bars.

const DAY_MS = 86_400_000;
/** More weeks than this and the chart would be a scroll, not a glance: later weeks are counted in the last row. */
const MAX_WEEKS = 16;

export interface ChartWeek {
  /** The Monday the week starts, YYYY-MM-DD. */
  readonly start: string;
  readonly count: number;
  /** Bar length, 0-100, against the fullest week. */
  readonly percent: number;
  /** The week is over: what is due in it is overdue. */
  readonly past: boolean;
  /** This row also counts every later week. */
  readonly andLater: boolean;
}

function monday(date: string): number {
  const t = Date.parse(`${date}T00:00:00Z`);
  const weekday = (new Date(t).getUTCDay() + 6) % 7;
  return t - weekday * DAY_MS;
}

const iso = (t: number) => new Date(t).toISOString().slice(0, 10);

export function weeklyChart(dueDates: readonly string[], today: string): ChartWeek[] {
  if (dueDates.length === 0) return [];
  const starts = dueDates.map(monday);
  const first = Math.min(...starts);
  const last = Math.min(Math.max(...starts), first + (MAX_WEEKS - 1) * 7 * DAY_MS);
  const counts = new Map<number, number>();
  for (const s of starts) {
    const week = Math.min(s, last);
    counts.set(week, (counts.get(week) ?? 0) + 1);
  }
  const max = Math.max(...counts.values());
  const thisWeek = monday(today);
  const weeks: ChartWeek[] = [];
  for (let t = first; t <= last; t += 7 * DAY_MS) {
    const count = counts.get(t) ?? 0;
    weeks.push({
      start: iso(t),
      count,
      percent: Math.round((count / max) * 100),
      past: t < thisWeek,
      andLater: t === last && Math.max(...starts) > last,
    });
  }
  return weeks;
}
