// Consent rates per purpose over time, for the console's chart: per ISO week, of the choices made (given, refused,
// withdrawn, from the banner, forms and GPC alike), the share that gave consent.
import type { AppContext } from '../app/app-context.ts';
import { consentCountsByDay } from './consent-store.ts';

export interface RateWeek {
  /** Monday of the week, YYYY-MM-DD. */
  readonly week: string;
  readonly given: number;
  readonly choices: number;
  /** Given as a share of all choices, 0-100 (rounded). */
  readonly percent: number;
}

const DAY_MS = 86_400_000;
const monday = (day: string) => {
  const t = Date.parse(`${day}T00:00:00Z`);
  return new Date(t - ((new Date(t).getUTCDay() + 6) % 7) * DAY_MS).toISOString().slice(0, 10);
};

/** Per purpose (sorted), the last `weeks` weeks up to now, oldest first; weeks without choices are left out. */
export async function consentRates(deps: Pick<AppContext, 'db' | 'clock'>, weeks = 12): Promise<{ purpose: string; weeks: RateWeek[] }[]> {
  const now = deps.clock.now();
  const from = new Date(Date.parse(monday(now.toISOString().slice(0, 10))) - (weeks - 1) * 7 * DAY_MS);
  const rows = await consentCountsByDay(deps.db.kysely, from, new Date(now.getTime() + 1));
  const byPurpose = new Map<string, Map<string, { given: number; choices: number }>>();
  for (const r of rows) {
    const weeksOf = byPurpose.get(r.purpose) ?? new Map<string, { given: number; choices: number }>();
    byPurpose.set(r.purpose, weeksOf);
    const w = weeksOf.get(monday(r.day)) ?? { given: 0, choices: 0 };
    weeksOf.set(monday(r.day), { given: w.given + (r.state === 'given' ? r.n : 0), choices: w.choices + r.n });
  }
  return [...byPurpose.keys()].sort().map((purpose) => ({
    purpose,
    weeks: [...byPurpose.get(purpose)!]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([week, c]) => ({ week, ...c, percent: c.choices === 0 ? 0 : Math.round((c.given / c.choices) * 100) })),
  }));
}
