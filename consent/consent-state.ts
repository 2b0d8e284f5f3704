// What a visitor or a person has agreed to now, derived from the ledger: the latest event per purpose (and per
// marketing channel), a given consent whose consent-lasts ran out, or a pending one never confirmed in time, being
// expired.
import type { AppContext } from '../app/app-context.ts';
import { CustodianError } from '../core/errors.ts';
import { isUuid } from '../core/ids.ts';
import { type ConsentHolder, eventsOf, latestEventsOf, type LedgerEvent } from './consent-store.ts';
import type { People } from './people.ts';
import type { ConsentMethod, ConsentState } from './tables.ts';

type StateDeps = Pick<AppContext, 'db' | 'clock'>;

export interface PurposeState {
  readonly state: ConsentState;
  readonly method: ConsentMethod;
  /** When this state began (an expired consent: when it lapsed). */
  readonly since: string;
  readonly expiresAt: string | null;
  readonly receiptId: string;
  readonly noticeFingerprint: string;
  /** Per marketing channel, where choices were made per channel. */
  readonly channels?: Readonly<Record<string, Omit<PurposeState, 'channels'>>>;
}

export interface CurrentConsent {
  readonly id: string;
  readonly kind: 'visitor' | 'subject';
  readonly purposes: Readonly<Record<string, PurposeState>>;
}

/** A visitor id or a Custodian id: the person (with everyone merged into them) when one has that id, else the visitor. */
async function holderOf(deps: StateDeps, people: People, id: string): Promise<{ kind: 'visitor' | 'subject'; holder: ConsentHolder }> {
  if (isUuid(id)) {
    const subjectId = id.toLowerCase();
    const holder = await people.holder(deps.db.kysely, subjectId);
    if (holder) return { kind: 'subject', holder: { subjectIds: await people.family(deps.db.kysely, holder) } };
  }
  return { kind: 'visitor', holder: { visitorId: id } };
}

export function stateOf(e: LedgerEvent, now: Date): Omit<PurposeState, 'channels'> {
  // A consent past its consent-lasts, and email consent from a form never confirmed from the mailbox in time.
  const lapsed = (e.state === 'given' || e.state === 'pending') && e.expiresAt !== null && e.expiresAt <= now;
  return {
    state: lapsed ? 'expired' : e.state,
    method: e.method,
    since: (lapsed ? e.expiresAt! : e.at).toISOString(),
    expiresAt: e.expiresAt?.toISOString() ?? null,
    receiptId: e.receiptId,
    noticeFingerprint: e.noticeFingerprint,
  };
}

/** The current state per purpose; `not_found` when the ledger holds nothing for that id. */
export async function currentConsent(deps: StateDeps, people: People, id: string): Promise<CurrentConsent> {
  const { kind, holder } = await holderOf(deps, people, id);
  const latest = await latestEventsOf(deps.db.kysely, holder);
  if (latest.length === 0) throw new CustodianError('not_found', 'no consent is recorded for that id');
  return { id, kind, purposes: summarise(latest, deps.clock.now()) };
}

/** Every event for that id, oldest first (the proof export). */
export async function consentHistory(deps: StateDeps, people: People, id: string): Promise<{ kind: 'visitor' | 'subject'; events: LedgerEvent[] }> {
  const { kind, holder } = await holderOf(deps, people, id);
  return { kind, events: await eventsOf(deps.db.kysely, holder) };
}

function summarise(latest: readonly LedgerEvent[], now: Date): Record<string, PurposeState> {
  const out: Record<string, PurposeState> = {};
  const byPurpose = Map.groupBy(latest, (e) => e.purpose);
  for (const [purpose, events] of [...byPurpose].sort(([a], [b]) => a.localeCompare(b))) {
    const whole = events.find((e) => e.channel === null);
    const perChannel = events.filter((e) => e.channel !== null);
    const newest = [...events].sort((a, b) => b.at.getTime() - a.at.getTime())[0]!;
    const base = stateOf(whole ?? newest, now);
    out[purpose] = perChannel.length === 0 ? base : { ...base, channels: Object.fromEntries(perChannel.map((e) => [e.channel!, stateOf(e, now)])) };
  }
  return out;
}
