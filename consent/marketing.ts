// Marketing preferences, honoured. Whether a person may be sent a purpose's marketing on a channel follows the
// register's PECR rule for that channel and the ledger:
// - opt-in (email, SMS, phone, automated calls): only with a consent given for that purpose (and channel, where it was
//   given per channel), not expired; an email consent given on a public form is pending until confirmed from that
//   mailbox (a later event with method email-link, consent/email-consent.ts), so nobody can sign someone else's
//   address up;
// - soft opt-in (email, SMS): only with a record of the sale the contact details came with (a `soft-opt-in` event:
//   a form the register names as a sale, its refusal box left unticked, register/soft-opt-in.ts), and never after
//   an objection, refusal or withdrawal, whenever made: a later sale does not undo an objection;
// - opt-out (post, live calls): unless objected to or refused.
// And never when one of the person's identifiers is on the suppression list for that channel (or every channel): a
// keyed hash that survives their erasure, so an unsubscribed, objecting or erased person is never contacted again.
import type { Kysely } from 'kysely';
import type { AppContext } from '../app/app-context.ts';
import type { Tables } from '../db/tables.ts';
import { HashKeys } from '../crypto/hash-key.ts';
import type { Keyring } from '../crypto/keyring.ts';
import type { Register } from '../register/load-register.ts';
import { eventsOf, type LedgerEvent } from './consent-store.ts';
import type { People } from './people.ts';
import { insertSuppressions, isSuppressed, type SuppressionEntry } from './suppression-store.ts';
import type { SuppressionChannel, SuppressionReason } from './tables.ts';

/** The name of the suppression list's hash secret (crypto/hash-key.ts). */
const SUPPRESSION_KEY = 'marketing-suppression';
/** Identifier kinds someone is contacted by. */
const CONTACT_KINDS = new Set(['email', 'phone']);

const hashKeysOf = new WeakMap<Keyring, HashKeys>();
function hashKeys(keyring: Keyring): HashKeys {
  let h = hashKeysOf.get(keyring);
  if (!h) hashKeysOf.set(keyring, (h = new HashKeys(keyring)));
  return h;
}

type MarketingDeps = Pick<AppContext, 'db' | 'register' | 'clock' | 'subjectKeys' | 'auditor'>;

/** The keyed hash of an identifier (`email`, `phone`), normalised as stored. */
export function contactHash(deps: Pick<MarketingDeps, 'subjectKeys' | 'clock'>, db: Kysely<Tables>, kind: string, value: string): Promise<Buffer> {
  return hashKeys(deps.subjectKeys.keyring).hash(db, SUPPRESSION_KEY, `${kind}:${value}`, deps.clock.now());
}

/** The keyed hashes of the contact points (email, phone) among these identifiers (kind, normalised value). */
export function contactHashesAmong(
  deps: Pick<MarketingDeps, 'subjectKeys' | 'clock'>,
  ex: Kysely<Tables>,
  identifiers: readonly { kind: string; value: string }[],
): Promise<Buffer[]> {
  return Promise.all(identifiers.filter((i) => CONTACT_KINDS.has(i.kind)).map((i) => contactHash(deps, ex, i.kind, i.value)));
}

async function contactHashesOf(deps: MarketingDeps, people: People, ex: Kysely<Tables>, subjectId: string): Promise<Buffer[]> {
  return contactHashesAmong(deps, ex, await people.identifiers(ex, subjectId));
}

/** Puts identifiers (already hashed) on the suppression list for these channels; audited. */
export async function suppressHashes(
  deps: MarketingDeps,
  ex: Kysely<Tables>,
  input: { hashes: readonly Uint8Array[]; channels: readonly SuppressionChannel[]; reason: SuppressionReason; subjectId: string | null; actor: string },
): Promise<number> {
  const entries: SuppressionEntry[] = input.hashes.flatMap((hash) => input.channels.map((channel) => ({ hash, channel })));
  return insertSuppressions(ex, deps.auditor, { entries, reason: input.reason, subjectId: input.subjectId, actor: input.actor, now: deps.clock.now() });
}

/**
 * The marketing this person objected to, refused or withdrew, as suppression entries for their contact identifiers:
 * every channel of a purpose refused as a whole, the one channel where it was per channel; on erasure, every channel
 * for anyone who was on a marketing list. Called on an objection and before an erasure deletes the identifiers, in the
 * caller's transaction. Returns how many entries were new.
 */
