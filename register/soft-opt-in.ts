// The soft opt-in (PECR reg. 22(3)): email or SMS marketing without consent, only to someone whose contact details were
// obtained in the course of a sale or negotiations for a sale (a collection point a purpose names under `soft-opt-in`),
// who was offered a simple way to refuse there (an objection box bound to the purpose and channel) and did not take it.
// `check` holds the declaration to that (rules/soft-opt-in.ts); subjects/collect records each one with its sale.
import type { RegisterData } from './schema.ts';
import { pickText } from './text.ts';

type Point = RegisterData['collection'][string];

/** Who a soft opt-in channel reaches by which identifier of theirs. */
export const CONTACT_OF: Readonly<Record<string, 'email' | 'phone'>> = Object.freeze({ email: 'email', sms: 'phone' });

/** The point's boxes that refuse this purpose's marketing on this channel (bound to it, or to every channel). */
export function refusalFields(point: Point, purpose: string, channel: string): string[] {
  return Object.keys(point.fields).filter((n) => {
    const f = point.fields[n]!;
    return f.objects === purpose && f.type === 'boolean' && (f.channel === undefined || f.channel === channel);
  });
}

/** The point's fields that collect the person's own contact for this channel (an email for email, a phone for SMS). */
export function contactFields(point: Point, channel: string): string[] {
  const kind = CONTACT_OF[channel];
  return Object.keys(point.fields).filter((n) => {
    const f = point.fields[n]!;
    return kind !== undefined && f.identifier === kind && (f.about === undefined || f.about === point.subject);
  });
}

export interface SoftOptIn {
  readonly purpose: string;
  readonly channel: string;
  /** The sale: `sale:<point>`, then `; <what is sold or negotiated>` where the register says. */
  readonly context: string;
}

/**
 * The soft opt-ins one submission of `pointKey` gives: for each purpose naming the point as a sale and each of its
 * soft opt-in channels, where the submission carries the person's contact for that channel and leaves every box
 * refusing it unticked. A point that offers no refusal gives none (`check` refuses that declaration).
 */
export function softOptInsOf(register: RegisterData, pointKey: string, value: (field: string) => unknown): SoftOptIn[] {
  const point = register.collection[pointKey];
  if (!point) return [];
  const out: SoftOptIn[] = [];
  for (const [purposeKey, purpose] of Object.entries(register.purposes)) {
    const sale = purpose['soft-opt-in']?.find((s) => s.point === pointKey);
    if (!sale) continue;
    for (const [channel, rule] of Object.entries(purpose.channels ?? {})) {
      if (rule !== 'soft-opt-in') continue;
      const refusals = refusalFields(point, purposeKey, channel);
      if (refusals.length === 0 || refusals.some((n) => value(n) === true)) continue;
      if (!contactFields(point, channel).some((n) => value(n) !== undefined)) continue;
      const what = pickText(sale.sale, register.notice.language);
      out.push({ purpose: purposeKey, channel, context: `sale:${pointKey}${what ? `; ${what}` : ''}` });
    }
  }
  return out;
}
