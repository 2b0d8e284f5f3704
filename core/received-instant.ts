import { CustodianError } from './errors.ts';

/**
 * When something staff record happened: an instant, or a bare date (YYYY-MM-DD) taken as noon UTC, the same
 * calendar date in every European zone (today's date: now). Never in the future.
 */
export function receivedInstant(value: string, now: Date): Date {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    if (value > now.toISOString().slice(0, 10)) throw new CustodianError('invalid_body', 'the date is in the future');
    const noon = new Date(`${value}T12:00:00Z`);
    if (Number.isNaN(noon.getTime())) throw new CustodianError('invalid_body', 'not a date');
    return noon.getTime() > now.getTime() ? now : noon;
  }
  const at = new Date(value);
  if (Number.isNaN(at.getTime())) throw new CustodianError('invalid_body', 'not a date');
  if (at.getTime() > now.getTime() + 60_000) throw new CustodianError('invalid_body', 'the date is in the future');
  return at;
}