export async function suppressRefusedMarketing(
  deps: MarketingDeps,
  people: People,
  ex: Kysely<Tables>,
  input: { subjectId: string; reason: SuppressionReason; actor: string; purposes?: readonly string[] },
): Promise<number> {
  const family = await people.family(ex, input.subjectId);
  const latest = latestPerPurposeChannel(await eventsOf(ex, { subjectIds: family }));
  const channels = new Set<SuppressionChannel>();
  for (const e of latest) {
    const purpose = deps.register.purposes[e.purpose];
    if (!purpose?.channels || !['objected', 'refused', 'withdrawn'].includes(e.state)) continue;
    channels.add(e.channel === null ? '*' : (e.channel as SuppressionChannel));
  }
  for (const p of input.purposes ?? []) if (deps.register.purposes[p]?.channels) channels.add('*');
  // Erased: anyone who was on a marketing list is never contacted again, whatever they chose before.
  if (input.reason === 'erased') {
    const marketing = (p: string) => deps.register.purposes[p]?.channels !== undefined;
    if (latest.some((e) => marketing(e.purpose)) || (await people.recordPurposes(ex, input.subjectId)).some(marketing)) channels.add('*');
  }
  if (channels.size === 0) return 0;
  const hashes = await contactHashesOf(deps, people, ex, input.subjectId);
  if (hashes.length === 0) return 0;
  return suppressHashes(deps, ex, { hashes, channels: [...channels].sort(), reason: input.reason, subjectId: input.subjectId, actor: input.actor });
}

/**
 * The channels an objection recorded with a submission (a form's objection box, or a Global Privacy Control signal)
 * puts the person's contact points on the suppression list for: the objection's channel, else every channel its
 * purpose declares; never a channel the same submission ticks a consent box for (the tick is a specific act, GPC a
 * general signal). Purposes that are not marketing (no channels) suppress nothing.
 */
export function objectionChannels(
  register: Register,
  objections: readonly { purpose: string; channel: string | null }[],
  consents: readonly { purpose: string; channel: string | null }[],
): SuppressionChannel[] {
  const declared = (purpose: string, channel: string | null) => (channel !== null ? [channel] : Object.keys(register.purposes[purpose]?.channels ?? {}));
  const ticked = new Set(consents.flatMap((c) => declared(c.purpose, c.channel)));
  const out = new Set<SuppressionChannel>();
  for (const o of objections) {
    if (!register.purposes[o.purpose]?.channels) continue;
    for (const channel of declared(o.purpose, o.channel)) if (!ticked.has(channel)) out.add(channel as SuppressionChannel);
  }
  return [...out].sort();
}

export interface MarketingVerdict {
  readonly allowed: boolean;
  /** Why not (or on what): a code. */
  readonly reason:
    | 'consent'
    | 'soft-opt-in'
    | 'opt-out'
    | 'channel-not-declared'
    | 'no-consent'
    | 'consent-unconfirmed'
    | 'consent-expired'
    | 'no-sale-context'
    | 'objected'
    | 'refused'
    | 'withdrawn'
    | 'suppressed';
}

/** May this person be sent this purpose's marketing on this channel now? */
export async function mayMarket(
  deps: MarketingDeps,
  people: People,
  input: { subjectId: string; purpose: string; channel: string },
): Promise<MarketingVerdict> {
  const rule = deps.register.purposes[input.purpose]?.channels?.[input.channel as keyof NonNullable<Register['purposes'][string]['channels']>];
  if (!rule) return { allowed: false, reason: 'channel-not-declared' };
  const ex = deps.db.kysely;
  const family = await people.family(ex, input.subjectId);
  const events = (await eventsOf(ex, { subjectIds: family })).filter((e) => e.purpose === input.purpose && (e.channel === null || e.channel === input.channel));
  const latest = events.at(-1);
  // Their own word first (an objection also suppresses their contact points); then the list, which outlives people.
  if (latest && (latest.state === 'objected' || latest.state === 'refused' || latest.state === 'withdrawn')) return { allowed: false, reason: latest.state };
  if (await isSuppressed(ex, await contactHashesOf(deps, people, ex, input.subjectId), input.channel)) return { allowed: false, reason: 'suppressed' };
  if (rule === 'opt-out') return { allowed: true, reason: 'opt-out' };
  if (rule === 'soft-opt-in') {
    const stop = events.findLast((e) => e.state === 'objected' || e.state === 'refused' || e.state === 'withdrawn');
    if (stop) return { allowed: false, reason: stop.state as 'objected' | 'refused' | 'withdrawn' };
    const sale = events.some((e) => e.state === 'soft-opt-in' && e.channel === input.channel);
    return sale ? { allowed: true, reason: 'soft-opt-in' } : { allowed: false, reason: 'no-sale-context' };
  }
  if (latest?.state === 'pending') return { allowed: false, reason: 'consent-unconfirmed' };
  if (latest?.state !== 'given') return { allowed: false, reason: 'no-consent' };
  if (latest.expiresAt && latest.expiresAt <= deps.clock.now()) return { allowed: false, reason: 'consent-expired' };
  // Given on a public form before such ticks were recorded as pending: no confirmation mail went out, so never confirmed.
  if (input.channel === 'email' && latest.method === 'form') return { allowed: false, reason: 'consent-unconfirmed' };
  return { allowed: true, reason: 'consent' };
}

function latestPerPurposeChannel(events: readonly LedgerEvent[]): LedgerEvent[] {
  const out = new Map<string, LedgerEvent>();
  for (const e of events) out.set(`${e.purpose}\u0000${e.channel ?? ''}`, e);
  return [...out.values()];
}
